using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Telemetry.Grains.Crash;

/// <summary>
/// The dimensions of a crash aggregate row (README, "Crash aggregates") and their canonical JSON form: one object,
/// keys sorted ordinally, only non-null values, every value a string with non-ASCII characters
/// (Unicode scalar values, so one per emoji) replaced by <c>?</c>, no whitespace. Values are
/// written with <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>: after the ASCII
/// replacement only <c>"</c>, <c>\</c> and control characters are escaped. Equal dimension sets
/// always give byte-identical text, so the text can be used as a row key.
/// </summary>
public static class CrashDimensions
{
    public const string Application = "application";
    public const string Architecture = "architecture";
    public const string BuildId = "build_id";
    public const string BuildVersion = "build_version";
    public const string Channel = "channel";
    public const string Country = "country";
    public const string E10sCohort = "e10s_cohort";
    public const string E10sEnabled = "e10s_enabled";
    public const string ExperimentBranch = "experiment_branch";
    public const string ExperimentId = "experiment_id";
    public const string GfxCompositor = "gfx_compositor";
    public const string OsName = "os_name";
    public const string OsVersion = "os_version";

    /// <summary>Every dimension name, in canonical (ordinal) order.</summary>
    public static readonly ImmutableArray<string> Names =
    [
        Application, Architecture, BuildId, BuildVersion, Channel, Country, E10sCohort, E10sEnabled,
        ExperimentBranch, ExperimentId, GfxCompositor, OsName, OsVersion,
    ];

    /// <summary>The country value when the header is missing or not two ASCII letters.</summary>
    public const string UnknownCountry = "??";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    static CrashDimensions()
    {
        for (int i = 1; i < Names.Length; i++)
        {
            if (string.CompareOrdinal(Names[i - 1], Names[i]) >= 0)
            {
                throw new InvalidOperationException("CrashDimensions.Names must be in ordinal order");
            }
        }
    }

    /// <summary>The canonical JSON of a dimension set (any order, any names; null values are left out).</summary>
    public static string ToCanonicalJson(IEnumerable<KeyValuePair<string, string?>> dimensions)
    {
        var pairs = dimensions.Where(kv => kv.Value is not null).ToArray();
        Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        for (int i = 1; i < pairs.Length; i++)
        {
            if (pairs[i - 1].Key == pairs[i].Key)
            {
                throw new ArgumentException($"dimension '{pairs[i].Key}' given twice", nameof(dimensions));
            }
        }
        var names = new string[pairs.Length];
        var values = new string?[pairs.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            names[i] = pairs[i].Key;
            values[i] = pairs[i].Value;
        }
        return Write(names, values);
    }

    /// <summary>Parses canonical (or any flat string-valued) dimensions JSON into a sorted dictionary.</summary>
    public static ImmutableSortedDictionary<string, string> Parse(string json)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            builder[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
        }
        return builder.ToImmutable();
    }

    /// <summary>
    /// Replaces every non-ASCII character (Unicode scalar value; invalid UTF-16 counts as one) and
    /// every control character (they would break grain keys) with <c>?</c>.
    /// </summary>
    public static string? ToAscii(string? value)
    {
        if (value is null || (Ascii.IsValid(value) && !value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') && !value.Contains('\u007f')))
        {
            return value;
        }
        var sb = new StringBuilder(value.Length);
        foreach (var rune in value.EnumerateRunes())
        {
            sb.Append(rune.IsAscii && !Rune.IsControl(rune) ? (char)rune.Value : '?');
        }
        return sb.ToString();
    }

    /// <summary>The <c>country</c> dimension of a header value: the value when it is two ASCII letters, else <c>??</c>.</summary>
    public static string CountryOf(string? header) =>
        header is { Length: 2 } && char.IsAsciiLetter(header[0]) && char.IsAsciiLetter(header[1]) ? header : UnknownCountry;

    public static string FormatDate(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Writes names (already in ordinal order, distinct) with their values, skipping nulls.</summary>
    internal static string Write(ReadOnlySpan<string> names, ReadOnlySpan<string?> values)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(512);
        buffer.ResetWrittenCount();
        var writer = t_writer;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(buffer, WriterOptions);
            t_writer = writer;
        }
        else
        {
            writer.Reset(buffer);
        }
        writer.WriteStartObject();
        for (int i = 0; i < names.Length; i++)
        {
            if (values[i] is { } v)
            {
                writer.WriteString(names[i], ToAscii(v));
            }
        }
        writer.WriteEndObject();
        writer.Flush();
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
