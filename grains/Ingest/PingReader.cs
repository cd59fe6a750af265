using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// Reads a classic (ver 1) or unified (version 4) ping in one forward pass with
/// <see cref="Utf8JsonReader"/>, collecting dimensions, declared histograms, scalars and simple
/// measurements without building an object model of the document.
/// </summary>
public static class PingReader
{
    public const int MaxDepth = 64;

    private static readonly JsonReaderOptions Options = new()
    {
        MaxDepth = MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>Parses <paramref name="json"/>; throws <see cref="PingFormatException"/> when it is not a JSON object.</summary>
    public static RawPing Read(ReadOnlySpan<byte> json) => Read(json, new RawPing());

    /// <summary>Parses <paramref name="json"/> into <paramref name="ping"/> (a fresh or rented one).</summary>
    /// <param name="scanHistograms">
    /// Histogram objects are read by <see cref="HistogramScanner"/> when they have the shape it reads
    /// (false: always by the general reader; tests compare the two).
    /// </param>
    internal static RawPing Read(ReadOnlySpan<byte> json, RawPing ping, bool scanHistograms = true)
    {
        // Utf8JsonReader does not check strings it skips; one vectorized pass rejects invalid UTF-8 anywhere.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new PingFormatException(PingRejection.BadJson, "the body is not valid UTF-8");
        }
        var src = new Source { Rest = json, ScanHistograms = scanHistograms };
        var reader = new Utf8JsonReader(json, isFinalBlock: true, state: new JsonReaderState(Options));
        try
        {
            if (!reader.Read())
            {
                throw new PingFormatException(PingRejection.BadJson, "empty JSON document");
            }
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new PingFormatException(PingRejection.BadJson, "the JSON document is not an object");
            }
            ReadRoot(ref reader, ref src, ping);
            if (reader.Read())
            {
                throw new PingFormatException(PingRejection.BadJson, "trailing data after the JSON object");
            }
        }
        catch (JsonException e)
        {
            throw new PingFormatException(PingRejection.BadJson, "malformed JSON: " + Truncate(e.Message));
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader reports invalid UTF-8 inside strings this way.
            throw new PingFormatException(PingRejection.BadJson, "malformed JSON: " + Truncate(e.Message));
        }
        return ping;
    }

    private static string Truncate(string s) => s.Length <= 160 ? s : s[..160];

    // The bytes the current reader reads (a reader resumed after a scanned histograms object reads
    // the rest of the document), and whether histogram objects may be scanned.
    private ref struct Source
    {
        public ReadOnlySpan<byte> Rest;
        public bool ScanHistograms;
    }

    // A reader over `rest` that continues as if it had just read the '}' closing the object whose
    // '{' `insideObject` was captured after: the same depth and container kinds, expecting ',' or a
    // closing bracket next.
    private static Utf8JsonReader ResumeAfterObject(ReadOnlySpan<byte> rest, JsonReaderState insideObject)
    {
        var close = new Utf8JsonReader("}"u8, isFinalBlock: false, insideObject);
        if (!close.Read() || close.TokenType != JsonTokenType.EndObject)
        {
            throw new InvalidOperationException("could not resume the JSON reader after a histograms object");
        }
        return new Utf8JsonReader(rest, isFinalBlock: true, close.CurrentState);
    }

    private static void ReadRoot(ref Utf8JsonReader r, ref Source src, RawPing ping)
    {
        while (NextProperty(ref r))
        {
            if (r.ValueTextEquals("ver"u8))
            {
                r.Read();
                ping.IsClassic = true;
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int v))
                {
                    ping.FormatVersion = v;
                }
            }
            else if (r.ValueTextEquals("version"u8))
            {
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int v))
                {
                    ping.FormatVersion = v;
                    ping.IsUnified = v >= 4;
                }
                else if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("type"u8))
            {
                ping.Type = ReadString(ref r);
            }
            else if (r.ValueTextEquals("info"u8))
            {
                if (ReadStartObject(ref r))
                {
                    ping.HasInfo = true;
                    ReadClassicInfo(ref r, ping);
                }
            }
            else if (r.ValueTextEquals("application"u8))
            {
                if (ReadStartObject(ref r))
                {
                    ping.HasApplication = true;
                    ReadApplication(ref r, ping);
                }
            }
            else if (r.ValueTextEquals("environment"u8))
            {
                if (ReadStartObject(ref r))
                {
                    ReadEnvironment(ref r, ping);
                }
            }
            else if (r.ValueTextEquals("payload"u8))
            {
                if (ReadStartObject(ref r))
                {
                    ping.HasPayload = true;
                    ReadPayload(ref r, ref src, ping);
                }
            }
            else if (r.ValueTextEquals("histograms"u8))
            {
                ReadHistograms(ref r, ref src, ping, ProcessKind.Parent, keyed: false);
            }
            else if (r.ValueTextEquals("keyedHistograms"u8))
            {
                ReadHistograms(ref r, ref src, ping, ProcessKind.Parent, keyed: true);
            }
            else if (r.ValueTextEquals("simpleMeasurements"u8))
            {
                ReadSimpleMeasures(ref r, ping, ProcessKind.Parent);
            }
            else if (r.ValueTextEquals("childPayloads"u8))
            {
                ReadChildPayloads(ref r, ref src, ping);
            }
            else
            {
                SkipValue(ref r);
            }
        }
    }

    private static void ReadClassicInfo(ref Utf8JsonReader r, RawPing ping)
    {
        while (NextProperty(ref r))
        {
            if (r.ValueTextEquals("reason"u8)) ping.Reason = ReadString(ref r);
            else if (r.ValueTextEquals("appName"u8)) ping.AppName = ReadString(ref r);
            else if (r.ValueTextEquals("appVersion"u8)) ping.AppVersion = ReadString(ref r);
            else if (r.ValueTextEquals("appUpdateChannel"u8)) ping.Channel = ReadString(ref r);
            else if (r.ValueTextEquals("appBuildID"u8)) ping.BuildId = ReadString(ref r);
            else if (r.ValueTextEquals("revision"u8)) ping.Revision = ReadString(ref r);
            else if (r.ValueTextEquals("OS"u8)) ping.OsName = ReadString(ref r);
            else if (r.ValueTextEquals("version"u8)) ping.OsVersion = ReadString(ref r);
            else if (r.ValueTextEquals("arch"u8)) ping.Architecture = ReadString(ref r);
            else SkipValue(ref r);
        }
    }

    private static void ReadApplication(ref Utf8JsonReader r, RawPing ping)
    {
        while (NextProperty(ref r))
        {
            if (r.ValueTextEquals("name"u8)) ping.AppName = ReadString(ref r);
            else if (r.ValueTextEquals("version"u8)) ping.AppVersion = ReadString(ref r);
            else if (r.ValueTextEquals("channel"u8)) ping.Channel = ReadString(ref r);
            else if (r.ValueTextEquals("buildId"u8)) ping.BuildId = ReadString(ref r);
            else if (r.ValueTextEquals("architecture"u8)) { var arch = ReadString(ref r); ping.Architecture ??= arch; }
            else SkipValue(ref r);
        }
    }

    private static void ReadEnvironment(ref Utf8JsonReader r, RawPing ping)
    {
        while (NextProperty(ref r))
        {
            if (r.ValueTextEquals("build"u8))
            {
                if (!ReadStartObject(ref r)) continue;
                while (NextProperty(ref r))
                {
                    if (r.ValueTextEquals("version"u8)) ping.BuildVersion = ReadString(ref r);
                    else if (r.ValueTextEquals("buildId"u8)) ping.EnvBuildId = ReadString(ref r);
                    else if (r.ValueTextEquals("architecture"u8)) ping.EnvArchitecture = ReadString(ref r);
                    else SkipValue(ref r);
                }
            }
            else if (r.ValueTextEquals("system"u8))
            {
                if (!ReadStartObject(ref r)) continue;
                while (NextProperty(ref r))
                {
                    if (r.ValueTextEquals("os"u8))
                    {
                        if (!ReadStartObject(ref r)) continue;
                        while (NextProperty(ref r))
                        {
                            if (r.ValueTextEquals("name"u8)) ping.OsName = ReadString(ref r);
                            else if (r.ValueTextEquals("version"u8)) ping.OsVersion = ReadString(ref r);
                            else SkipValue(ref r);
                        }
                    }
                    else if (r.ValueTextEquals("gfx"u8))
                    {
                        if (!ReadStartObject(ref r)) continue;
                        while (NextProperty(ref r))
                        {
                            if (!r.ValueTextEquals("features"u8))
                            {
                                SkipValue(ref r);
                                continue;
                            }
                            if (!ReadStartObject(ref r)) continue;
                            while (NextProperty(ref r))
                            {
                                if (r.ValueTextEquals("compositor"u8)) ping.GfxCompositor = ReadString(ref r);
                                else SkipValue(ref r);
                            }
                        }
                    }
                    else SkipValue(ref r);
                }
            }
            else if (r.ValueTextEquals("settings"u8))
            {
                if (!ReadStartObject(ref r)) continue;
                while (NextProperty(ref r))
                {
                    if (r.ValueTextEquals("e10sEnabled"u8))
                    {
                        r.Read();
                        ping.E10sEnabled = r.TokenType switch
                        {
                            JsonTokenType.True => true,
                            JsonTokenType.False => false,
                            _ => null,
                        };
                        if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
                    }
                    else if (r.ValueTextEquals("e10sCohort"u8)) ping.E10sCohort = ReadString(ref r);
                    else SkipValue(ref r);
                }
            }
            else if (r.ValueTextEquals("addons"u8))
            {
                if (!ReadStartObject(ref r)) continue;
                while (NextProperty(ref r))
                {
                    if (!r.ValueTextEquals("activeExperiment"u8))
                    {
                        SkipValue(ref r);
                        continue;
                    }
                    if (!ReadStartObject(ref r)) continue;
                    while (NextProperty(ref r))
                    {
                        if (r.ValueTextEquals("id"u8)) ping.ExperimentId = ReadString(ref r);
                        else if (r.ValueTextEquals("branch"u8)) ping.ExperimentBranch = ReadString(ref r);
                        else SkipValue(ref r);
                    }
                }
            }
            else
            {
                SkipValue(ref r);
            }
        }
    }

    private static void ReadPayload(ref Utf8JsonReader r, ref Source src, RawPing ping)
    {
        while (NextProperty(ref r))
        {
            if (r.ValueTextEquals("info"u8))
            {
                if (!ReadStartObject(ref r)) continue;
                while (NextProperty(ref r))
                {
                    if (r.ValueTextEquals("subsessionLength"u8))
                    {
                        r.Read();
                        ping.SubsessionLengthPresent = true;
                        if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long len))
                        {
                            ping.SubsessionLength = len;
                        }
                        else if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                        {
                            r.Skip();
                        }
                    }
                    else if (r.ValueTextEquals("subsessionStartDate"u8)) ping.SubsessionStartDate = ReadString(ref r);
                    else if (r.ValueTextEquals("reason"u8)) ping.Reason = ReadString(ref r);
                    else if (r.ValueTextEquals("revision"u8)) { var rev = ReadString(ref r); ping.Revision ??= rev; }
                    else SkipValue(ref r);
                }
            }
            else if (r.ValueTextEquals("histograms"u8)) ReadHistograms(ref r, ref src, ping, ProcessKind.Parent, keyed: false);
            else if (r.ValueTextEquals("keyedHistograms"u8)) ReadHistograms(ref r, ref src, ping, ProcessKind.Parent, keyed: true);
            else if (r.ValueTextEquals("simpleMeasurements"u8)) ReadSimpleMeasures(ref r, ping, ProcessKind.Parent);
            else if (r.ValueTextEquals("processes"u8)) ReadProcesses(ref r, ref src, ping);
            else if (r.ValueTextEquals("childPayloads"u8)) ReadChildPayloads(ref r, ref src, ping);
            else if (r.ValueTextEquals("crashDate"u8)) ping.CrashDate = ReadString(ref r);
            else if (r.ValueTextEquals("processType"u8)) ping.ProcessType = ReadString(ref r);
            else SkipValue(ref r);
        }
    }

    private static void ReadProcesses(ref Utf8JsonReader r, ref Source src, RawPing ping)
    {
        if (!ReadStartObject(ref r)) return;
        while (NextProperty(ref r))
        {
            ProcessKind? kind = r.ValueTextEquals("parent"u8) ? ProcessKind.Parent
                : r.ValueTextEquals("content"u8) ? ProcessKind.Content
                : r.ValueTextEquals("gpu"u8) ? ProcessKind.Gpu
                : null;
            if (kind is null || !ReadStartObject(ref r))
            {
                if (kind is null) SkipValue(ref r);
                continue;
            }
            while (NextProperty(ref r))
            {
                if (r.ValueTextEquals("histograms"u8)) ReadHistograms(ref r, ref src, ping, kind.Value, keyed: false);
                else if (r.ValueTextEquals("keyedHistograms"u8)) ReadHistograms(ref r, ref src, ping, kind.Value, keyed: true);
                else if (r.ValueTextEquals("scalars"u8)) ReadScalars(ref r, ping, kind.Value, keyed: false);
                else if (r.ValueTextEquals("keyedScalars"u8)) ReadScalars(ref r, ping, kind.Value, keyed: true);
                else SkipValue(ref r);
            }
        }
    }

    private static void ReadChildPayloads(ref Utf8JsonReader r, ref Source src, RawPing ping)
    {
        r.Read();
        if (r.TokenType != JsonTokenType.StartArray)
        {
            if (r.TokenType == JsonTokenType.StartObject) r.Skip();
            return;
        }
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.StartObject)
            {
                if (r.TokenType == JsonTokenType.StartArray) r.Skip();
                continue;
            }
            while (NextProperty(ref r))
            {
                if (r.ValueTextEquals("histograms"u8)) ReadHistograms(ref r, ref src, ping, ProcessKind.Content, keyed: false);
                else if (r.ValueTextEquals("keyedHistograms"u8)) ReadHistograms(ref r, ref src, ping, ProcessKind.Content, keyed: true);
                else SkipValue(ref r);
            }
        }
    }

    private static void ReadHistograms(ref Utf8JsonReader r, ref Source src, RawPing ping, ProcessKind process, bool keyed)
    {
        if (!ReadStartObject(ref r)) return;
        if (src.ScanHistograms
            && HistogramScanner.TryRead(src.Rest, (int)r.TokenStartIndex, ping, process, keyed, out int end))
        {
            src.Rest = src.Rest[end..];
            r = ResumeAfterObject(src.Rest, r.CurrentState);
            return;
        }
        while (NextProperty(ref r))
        {
            string name = NameTable.Get(r.ValueSpan);
            if (!keyed)
            {
                ReadHistogram(ref r, ping, name, "", process);
                continue;
            }
            if (!ReadStartObject(ref r)) continue;
            while (NextProperty(ref r))
            {
                string key = NameTable.Get(r.ValueSpan);
                ReadHistogram(ref r, ping, name, key, process);
            }
        }
    }

    private static void ReadHistogram(ref Utf8JsonReader r, RawPing ping, string name, string label, ProcessKind process)
    {
        if (!ReadStartObject(ref r)) return; // null histograms are skipped
        ping.HasHistograms = true;
        long low = 0, high = 0;
        int bucketCount = 0, type = -1;
        double sum = 0;
        bool sumInteger = false, sumPresent = false, valuesValid = true;
        int offset = ping.ValuesUsed;
        while (NextProperty(ref r))
        {
            var field = FieldOf(ref r);
            if (field == HistogramField.Range)
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartArray) { SkipAfterValue(ref r); continue; }
                int i = 0;
                while (r.Read() && r.TokenType != JsonTokenType.EndArray)
                {
                    if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out long v))
                    {
                        if (i == 0) low = v; else if (i == 1) high = v;
                    }
                    else if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
                    i++;
                }
            }
            else if (field == HistogramField.BucketCount)
            {
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int n)) bucketCount = n; else SkipAfterValue(ref r);
            }
            else if (field == HistogramField.HistogramType)
            {
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int t)) type = t; else SkipAfterValue(ref r);
            }
            else if (field == HistogramField.Sum)
            {
                r.Read();
                sumPresent = true;
                if (r.TokenType == JsonTokenType.Number)
                {
                    if (r.TryGetInt64(out long s)) { sum = s; sumInteger = true; }
                    else if (r.TryGetDouble(out double d)) { sum = d; sumInteger = false; }
                }
                else SkipAfterValue(ref r);
            }
            else if (field == HistogramField.Values)
            {
                r.Read();
                if (r.TokenType != JsonTokenType.StartObject) { valuesValid = false; SkipAfterValue(ref r); continue; }
                while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                {
                    long bound = 0;
                    bool boundOk = !r.ValueIsEscaped && TryParseWhole(r.ValueSpan, out bound);
                    r.Read();
                    if (r.TokenType == JsonTokenType.Number && boundOk && (TryParseDigits(r.ValueSpan, out long whole) || r.TryGetInt64(out whole)))
                    {
                        ping.AddValue(bound, whole); // counts are integers in practice: the fast path
                    }
                    else if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out double c) && boundOk)
                    {
                        ping.AddValue(bound, c);
                    }
                    else
                    {
                        valuesValid = false;
                        if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
                    }
                }
            }
            else
            {
                SkipValue(ref r);
            }
        }
        if (!sumPresent) sumInteger = true; // a missing sum counts as 0
        ping.Histograms.Add(new RawHistogram(name, label, process, type, low, high, bucketCount, sum, sumInteger,
            offset, ping.ValuesUsed - offset, valuesValid));
    }

    internal enum HistogramField : byte
    {
        Other,
        Range,
        BucketCount,
        HistogramType,
        Sum,
        Values,
    }

    // The histogram property the reader is on. Names are told apart by length first: one comparison
    // per property instead of one per known name (a ping has hundreds of histograms, each with
    // seven or more properties). Escaped names take the general comparison.
    private static HistogramField FieldOf(ref Utf8JsonReader r)
    {
        if (r.ValueIsEscaped)
        {
            return r.ValueTextEquals("range"u8) ? HistogramField.Range
                : r.ValueTextEquals("bucket_count"u8) ? HistogramField.BucketCount
                : r.ValueTextEquals("histogram_type"u8) ? HistogramField.HistogramType
                : r.ValueTextEquals("sum"u8) ? HistogramField.Sum
                : r.ValueTextEquals("values"u8) ? HistogramField.Values
                : HistogramField.Other;
        }
        return HistogramFieldOf(r.ValueSpan);
    }

    // The histogram property named by unescaped UTF-8 `name`.
    internal static HistogramField HistogramFieldOf(ReadOnlySpan<byte> name)
    {
        return name.Length switch
        {
            3 when name.SequenceEqual("sum"u8) => HistogramField.Sum,
            5 when name.SequenceEqual("range"u8) => HistogramField.Range,
            6 when name.SequenceEqual("values"u8) => HistogramField.Values,
            12 when name.SequenceEqual("bucket_count"u8) => HistogramField.BucketCount,
            14 when name.SequenceEqual("histogram_type"u8) => HistogramField.HistogramType,
            _ => HistogramField.Other,
        };
    }

    // Up to 18 ASCII digits (no sign, no fraction): the bucket bounds and counts of almost every
    // histogram. Anything else returns false and takes the general parser.
    private static bool TryParseDigits(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 18)
        {
            return false;
        }
        long v = 0;
        foreach (byte b in text)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }
            v = v * 10 + digit;
        }
        value = v;
        return true;
    }

    // A bucket bound written as a whole number, as the property name of a value ("0", "17", "-1").
    private static bool TryParseWhole(ReadOnlySpan<byte> text, out long value) =>
        TryParseDigits(text, out value) || (Utf8Parser.TryParse(text, out value, out int consumed) && consumed == text.Length);

    private static void ReadScalars(ref Utf8JsonReader r, RawPing ping, ProcessKind process, bool keyed)
    {
        if (!ReadStartObject(ref r)) return;
        while (NextProperty(ref r))
        {
            string name = NameTable.Get(r.ValueSpan);
            if (!keyed)
            {
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out double v))
                    ping.Scalars.Add(new RawScalar(name, "", process, v));
                else SkipAfterValue(ref r);
                continue;
            }
            if (!ReadStartObject(ref r)) continue;
            while (NextProperty(ref r))
            {
                string key = NameTable.Get(r.ValueSpan);
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out double v))
                    ping.Scalars.Add(new RawScalar(name, key, process, v));
                else SkipAfterValue(ref r);
            }
        }
    }

    private static void ReadSimpleMeasures(ref Utf8JsonReader r, RawPing ping, ProcessKind process)
    {
        if (!ReadStartObject(ref r)) return;
        while (NextProperty(ref r))
        {
            string name = NameTable.Get(r.ValueSpan);
            r.Read();
            if (r.TokenType == JsonTokenType.Number)
            {
                if (r.TryGetDouble(out double v)) ping.SimpleMeasures.Add(new RawScalar(name, "", process, v));
            }
            else if (r.TokenType == JsonTokenType.StartObject)
            {
                // One nested level becomes NAME_SUB; deeper nesting is ignored.
                while (NextProperty(ref r))
                {
                    string sub = NameTable.Get(r.ValueSpan);
                    r.Read();
                    if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out double v))
                        ping.SimpleMeasures.Add(new RawScalar(name, sub, process, v));
                    else SkipAfterValue(ref r);
                }
            }
            else SkipAfterValue(ref r);
        }
    }

    // Advances to the next property name of the current object; false at its end.
    private static bool NextProperty(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException("unexpected end of data");
        return r.TokenType == JsonTokenType.PropertyName;
    }

    // Reads the value after a property name; true when it is an object (reader on StartObject).
    private static bool ReadStartObject(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.StartObject) return true;
        if (r.TokenType == JsonTokenType.StartArray) r.Skip();
        return false;
    }

    private static void SkipValue(ref Utf8JsonReader r)
    {
        r.Read();
        SkipAfterValue(ref r);
    }

    private static void SkipAfterValue(ref Utf8JsonReader r)
    {
        if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
    }

    private static string? ReadString(ref Utf8JsonReader r)
    {
        r.Read();
        switch (r.TokenType)
        {
            case JsonTokenType.String:
                return r.ValueIsEscaped ? r.GetString() : NameTable.Get(r.ValueSpan);
            case JsonTokenType.Number:
                return Encoding.UTF8.GetString(r.ValueSpan);
            case JsonTokenType.StartObject:
            case JsonTokenType.StartArray:
                r.Skip();
                return null;
            default:
                return null;
        }
    }
}
