using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Telemetry.Contracts.Sentry;

namespace Telemetry.Grains.Sentry;

/// <summary>Why a message is not an event; the dead-letter store counts by these names.</summary>
public static class SentryRejections
{
    public const string NotJson = "not_json";
    public const string NotObject = "not_object";
    public const string EventId = "bad_event_id";
    public const string DateReceived = "bad_date_received";
    public const string Fingerprints = "bad_fingerprints";
    public const string Message = "bad_message";
    public const string Project = "bad_project";

    /// <summary>
    /// An event that parsed but could not be recorded in <c>Sentry:MaxReceiveCount</c> deliveries (a store
    /// failure particular to it): kept as a dead letter so that it cannot hold its queue forever.
    /// </summary>
    public const string RecordFailed = "record_failed";
}

/// <summary>An event, or the reason (one of <see cref="SentryRejections"/>) and a sentence saying what is wrong.</summary>
public sealed record SentryParseResult(SentryEvent? Event, string? Reason, string? Detail)
{
    public static SentryParseResult Bad(string reason, string detail) => new(null, reason, detail);
}

/// <summary>
/// Reads a Sentry event (docs/sentry.md, "Events"). Required: <c>eventID</c>, <c>dateReceived</c>
/// (ISO-8601, taken as UTC), <c>fingerprints</c> (a non-empty list of strings), <c>message</c>; a missing
/// or mistyped one makes the message bad. <c>project</c> is optional (default <c>default</c>) but must be a
/// string when present, since it is half of the identity. Everything else is read when present
/// and of a usable type, and ignored otherwise: a stray field never costs an event.
/// </summary>
public static class SentryEventParser
{
    public const int MaxIdLength = 200;
    public const int MaxFrames = 200;
    public const int MaxTags = 100;
    public const string DefaultProject = "default";

    public static SentryParseResult Parse(ReadOnlyMemory<byte> body)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            return SentryParseResult.Bad(SentryRejections.NotJson, $"the message is not JSON: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return SentryParseResult.Bad(SentryRejections.NotObject, $"the message is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");
            }
            if (Text(root, "eventID") is not { Length: > 0 and <= MaxIdLength } eventId)
            {
                return SentryParseResult.Bad(SentryRejections.EventId, $"eventID must be a string of 1-{MaxIdLength} characters");
            }
            if (Text(root, "dateReceived") is not { } date
                || !DateTimeOffset.TryParse(date, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var received))
            {
                return SentryParseResult.Bad(SentryRejections.DateReceived, "dateReceived must be an ISO-8601 time");
            }
            if (!root.TryGetProperty("fingerprints", out var fp) || fp.ValueKind != JsonValueKind.Array || fp.GetArrayLength() == 0
                || fp.EnumerateArray().Any(f => f.ValueKind != JsonValueKind.String))
            {
                return SentryParseResult.Bad(SentryRejections.Fingerprints, "fingerprints must be a non-empty list of strings");
            }
            if (Text(root, "message") is not { } message)
            {
                return SentryParseResult.Bad(SentryRejections.Message, "message must be a string");
            }
            string project = DefaultProject;
            if (root.TryGetProperty("project", out var p) && p.ValueKind != JsonValueKind.Null)
            {
                if (p.ValueKind != JsonValueKind.String || Clean(p.GetString()) is not { Length: > 0 and <= MaxIdLength } name)
                {
                    return SentryParseResult.Bad(SentryRejections.Project, $"project must be a string of 1-{MaxIdLength} characters when present");
                }
                project = name;
            }
            var (module, frames) = Exception(root);
            return new SentryParseResult(new SentryEvent
            {
                EventId = eventId,
                DateReceived = received,
                GroupId = Scalar(root, "groupID"),
                Fingerprints = [.. fp.EnumerateArray().Select(f => Clean(f.GetString())!)],
                Message = message,
                Project = project,
                Module = module,
                Frames = frames,
                Release = Scalar(root, "release"),
                Environment = Scalar(root, "environment"),
                UserId = root.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object ? Scalar(user, "id") : null,
                Tags = Tags(root),
                Level = Scalar(root, "level"),
                Platform = Scalar(root, "platform"),
            }, null, null);
        }
    }

    /// <summary>The first exception entry: its module and frames (from <c>data.values[0]</c>, or <c>data</c> itself).</summary>
    private static (string? Module, ImmutableArray<SentryFrame> Frames) Exception(JsonElement root)
    {
        if (!root.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return (null, []);
        }
        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object || Text(entry, "type") != "exception")
            {
                continue;
            }
            if (!entry.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
            {
                return (null, []);
            }
            var exception = data.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array
                ? values.EnumerateArray().FirstOrDefault()
                : data;
            if (exception.ValueKind != JsonValueKind.Object)
            {
                return (null, []);
            }
            var frames = ImmutableArray.CreateBuilder<SentryFrame>();
            if (exception.TryGetProperty("stacktrace", out var st) && st.ValueKind == JsonValueKind.Object
                && st.TryGetProperty("frames", out var fr) && fr.ValueKind == JsonValueKind.Array)
            {
                foreach (var f in fr.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.Object).Take(MaxFrames))
                {
                    frames.Add(new SentryFrame(Scalar(f, "function"), Scalar(f, "module"), Int(f, "lineNo"), Int(f, "colNo")));
                }
            }
            return (Scalar(exception, "module"), frames.ToImmutable());
        }
        return (null, []);
    }

    /// <summary>Tags as Sentry's serializers write them: an object, <c>[[key, value], ...]</c> or <c>[{"key","value"}, ...]</c>.</summary>
    private static ImmutableSortedDictionary<string, string> Tags(JsonElement root)
    {
        var tags = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (!root.TryGetProperty("tags", out var t))
        {
            return tags.ToImmutable();
        }
        void Put(string? key, string? value)
        {
            if (key is { Length: > 0 } && value is not null && tags.Count < MaxTags)
            {
                tags[key] = value;
            }
        }
        if (t.ValueKind == JsonValueKind.Object)
        {
            foreach (var prop in t.EnumerateObject())
            {
                Put(Clean(prop.Name), ScalarOf(prop.Value));
            }
        }
        else if (t.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in t.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2)
                {
                    Put(ScalarOf(item[0]), ScalarOf(item[1]));
                }
                else if (item.ValueKind == JsonValueKind.Object)
                {
                    Put(Scalar(item, "key"), Scalar(item, "value"));
                }
            }
        }
        return tags.ToImmutable();
    }

    private static string? Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? Clean(v.GetString()) : null;

    /// <summary>
    /// JSON may carry U+0000 (<c>\u0000</c>), which PostgreSQL text cannot hold: it becomes U+FFFD, the
    /// replacement character, so such an event is recorded (the same way on every delivery) instead of failing
    /// its store write on every redelivery.
    /// </summary>
    public static string? Clean(string? text) => text is null || !text.Contains('\0') ? text : text.Replace('\0', '\uFFFD');

    /// <summary>A string, or a number or boolean written as text (Sentry writes ids either way); null otherwise.</summary>
    private static string? Scalar(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? ScalarOf(v) : null;

    private static string? ScalarOf(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => Clean(v.GetString()),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static int? Int(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : null;
}
