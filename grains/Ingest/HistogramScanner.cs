namespace Telemetry.Grains.Ingest;

/// <summary>
/// Reads a ping's histograms object — <c>{"NAME": {histogram} | null, ...}</c>, or keyed
/// <c>{"NAME": {"KEY": {histogram} | null, ...} | null, ...}</c> — straight from its bytes, for the
/// shape Firefox writes: names without escapes; whole-number ranges, bucket counts, types and sums;
/// values keyed by whole-number bounds with whole-number counts; any other histogram field a number,
/// a string without escapes, or a literal. Everything it passes over is checked against the JSON
/// grammar (whitespace, separators, number syntax, control characters in strings).
/// <para>
/// On anything outside that shape it returns false, having added nothing to the ping, and
/// <see cref="PingReader"/> reads the same object with <see cref="System.Text.Json.Utf8JsonReader"/>,
/// which then decides what is accepted, ignored or refused: the scanner never accepts what the
/// general reader would refuse, and reads what it accepts into the same values. Histograms are
/// 96 % of a ping's bytes; a reader made for their one shape costs a fraction of a general tokenizer
/// (docs/ingest-cost.md, "Reading histograms").
/// </para>
/// </summary>
internal static class HistogramScanner
{
    /// <summary>
    /// Reads the object whose <c>{</c> is at <paramref name="open"/>; on success <paramref name="end"/>
    /// is the index just past its <c>}</c>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> json, int open, RawPing ping, ProcessKind process, bool keyed, out int end)
    {
        int histograms = ping.Histograms.Count;
        int values = ping.ValuesUsed;
        bool hadHistograms = ping.HasHistograms;
        var c = new Cursor(json, open + 1);
        if (ReadObject(ref c, ping, process, keyed))
        {
            end = c.Pos;
            return true;
        }
        ping.Histograms.RemoveRange(histograms, ping.Histograms.Count - histograms);
        ping.ValuesUsed = values;
        ping.HasHistograms = hadHistograms;
        end = 0;
        return false;
    }

    // After the '{' of the histograms object (or of one keyed histogram's keys).
    private static bool ReadObject(ref Cursor c, RawPing ping, ProcessKind process, bool keyed, string? keyedName = null)
    {
        if (c.SkipWhitespaceThen((byte)'}'))
        {
            return true;
        }
        while (true)
        {
            if (!c.TryName(out var nameBytes))
            {
                return false;
            }
            string name = NameTable.Get(nameBytes);
            byte b = c.Current;
            if (b == (byte)'n')
            {
                if (!c.TryLiteral("null"u8)) return false; // a null histogram is skipped
            }
            else if (b != (byte)'{')
            {
                return false;
            }
            else
            {
                c.Pos++;
                bool ok = keyed
                    ? ReadObject(ref c, ping, process, keyed: false, keyedName: name)
                    : keyedName is null
                        ? ReadHistogram(ref c, ping, name, "", process)
                        : ReadHistogram(ref c, ping, keyedName, name, process);
                if (!ok) return false;
            }
            if (!c.TryNext((byte)'}', out bool more)) return false;
            if (!more) return true;
        }
    }

    // After a histogram's '{'; mirrors PingReader.ReadHistogram for the values it accepts.
    private static bool ReadHistogram(ref Cursor c, RawPing ping, string name, string label, ProcessKind process)
    {
        ping.HasHistograms = true;
        long low = 0, high = 0;
        int bucketCount = 0, type = -1;
        double sum = 0;
        int offset = ping.ValuesUsed;
        if (!c.SkipWhitespaceThen((byte)'}'))
        {
            while (true)
            {
                if (!c.TryName(out var field)) return false;
                switch (PingReader.HistogramFieldOf(field))
                {
                    case PingReader.HistogramField.Range:
                        if (!ReadRange(ref c, ref low, ref high)) return false;
                        break;
                    case PingReader.HistogramField.BucketCount:
                        if (!c.TryInteger(out long n) || n is < int.MinValue or > int.MaxValue) return false;
                        bucketCount = (int)n;
                        break;
                    case PingReader.HistogramField.HistogramType:
                        if (!c.TryInteger(out long t) || t is < int.MinValue or > int.MaxValue) return false;
                        type = (int)t;
                        break;
                    case PingReader.HistogramField.Sum:
                        if (!c.TryInteger(out long s)) return false;
                        sum = s;
                        break;
                    case PingReader.HistogramField.Values:
                        if (!ReadValues(ref c, ping)) return false;
                        break;
                    default:
                        if (!c.TrySkipScalar()) return false;
                        break;
                }
                if (!c.TryNext((byte)'}', out bool more)) return false;
                if (!more) break;
            }
        }
        // The scanner reads whole sums only (a missing one counts as 0).
        ping.Histograms.Add(new RawHistogram(name, label, process, type, low, high, bucketCount, sum, SumIsInteger: true,
            offset, ping.ValuesUsed - offset, ValuesValid: true));
        return true;
    }

    private static bool ReadRange(ref Cursor c, ref long low, ref long high)
    {
        if (c.Current != (byte)'[') return false;
        c.Pos++;
        if (c.SkipWhitespaceThen((byte)']')) return true;
        for (int i = 0; ; i++)
        {
            c.SkipWhitespace();
            if (!c.TryInteger(out long v)) return false;
            if (i == 0) low = v;
            else if (i == 1) high = v;
            if (!c.TryNext((byte)']', out bool more)) return false;
            if (!more) return true;
        }
    }

