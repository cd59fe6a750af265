using System.Text;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// Interns the short strings that repeat in every ping (histogram names, keys, channels) so
/// decoding thousands of pings per second does not allocate the same names again and again.
/// One table per thread: no locking on the hot path.
/// </summary>
internal static class NameTable
{
    private const int MaxEntries = 200_000;
    internal const int MaxLength = 256;

    [ThreadStatic] private static Dictionary<string, string>? t_table;

    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        var table = t_table ??= new Dictionary<string, string>(StringComparer.Ordinal);
        Span<char> chars = stackalloc char[MaxLength];
        int n = Encoding.UTF8.GetChars(utf8, chars);
        var lookup = table.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars[..n], out var existing))
        {
            return existing;
        }
        var s = new string(chars[..n]);
        if (table.Count >= MaxEntries)
        {
            // Keys are attacker-controlled: a flood of unique names must not grow memory without bound.
            table.Clear();
        }
        table[s] = s;
        return s;
    }
}
