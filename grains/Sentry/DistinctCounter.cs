using System.IO.Hashing;
using System.Numerics;
using System.Text;

namespace Telemetry.Grains.Sentry;

/// <summary>
/// Counts distinct ids (Sentry event ids, user ids) for one issue and day (docs/sentry.md, "Distinct
/// counts"): exactly while there are at most <see cref="Limit"/> of them, then with a HyperLogLog sketch
/// of 2^14 registers (standard error 0.8 %, so within 2 % for practical purposes) that costs 16 KB
/// whatever the number. Counters of several days merge into the distinct count of the whole range, not
/// the sum of the days.
/// </summary>
[GenerateSerializer]
public sealed class DistinctCounter
{
    public const int Precision = 14;
    public const int RegisterCount = 1 << Precision;

    /// <summary>Exact up to this many distinct ids (<c>Sentry:ExactDistinctLimit</c>).</summary>
    [Id(0)] public int Limit { get; private set; }

    /// <summary>The ids while counting exactly; null once the sketch took over.</summary>
    [Id(1)] public HashSet<string>? Exact { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The sketch's registers (the highest rank seen per register); null while counting exactly.</summary>
    [Id(2)] public byte[]? Registers { get; private set; }

    public DistinctCounter(int limit = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
    }

    public bool IsExact => Registers is null;

    /// <summary>Adds an id; true when it was not counted before (exactly), or changed the sketch.</summary>
    public bool Add(string id)
    {
        if (Registers is null)
        {
            if (!Exact!.Add(id))
            {
                return false;
            }
            if (Exact.Count > Limit)
            {
                ToSketch();
            }
            return true;
        }
        return Observe(Registers, Hash(id));
    }

    /// <summary>The number of distinct ids: exact, or the sketch's estimate.</summary>
    public long Count => Registers is null ? Exact!.Count : Estimate(Registers);

    /// <summary>Adds every id of <paramref name="other"/> (a union: an id in both counts once).</summary>
    public void UnionWith(DistinctCounter other)
    {
        if (Registers is null && other.Registers is null)
        {
            foreach (var id in other.Exact!)
            {
                Add(id);
            }
            return;
        }
        if (Registers is null)
        {
            ToSketch();
        }
        if (other.Registers is null)
        {
            foreach (var id in other.Exact!)
            {
                Observe(Registers!, Hash(id));
            }
            return;
        }
        for (int i = 0; i < RegisterCount; i++)
        {
            Registers![i] = Math.Max(Registers[i], other.Registers[i]);
        }
    }

    /// <summary>The distinct count of the union of <paramref name="counters"/> (e.g. the days of a range).</summary>
    public static long CountUnion(IEnumerable<DistinctCounter> counters, int limit)
    {
        var union = new DistinctCounter(limit);
        foreach (var c in counters)
        {
            union.UnionWith(c);
        }
        return union.Count;
    }

    private void ToSketch()
    {
        var registers = new byte[RegisterCount];
        foreach (var id in Exact!)
        {
            Observe(registers, Hash(id));
        }
        Registers = registers;
        Exact = null;
    }

    private static ulong Hash(string id) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(id));

    private static bool Observe(byte[] registers, ulong hash)
    {
        int index = (int)(hash >> (64 - Precision));
        // The rank: position of the first 1 bit in the remaining 50 bits (1-based), 51 when they are all 0.
        ulong rest = hash << Precision;
        byte rank = (byte)(rest == 0 ? 64 - Precision + 1 : BitOperations.LeadingZeroCount(rest) + 1);
        if (rank <= registers[index])
        {
            return false;
        }
        registers[index] = rank;
        return true;
    }

    /// <summary>
    /// Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches", 2017):
    /// from the histogram of register values, without the raw estimator's bias between small and large
    /// counts (about 3 % around 2.5 × the register count) and without empirical bias tables.
    /// </summary>
    private static long Estimate(byte[] registers)
    {
        const int q = 64 - Precision;
        const double m = RegisterCount;
        var histogram = new int[q + 2];
        foreach (byte r in registers)
        {
            histogram[r]++;
        }
        if (histogram[0] == RegisterCount)
        {
            return 0;
        }
        double z = m * Tau(1 - (histogram[q + 1] / m));
        for (int k = q; k >= 1; k--)
        {
            z = 0.5 * (z + histogram[k]);
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(m * m / (2 * Math.Log(2)) / z);
    }

    private static double Sigma(double x)
    {
        if (x == 1)
        {
            return double.PositiveInfinity;
        }
        double y = 1, z = x, previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (z != previous);
        return z;
    }

    private static double Tau(double x)
    {
        if (x is 0 or 1)
        {
            return 0;
        }
        double y = 1, z = 1 - x, previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (z != previous);
        return z / 3;
    }
}
