using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Sentry;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Sentry;

/// <summary>
/// <c>/api/sentry</c>: the webhook input, the issues, their actions, the evaluation trigger and the dead letters
/// (docs/sentry.md, "HTTP"). JSON in snake_case.
/// </summary>
public static class SentryApi
{
    public const string SignatureHeader = "Sentry-Hook-Signature";
    public const int MaxEventBytes = 1024 * 1024;
    public const int MaxDays = 90;
    public const int MaxLimit = 500;

    public static IEndpointRouteBuilder MapSentryApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sentry").WithTags("Sentry errors");
        group.MapPost("/events", PostEvent)
            .WithSummary("A Sentry event (the same JSON as the SQS messages): 200 {\"recorded\":true|false}; a bad event 400 {\"reason\"} and dead-lettered; 401 without a valid Sentry-Hook-Signature when Sentry:WebhookSecret is set");
        group.MapGet("/issues", ListIssues).WithSummary("Issues by events, users or last_seen over the last days UTC days: ?project=&sort=events|users|last_seen&days=7&limit=50");
        group.MapGet("/issues/{project}/{fingerprint}", GetIssue).WithSummary("One issue (fingerprint URL-encoded): counts per day, users, releases, stack, alerts, state; 404 unknown");
        group.MapPost("/issues/{project}/{fingerprint}/actions", ActOnIssue).RequirePerson()
            .WithSummary("{\"action\":\"resolve|unresolve|mute|unmute|snooze|comment\",\"until\",\"comment\"}: recorded with who and when; answers the issue (409 when the state does not allow it)");
        group.MapPost("/evaluate", Evaluate).RequireAdmin().WithSummary("Admin: one evaluation round now (?dry_run=true records and sends nothing); the alerts it produced");
        group.MapGet("/dead-letters", DeadLetters).RequireAdmin().WithSummary("Admin: messages that were not events, newest first, with counts by reason: ?limit=100");
        group.MapGet("/consumer", ConsumerStatus).RequireAdmin()
            .WithSummary("Admin: this silo's SQS consumer: queue, messages deleted and kept for redelivery, failures in a row and the last one");
        group.MapGet("/evaluator", EvaluatorStatus).WithSummary("The rule evaluator's last completed round, its duration, and whether it is stalled");
        return app;
    }

    internal static async Task<IResult> PostEvent(HttpRequest request, SentryIngest ingest, IOptions<SentryOptions> options, CancellationToken ct)
    {
        if (request.ContentLength is > MaxEventBytes)
        {
            return TypedResults.Json(new { reason = "too_large", detail = $"the body is larger than {MaxEventBytes} bytes" }, ApiJson.Options, statusCode: 413);
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length > MaxEventBytes)
        {
            return TypedResults.Json(new { reason = "too_large", detail = $"the body is larger than {MaxEventBytes} bytes" }, ApiJson.Options, statusCode: 413);
        }
        var body = buffer.ToArray();
        if (options.Value.WebhookSecret is { Length: > 0 } secret && !SignatureValid(secret, body, request.Headers[SignatureHeader].ToString()))
        {
            return TypedResults.Json(new { reason = "bad_signature", detail = $"{SignatureHeader} must be the hex HMAC-SHA256 of the body with the webhook secret" }, ApiJson.Options, statusCode: 401);
        }
        var outcome = (await ingest.AcceptAsync([body], "http", ct))[0];
        return outcome.DeadLettered
            ? TypedResults.Json(new { reason = outcome.Reason, detail = outcome.Detail }, ApiJson.Options, statusCode: 400)
            : TypedResults.Json(new { recorded = outcome.Recorded }, ApiJson.Options);
    }

    /// <summary>The hex HMAC-SHA256 of the raw body, compared in constant time.</summary>
    public static bool SignatureValid(string secret, ReadOnlySpan<byte> body, string? signature)
    {
        if (string.IsNullOrWhiteSpace(signature))
        {
            return false;
        }
        byte[] expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature.Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    internal static async Task<IResult> ListIssues(HttpRequest request, ISentryStore store, IGrainFactory grains, TimeProvider clock, CancellationToken ct)
    {
        var q = request.Query;
        if (q.Keys.FirstOrDefault(k => k is not ("project" or "sort" or "days" or "limit")) is { } unknown)
        {
            return ApiJson.BadRequest($"unknown parameter {unknown}; allowed: project, sort, days, limit");
        }
        string sort = q.TryGetValue("sort", out var s) ? s.ToString() : SentrySorts.Events;
        if (Array.IndexOf(SentrySorts.All, sort) < 0)
        {
            return ApiJson.BadRequest($"sort must be one of {string.Join(", ", SentrySorts.All)}");
        }
        if (Whole(q, "days", 7, 1, MaxDays) is not { } days)
        {
            return ApiJson.BadRequest($"days must be a whole number from 1 to {MaxDays}");
        }
        if (Whole(q, "limit", 50, 1, MaxLimit) is not { } limit)
        {
            return ApiJson.BadRequest($"limit must be a whole number from 1 to {MaxLimit}");
        }
        string? project = q.TryGetValue("project", out var p) && p.ToString().Length > 0 ? p.ToString() : null;
        var today = SentryIssue.Today(clock.GetUtcNow());
        var rows = await store.ListAsync(project, today.AddDays(1 - days), today, sort, limit, ct);
        // The store sums users per day; the page shows each issue's distinct users over the range, from its grain.
        var views = await Task.WhenAll(rows.Select(r => grains.GetGrain<ISentryIssueGrain>(SentryIssueKey.Format(r.Project, r.Fingerprint)).Get(days)));
        var issues = views.OfType<SentryIssueView>();
        if (sort == SentrySorts.Users)
        {
            issues = issues.OrderByDescending(v => v.Users).ThenByDescending(v => v.LastSeen).ThenBy(v => v.Fingerprint, StringComparer.Ordinal);
        }
        return TypedResults.Json(new JsonObject { ["issues"] = new JsonArray(issues.Select(v => (JsonNode?)Summary(v)).ToArray()) });
    }

    internal static async Task<IResult> GetIssue(HttpContext http, IGrainFactory grains, CancellationToken ct)
    {
        if (IssueFromPath(http) is not var (project, fingerprint))
        {
            return ApiJson.NotFound("no such issue");
        }
        if (Whole(http.Request.Query, "days", 7, 1, MaxDays) is not { } days)
        {
            return ApiJson.BadRequest($"days must be a whole number from 1 to {MaxDays}");
        }
        var view = await grains.GetGrain<ISentryIssueGrain>(SentryIssueKey.Format(project, fingerprint)).Get(days);
        return view is null ? ApiJson.NotFound("no such issue") : TypedResults.Json(Detail(view));
    }

    internal static async Task<IResult> ActOnIssue(HttpContext http, IGrainFactory grains, CancellationToken ct)
    {
        if (IssueFromPath(http) is not var (project, fingerprint))
        {
            return ApiJson.NotFound("no such issue");
        }
        var (body, error) = await ApiJson.ReadObjectAsync(http.Request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        if (!b.TryGetProperty("action", out var a) || a.ValueKind != JsonValueKind.String)
        {
            return ApiJson.BadRequest("action is required: one of resolve, unresolve, mute, unmute, snooze, comment");
        }
        DateTimeOffset? until = null;
        if (b.TryGetProperty("until", out var u) && u.ValueKind != JsonValueKind.Null)
        {
            if (u.ValueKind != JsonValueKind.String || !DateTimeOffset.TryParse(u.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            {
                return ApiJson.BadRequest("until must be an ISO-8601 time");
            }
            until = t.ToUniversalTime();
        }
        string? comment = null;
        if (b.TryGetProperty("comment", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (c.ValueKind != JsonValueKind.String || c.GetString()!.Length > 2000)
            {
                return ApiJson.BadRequest("comment must be a string of at most 2000 characters");
            }
            comment = c.GetString();
        }
        var result = await grains.GetGrain<ISentryIssueGrain>(SentryIssueKey.Format(project, fingerprint))
            .Act(new SentryIssueAction { Action = a.GetString()!, Until = until, Comment = comment, By = http.Email() });
        if (result.NotFound)
        {
            return ApiJson.NotFound("no such issue");
        }
        if (result.Error is { } problem)
        {
            return problem.StartsWith("unknown action", StringComparison.Ordinal) || problem.StartsWith("snooze needs", StringComparison.Ordinal)
                || problem.StartsWith("comment needs", StringComparison.Ordinal)
                ? ApiJson.BadRequest(problem)
                : TypedResults.Json(new { error = problem }, ApiJson.Options, statusCode: 409);
        }
        return TypedResults.Json(Detail(result.Issue!));
    }

    internal static async Task<IResult> Evaluate(HttpRequest request, IGrainFactory grains)
    {
        bool dryRun = false;
        if (request.Query.TryGetValue("dry_run", out var d) && !bool.TryParse(d.ToString(), out dryRun))
        {
            return ApiJson.BadRequest("dry_run must be true or false");
        }
        var round = await grains.GetGrain<ISentryEvaluatorGrain>(0).Evaluate(dryRun);
        return TypedResults.Json(new JsonObject
        {
            ["dry_run"] = round.DryRun,
            ["at"] = Time(round.At),
            ["issues_examined"] = round.IssuesExamined,
            ["duration_ms"] = Math.Round(round.Duration.TotalMilliseconds, 1),
            ["alerts"] = new JsonArray(round.Alerts.Select(x => (JsonNode?)new JsonObject
            {
                ["rule"] = x.Rule,
                ["project"] = x.Project,
                ["fingerprint"] = x.Fingerprint,
                ["message"] = x.Message,
                ["events"] = x.Events,
                ["recipients"] = new JsonArray(x.Recipients.Select(r => (JsonNode?)r).ToArray()),
            }).ToArray()),
        });
    }

    internal static async Task<IResult> DeadLetters(HttpRequest request, ISentryStore store, CancellationToken ct)
    {
        if (Whole(request.Query, "limit", 100, 1, 1000) is not { } limit)
        {
            return ApiJson.BadRequest("limit must be a whole number from 1 to 1000");
        }
        var letters = await store.ListDeadLettersAsync(limit, ct);
        var counts = await store.DeadLetterCountsAsync(ct);
        var byReason = new JsonObject();
        foreach (var (reason, count) in counts)
        {
            byReason[reason] = count;
        }
        return TypedResults.Json(new JsonObject
        {
            ["dead_letters"] = new JsonArray(letters.Select(l => (JsonNode?)new JsonObject
            {
                ["id"] = l.Id,
                ["received_at"] = Time(l.ReceivedAt),
                ["source"] = l.Source,
                ["reason"] = l.Reason,
                ["body"] = l.Body,
            }).ToArray()),
            ["counts"] = byReason,
        });
    }

    internal static IResult ConsumerStatus(SqsConsumer consumer)
    {
        var s = consumer.Status();
        return TypedResults.Json(new JsonObject
        {
            ["enabled"] = s.Enabled,
            ["queue_name"] = s.QueueName,
            ["queue_url"] = s.QueueUrl,
            ["receive_loops"] = s.Loops,
            ["messages_deleted"] = s.Deleted,
            ["messages_kept"] = s.Kept,
            ["failures_in_a_row"] = s.FailuresInARow,
            ["last_error"] = s.LastError,
            ["last_error_at"] = s.LastErrorAt is { } e ? Time(e) : null,
            ["last_receive_at"] = s.LastReceiveAt is { } r ? Time(r) : null,
        });
    }

    internal static async Task<IResult> EvaluatorStatus(IGrainFactory grains, TimeProvider clock)
    {
        var s = await grains.GetGrain<ISentryEvaluatorGrain>(0).Status();
        var now = clock.GetUtcNow();
        // Stalled: no completed round for three periods and a minute (a reminder tick may be late by up to a period).
        bool stalled = s.LastCompletedAt is not { } last || now - last > TimeSpan.FromMinutes((3 * s.EvaluationMinutes) + 1);
        return TypedResults.Json(new JsonObject
        {
            ["last_completed_at"] = s.LastCompletedAt is { } at ? Time(at) : null,
            ["last_duration_ms"] = s.LastDuration is { } dur ? Math.Round(dur.TotalMilliseconds, 1) : null,
            ["rounds"] = s.Rounds,
            ["evaluation_minutes"] = s.EvaluationMinutes,
            ["stalled"] = stalled,
        });
    }

    /// <summary>An issue as the list shows it.</summary>
    public static JsonObject Summary(SentryIssueView v) => new()
    {
        ["project"] = v.Project,
        ["fingerprint"] = v.Fingerprint,
        ["message"] = v.Message,
        ["events"] = v.Events,
        ["users"] = v.Users,
        ["first_seen"] = Time(v.FirstSeen),
        ["last_seen"] = Time(v.LastSeen),
        ["state"] = v.State,
        ["snoozed_until"] = v.SnoozedUntil is { } until ? Time(until) : null,
        // Events per UTC day over the listed range, oldest first (the portal's sparkline).
        ["daily_events"] = new JsonArray(v.Days.Select(d => (JsonNode?)d.Events).ToArray()),
    };

    /// <summary>An issue with everything the detail route shows.</summary>
    public static JsonObject Detail(SentryIssueView v)
    {
        var o = Summary(v);
        o["group_id"] = v.GroupId;
        o["module"] = v.Module;
        o["stack_frames"] = new JsonArray(v.Frames.Select(f => (JsonNode?)new JsonObject
        {
            ["function"] = f.Function,
            ["module"] = f.Module,
            ["line"] = f.LineNo,
            ["column"] = f.ColNo,
        }).ToArray());
        o["days"] = new JsonArray(v.Days.Select(d => (JsonNode?)new JsonObject
        {
            ["date"] = d.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["events"] = d.Events,
            ["users"] = d.Users,
        }).ToArray());
        o["releases"] = new JsonArray(v.Releases.Select(r => (JsonNode?)new JsonObject { ["release"] = r.Release, ["first_seen"] = Time(r.FirstSeen) }).ToArray());
        o["alerts"] = new JsonArray(v.Alerts.Select(a => (JsonNode?)new JsonObject
        {
            ["rule"] = a.Rule,
            ["at"] = Time(a.At),
            ["recipients"] = new JsonArray(a.Recipients.Select(r => (JsonNode?)r).ToArray()),
        }).ToArray());
        o["history"] = new JsonArray(v.History.Select(h => (JsonNode?)new JsonObject
        {
            ["action"] = h.Action,
            ["by"] = h.By,
            ["at"] = Time(h.At),
            ["comment"] = h.Comment,
            ["until"] = h.Until is { } until ? Time(until) : null,
        }).ToArray());
        return o;
    }

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static int? Whole(IQueryCollection q, string name, int fallback, int min, int max)
    {
        if (!q.TryGetValue(name, out var v))
        {
            return fallback;
        }
        return int.TryParse(v.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max ? n : null;
    }

    /// <summary>
    /// Project and fingerprint from the raw request target, each URL-decoded once: a fingerprint may hold
    /// <c>/</c> (sent as <c>%2F</c>), which the router's own decoding leaves encoded.
    /// </summary>
    private static (string Project, string Fingerprint)? IssueFromPath(HttpContext http)
    {
        string raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? http.Request.Path.ToString();
        int query = raw.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            raw = raw[..query];
        }
        const string prefix = "/api/sentry/issues/";
        int at = raw.IndexOf(prefix, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }
        var segments = raw[(at + prefix.Length)..].Split('/');
        if (segments.Length < 2 || segments[0].Length == 0 || segments[1].Length == 0)
        {
            return null;
        }
        return (Uri.UnescapeDataString(segments[0]), Uri.UnescapeDataString(segments[1]));
    }
}