    // {"BOUND": COUNT, ...} with bounds written as up to 18 digits and counts as JSON whole numbers.
    private static bool ReadValues(ref Cursor c, RawPing ping)
    {
        if (c.Current != (byte)'{') return false;
        c.Pos++;
        if (c.SkipWhitespaceThen((byte)'}')) return true;
        while (true)
        {
            if (!c.TryDigitsName(out long bound)) return false;
            if (!c.TryInteger(out long count) || count < 0) return false;
            ping.AddValue(bound, count);
            if (!c.TryNext((byte)'}', out bool more)) return false;
            if (!more) return true;
        }
    }

    private ref struct Cursor(ReadOnlySpan<byte> text, int pos)
    {
        private readonly ReadOnlySpan<byte> _text = text;
        public int Pos = pos;

        // The byte at the cursor; 0 past the end (0 is valid nowhere the scanner looks).
        public readonly byte Current => (uint)Pos < (uint)_text.Length ? _text[Pos] : (byte)0;

        public void SkipWhitespace()
        {
            while ((uint)Pos < (uint)_text.Length)
            {
                byte b = _text[Pos];
                if (b is not ((byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t')) return;
                Pos++;
            }
        }

        // Skips whitespace; when the next byte is `close`, consumes it and returns true.
        public bool SkipWhitespaceThen(byte close)
        {
            SkipWhitespace();
            if (Current != close) return false;
            Pos++;
            return true;
        }

        // After a value: whitespace, then ',' (more follows) or `close`.
        public bool TryNext(byte close, out bool more)
        {
            SkipWhitespace();
            byte b = Current;
            Pos++;
            more = b == (byte)',';
            return more || b == close;
        }

        // Whitespace, a property name without escapes or control characters, whitespace, ':',
        // whitespace: the cursor ends on the value's first byte.
        public bool TryName(out ReadOnlySpan<byte> name)
        {
            SkipWhitespace();
            return TryString(out name) && Colon();
        }

        // A string at the cursor without escapes or control characters; the cursor ends past its
        // closing quote.
        private bool TryString(out ReadOnlySpan<byte> text)
        {
            text = default;
            if (Current != (byte)'"') return false;
            var rest = _text[(Pos + 1)..];
            int close = rest.IndexOfAny((byte)'"', (byte)'\\');
            if (close < 0 || rest[close] != (byte)'"' || rest[..close].ContainsAnyInRange((byte)0, (byte)0x1F)) return false;
            text = rest[..close];
            Pos += close + 2;
            return true;
        }

        // A property name of 1 to 18 ASCII digits (a bucket's lower bound), then the colon.
        public bool TryDigitsName(out long value)
        {
            value = 0;
            SkipWhitespace();
            if (Current != (byte)'"') return false;
            Pos++;
            int length = ReadDigits(out long v);
            if (length is 0 or > 18 || Current != (byte)'"') return false;
            Pos++;
            value = v;
            return Colon();
        }

        private bool Colon()
        {
            SkipWhitespace();
            if (Current != (byte)':') return false;
            Pos++;
            SkipWhitespace();
            return true;
        }

        // A JSON number that is a whole number of at most 18 digits: -?(0|[1-9][0-9]*), not
        // followed by a fraction or an exponent (those take the general reader).
        public bool TryInteger(out long value)
        {
            value = 0;
            bool negative = Current == (byte)'-';
            if (negative) Pos++;
            int start = Pos;
            int length = ReadDigits(out long v);
            if (length is 0 or > 18) return false;
            if (length > 1 && _text[start] == (byte)'0') return false; // a leading zero is not JSON
            if (Current is (byte)'.' or (byte)'e' or (byte)'E') return false;
            value = negative ? -v : v;
            return true;
        }

        public bool TryLiteral(ReadOnlySpan<byte> literal)
        {
            if (!_text[Pos..].StartsWith(literal)) return false;
            Pos += literal.Length;
            return true;
        }

        // A number (any JSON number), a string without escapes, true, false or null.
        public bool TrySkipScalar()
        {
            switch (Current)
            {
                case (byte)'"': return TryString(out _);
                case (byte)'t': return TryLiteral("true"u8);
                case (byte)'f': return TryLiteral("false"u8);
                case (byte)'n': return TryLiteral("null"u8);
                default: return TrySkipNumber();
            }
        }

        // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        private bool TrySkipNumber()
        {
            if (Current == (byte)'-') Pos++;
            if (Current == (byte)'0')
            {
                Pos++;
            }
            else if (ReadDigits(out _) == 0)
            {
                return false;
            }
            if (Current == (byte)'.')
            {
                Pos++;
                if (ReadDigits(out _) == 0) return false;
            }
            if (Current is (byte)'e' or (byte)'E')
            {
                Pos++;
                if (Current is (byte)'+' or (byte)'-') Pos++;
                if (ReadDigits(out _) == 0) return false;
            }
            return true;
        }

        // Reads the ASCII digits at the cursor; returns how many. `value` is their number when there
        // are at most 18 (callers refuse more).
        private int ReadDigits(out long value)
        {
            int start = Pos;
            long v = 0;
            while ((uint)Pos < (uint)_text.Length)
            {
                uint digit = (uint)(_text[Pos] - '0');
                if (digit > 9) break;
                v = v * 10 + digit;
                Pos++;
            }
            value = v;
            return Pos - start;
        }
    }
}
