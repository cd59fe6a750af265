using System.Collections.Immutable;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// What "normal" looked like over several build dates of one bucket layout, for the default
/// detector (docs/regressions.md, "Reference" and "Significance"):
/// <list type="bullet">
/// <item>the reference distribution is the bucket-edge-wise <b>median</b> of the dates' cumulative
/// distributions (a median of non-decreasing functions is non-decreasing, so it is a distribution),
/// so one odd date among them cannot move it and every date weighs the same whatever its volume;</item>
/// <item>the <b>dispersion</b> φ says how much more the dates scatter around each other than
/// independent samples of their sizes would (clustering of samples within pings, day-to-day changes
/// of the population): the variance of a date's cumulative share at an edge is modelled as
/// <c>φ · F (1 - F) / N</c>.</item>
/// </list>
/// </summary>
public sealed class ReferenceDistribution
{
    /// <summary>
    /// The variance of the median of m equally noisy values is about π/2 times that of their
    /// mean (asymptotic relative efficiency of the median under normal noise).
    /// </summary>
    private const double MedianVarianceFactor = Math.PI / 2;

    /// <summary>
    /// Bucket edges where fewer than this many of a date's samples are expected on either side
    /// are left out of the dispersion estimate: the normal approximation of a binomial share
    /// (the usual "at least 5 expected" rule) does not hold there.
    /// </summary>
    private const double MinimumExpectedCount = 5;

    private readonly double[] cdf;

    private ReferenceDistribution(double[] cdf, ImmutableArray<DateOnly> dates, double dispersion, double typicalTotal)
    {
        this.cdf = cdf;
        Dates = dates;
        Dispersion = dispersion;
        TypicalTotal = typicalTotal;
    }

    /// <summary>The build dates the reference is made of, oldest first.</summary>
    public ImmutableArray<DateOnly> Dates { get; }

    /// <summary>φ ≥ 1: observed scatter between the dates / the scatter of independent samples.</summary>
    public double Dispersion { get; }

    /// <summary>Median number of samples of the reference dates.</summary>
    public double TypicalTotal { get; }

    /// <summary>The reference's cumulative distribution at the upper edge of every bucket but the last.</summary>
    public ReadOnlySpan<double> Cumulative => cdf;

    /// <summary>Builds the reference of at least two dates with the same bucket layout and samples in each.</summary>
    public static ReferenceDistribution Build(IReadOnlyList<BuildDateHistogram> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        if (dates.Count < 2)
        {
            throw new ArgumentException("a reference needs at least two dates", nameof(dates));
        }
        if (dates.Any(d => d.Total == 0 || d.Counts.Length != dates[0].Counts.Length))
        {
            throw new ArgumentException("reference dates must have samples and one bucket layout", nameof(dates));
        }
        var cdfs = dates.Select(d => d.Cumulative()).ToArray();
        var totals = dates.Select(d => (double)d.Total).ToArray();
        var median = MedianCdf(cdfs, skip: -1);
        return new ReferenceDistribution(
            median,
            [.. dates.Select(d => d.BuildDate).Order()],
            EstimateDispersion(cdfs, totals),
            Median(totals));
    }

    /// <summary>The reference as a normalised histogram (differences of the median cumulative distribution).</summary>
    public double[] Normalised()
    {
        var p = new double[cdf.Length + 1];
        double previous = 0;
        for (int k = 0; k < cdf.Length; k++)
        {
            p[k] = cdf[k] - previous;
            previous = cdf[k];
        }
        p[^1] = 1 - previous;
        return p;
    }

    /// <summary>
    /// Compares a date with the reference: the Kolmogorov–Smirnov distance and its p-value for
    /// the effective sample sizes <c>n_c = min(N_c, N_ref) / φ</c> (a candidate with more samples
    /// than the reference dates is not trusted to be more precise than they were: their scatter was
    /// only measured at their volume) and <c>n_r = 2 R N_ref / (π φ)</c> (the median of R dates).
    /// </summary>
    public CdfComparison Compare(BuildDateHistogram candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (candidate.Counts.Length != cdf.Length + 1)
        {
            throw new ArgumentException("the candidate has another bucket layout", nameof(candidate));
        }
        var fc = candidate.Cumulative();
        var differences = new double[cdf.Length];
        double distance = 0;
        int edge = 0;
        for (int k = 0; k < differences.Length; k++)
        {
            differences[k] = cdf[k] - fc[k];
            if (Math.Abs(differences[k]) > distance)
            {
                distance = Math.Abs(differences[k]);
                edge = k;
            }
        }
        double nc = Math.Min(candidate.Total, TypicalTotal) / Dispersion;
        double nr = Dates.Length * TypicalTotal / (MedianVarianceFactor * Dispersion);
        double effective = nc * nr / (nc + nr);
        return new CdfComparison
        {
            Differences = [.. differences],
            Distance = distance,
            Edge = edge,
            PValue = KolmogorovDistribution.PValue(distance, effective),
        };
    }

    /// <summary>
    /// φ from the dates themselves: each date against the median of the others, at every edge
    /// with enough expected samples on both sides,
    /// <c>z² = (F_j - F̃_{-j})² / (F̃ (1 - F̃) (1/N_j + (π/2) / ((R - 1) Ñ_{-j})))</c>, whose
    /// expectation is φ; φ = the mean over dates of each date's mean z², at least 1. A mean rather
    /// than a median: an odd date among the references then makes φ larger and the detector more
    /// cautious, never less.
    /// </summary>
    private static double EstimateDispersion(double[][] cdfs, double[] totals)
    {
        int r = cdfs.Length;
        double sum = 0;
        int counted = 0;
        var others = new double[r - 1];
        for (int j = 0; j < r; j++)
        {
            var leaveOneOut = MedianCdf(cdfs, skip: j);
            int o = 0;
            for (int i = 0; i < r; i++)
            {
                if (i != j)
                {
                    others[o++] = totals[i];
                }
            }
            double otherTotal = Median(others);
            double zSquares = 0;
            int edges = 0;
            for (int k = 0; k < leaveOneOut.Length; k++)
            {
                double f = leaveOneOut[k];
                if (Math.Min(f, 1 - f) * totals[j] < MinimumExpectedCount)
                {
                    continue;
                }
                double variance = f * (1 - f) * (1 / totals[j] + MedianVarianceFactor / ((r - 1) * otherTotal));
                double d = cdfs[j][k] - f;
                zSquares += d * d / variance;
                edges++;
            }
            if (edges > 0)
            {
                sum += zSquares / edges;
                counted++;
            }
        }
        return counted == 0 ? 1 : Math.Max(1, sum / counted);
    }

    private static double[] MedianCdf(double[][] cdfs, int skip)
    {
        int edges = cdfs[0].Length;
        var column = new double[skip >= 0 ? cdfs.Length - 1 : cdfs.Length];
        var result = new double[edges];
        for (int k = 0; k < edges; k++)
        {
            int n = 0;
            for (int j = 0; j < cdfs.Length; j++)
            {
                if (j != skip)
                {
                    column[n++] = cdfs[j][k];
                }
            }
            result[k] = MedianInPlace(column);
        }
        return result;
    }

    /// <summary>The median (mean of the two middle values for an even count).</summary>
    private static double Median(double[] values) => MedianInPlace((double[])values.Clone());

    private static double MedianInPlace(double[] values)
    {
        Array.Sort(values);
        int m = values.Length / 2;
        return values.Length % 2 == 1 ? values[m] : (values[m - 1] + values[m]) / 2;
    }
}
