using System.Collections.Immutable;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// One build date of a metric's evolution: the histogram summed over every other dimension
/// (processes, OSes, labels) for the builds of that date (docs/regressions.md, "The series").
/// </summary>
public sealed class BuildDateHistogram
{
    /// <summary>Creates a build date's histogram; the counts line up with the lower bounds.</summary>
    /// <param name="buildDate">The build date (a build id's first 8 digits, <c>YYYYMMDD</c>).</param>
    /// <param name="lowerBounds">The bucket layout: strictly increasing lower bounds.</param>
    /// <param name="counts">Samples per bucket, none negative.</param>
    /// <param name="pings">How many pings contributed (the aggregate's instance count); 0 when unknown.</param>
    public BuildDateHistogram(DateOnly buildDate, ImmutableArray<long> lowerBounds, ImmutableArray<long> counts, long pings = 0)
    {
        if (lowerBounds.IsDefaultOrEmpty)
        {
            throw new ArgumentException("a histogram needs at least one bucket", nameof(lowerBounds));
        }
        if (counts.IsDefault || counts.Length != lowerBounds.Length)
        {
            throw new ArgumentException($"{counts.Length} counts for {lowerBounds.Length} buckets", nameof(counts));
        }
        for (int k = 1; k < lowerBounds.Length; k++)
        {
            if (lowerBounds[k] <= lowerBounds[k - 1])
            {
                throw new ArgumentException($"lower bounds must increase (bucket {k})", nameof(lowerBounds));
            }
        }
        long total = 0;
        foreach (var c in counts)
        {
            if (c < 0)
            {
                throw new ArgumentException("negative bucket count", nameof(counts));
            }
            total = checked(total + c);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(pings);
        BuildDate = buildDate;
        LowerBounds = lowerBounds;
        Counts = counts;
        Pings = pings;
        Total = total;
    }

    public DateOnly BuildDate { get; }

    /// <summary>Lower bound of every bucket; two dates share a layout when these are equal.</summary>
    public ImmutableArray<long> LowerBounds { get; }

    public ImmutableArray<long> Counts { get; }

    /// <summary>Number of pings that contributed samples; 0 when the source does not say.</summary>
    public long Pings { get; }

    /// <summary>Number of samples (sum of the counts).</summary>
    public long Total { get; }

    /// <summary>Largest bucket count.</summary>
    public long LargestBucket => Counts.Max();

    /// <summary>The counts divided by the total; all zeros when the histogram is empty.</summary>
    public double[] Normalised()
    {
        var p = new double[Counts.Length];
        if (Total == 0)
        {
            return p;
        }
        double total = Total;
        for (int k = 0; k < p.Length; k++)
        {
            p[k] = Counts[k] / total;
        }
        return p;
    }

    /// <summary>
    /// The empirical cumulative distribution at the upper edge of every bucket but the last
    /// (which is always 1): <c>F[k]</c> = share of samples in buckets 0..k.
    /// </summary>
    public double[] Cumulative()
    {
        var f = new double[Counts.Length - 1];
        if (Total == 0)
        {
            return f;
        }
        long running = 0;
        double total = Total;
        for (int k = 0; k < f.Length; k++)
        {
            running += Counts[k];
            f[k] = running / total;
        }
        return f;
    }
}
