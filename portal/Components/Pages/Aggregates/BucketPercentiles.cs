using System.Collections.Immutable;

namespace Telemetry.Portal.Components.Pages.Aggregates;

/// <summary>
/// Percentiles of a bucketed histogram (lower bounds and counts), as the histogram dashboards showed them:
/// the samples of a bucket are taken as spread evenly between its lower bound and the next bucket's, so a
/// percentile is interpolated linearly inside the bucket that holds it. The last bucket has no upper edge
/// (it is the overflow bucket): a percentile that falls in it is its lower bound.
/// </summary>
public sealed class BucketPercentiles
{
    /// <summary>The percentiles the explorer draws.</summary>
    public static readonly ImmutableArray<int> Shown = [5, 25, 50, 75, 95];

    private readonly double[] _lowerBounds;
    private readonly double[] _counts;

    public BucketPercentiles(IReadOnlyList<double> lowerBounds, IReadOnlyList<double> counts)
    {
        if (lowerBounds.Count != counts.Count)
        {
            throw new ArgumentException($"{lowerBounds.Count} bucket bounds but {counts.Count} counts", nameof(counts));
        }
        for (int i = 1; i < lowerBounds.Count; i++)
        {
            if (!(lowerBounds[i] > lowerBounds[i - 1]))
            {
                throw new ArgumentException("bucket lower bounds must increase strictly", nameof(lowerBounds));
            }
        }
        _lowerBounds = [.. lowerBounds];
        _counts = [.. counts.Select(c => Math.Max(0, c))];
        Total = _counts.Sum();
    }

    /// <summary>Samples in the histogram.</summary>
    public double Total { get; }

    /// <summary>
    /// The value below which <paramref name="percent"/> % of the samples lie (0–100); null for an empty histogram.
    /// </summary>
    public double? Percentile(double percent)
    {
        if (percent is < 0 or > 100 || double.IsNaN(percent))
        {
            throw new ArgumentOutOfRangeException(nameof(percent), "a percentile is between 0 and 100");
        }
        if (Total <= 0)
        {
            return null;
        }
        double target = percent / 100 * Total;
        double before = 0;
        for (int k = 0; k < _counts.Length; k++)
        {
            double count = _counts[k];
            if (count <= 0)
            {
                continue;
            }
            if (before + count >= target)
            {
                double low = _lowerBounds[k];
                double high = k + 1 < _lowerBounds.Length ? _lowerBounds[k + 1] : low;
                return low + (target - before) / count * (high - low);
            }
            before += count;
        }
        // Only rounding can leave the loop: the target is the total.
        int last = Array.FindLastIndex(_counts, c => c > 0);
        return last + 1 < _lowerBounds.Length ? _lowerBounds[last + 1] : _lowerBounds[last];
    }

    /// <summary>
    /// The mean of the samples: the histogram's own sum over its samples when the sum is known (exact),
    /// else from the bucket midpoints (the overflow bucket at its lower bound). Null when empty.
    /// </summary>
    public double? Mean(double? sum = null)
    {
        if (Total <= 0)
        {
            return null;
        }
        if (sum is { } s)
        {
            return s / Total;
        }
        double weighted = 0;
        for (int k = 0; k < _counts.Length; k++)
        {
            double high = k + 1 < _lowerBounds.Length ? _lowerBounds[k + 1] : _lowerBounds[k];
            weighted += _counts[k] * (_lowerBounds[k] + high) / 2;
        }
        return weighted / Total;
    }
}
