using System.Collections.Immutable;
using MathNet.Numerics;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// What "normal" looked like over several build dates of one bucket layout, and how much a date
/// scatters around it, for the default detector (docs/regressions.md, "Reference" and "Noise"):
/// <list type="bullet">
/// <item>the reference distribution is the bucket-edge-wise <b>median</b> of the reference dates'
/// cumulative distributions (a median of non-decreasing functions is non-decreasing, so it is a
/// distribution), so one odd date among them cannot move it and every date weighs the same
/// whatever its volume;</item>
/// <item>the <b>dispersion</b> φ_k at each bucket edge k says how much more consecutive dates
/// differ there than independent samples of their sizes would (samples cluster within pings; the
/// population changes a little from date to date): the variance of a date's cumulative share
/// at edge k is modelled as <c>φ_k · F_k (1 - F_k) / N</c>. It is measured on pairs of consecutive
/// dates of a longer history than the reference (the noise level changes more slowly than the
/// distribution) and, if larger, of the reference dates alone, pooled over neighbouring edges
/// (±<see cref="EdgeSmoothing"/>);</item>
/// <item>the <b>shift dispersion</b> φ_s does the same for the rank-sum statistic, which a
/// day-to-day movement of the whole population inflates more than a single edge's share.</item>
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
    /// Bucket edges where fewer than this many of a date's samples, or (when the dates say how many
    /// pings they hold) of its pings, are expected on either side are neither measured nor tested:
    /// the normal approximation of a binomial share (the usual "at least 5 expected" rule) does not
    /// hold there. The rule counts independent contributors, and the samples of one ping are not
    /// independent: at a tail edge where 10 samples are expected from 2 or 3 pings, the share
    /// moves by whole pings, and the largest |z| over the edges lands there far more often than
    /// the normal tail says (docs/regressions.md, "Noise").
    /// </summary>
    private const double MinimumExpectedCount = 5;

    /// <summary>
    /// φ_k is pooled over the edges k-2..k+2: the clustering and the population's movements that
    /// make φ vary from the middle of a distribution to its tails vary smoothly along the edges,
    /// and five edges give the estimate five times the pairs of dates it would have alone.
    /// </summary>
    private const int EdgeSmoothing = 2;

    private readonly double[] cdf;
    private readonly double[] edgeDispersion;
    private readonly double[] midDistribution;
    private readonly double shiftVariance;

    private ReferenceDistribution(
        double[] cdf,
        ImmutableArray<DateOnly> dates,
        double typicalTotal,
        double typicalPings,
        IReadOnlyList<(BuildDateHistogram Earlier, BuildDateHistogram Later)> noise,
        IReadOnlyList<(BuildDateHistogram Earlier, BuildDateHistogram Later)> recent)
    {
        this.cdf = cdf;
        Dates = dates;
        TypicalTotal = typicalTotal;
        TypicalPings = typicalPings;
        midDistribution = MidDistribution(cdf, out shiftVariance);
        edgeDispersion = EstimateEdgeDispersion(cdf, noise, typicalTotal, typicalPings);
        var recentEdges = EstimateEdgeDispersion(cdf, recent, typicalTotal, typicalPings);
        for (int k = 0; k < edgeDispersion.Length; k++)
        {
            edgeDispersion[k] = Math.Max(edgeDispersion[k], recentEdges[k]);
        }
        var tested = edgeDispersion.Where(double.IsFinite).ToList();
        Dispersion = tested.Count > 0 ? tested.Average() : 1;
        ShiftDispersion = Math.Max(Dispersion, Math.Max(EstimateShiftDispersion(noise), EstimateShiftDispersion(recent)));
        NoisePairs = noise.Count;
    }

    /// <summary>The build dates the reference is made of, oldest first.</summary>
    public ImmutableArray<DateOnly> Dates { get; }

    /// <summary>The mean of φ_k over the tested edges (each ≥ 1): how much noisier than independent samples a date is.</summary>
    public double Dispersion { get; }

    /// <summary>
    /// φ_s: the same ratio for the rank-sum statistic. Not allowed below <see cref="Dispersion"/>:
    /// a statistic summing over many edges is never less affected by clustering than one edge is.
    /// </summary>
    public double ShiftDispersion { get; }

    /// <summary>How many pairs of consecutive dates the dispersions were measured on.</summary>
    public int NoisePairs { get; }

    /// <summary>Median number of samples of the reference dates.</summary>
    public double TypicalTotal { get; }

    /// <summary>Median number of pings of the reference dates; 0 when a reference date does not say.</summary>
    public double TypicalPings { get; }

    /// <summary>The reference's cumulative distribution at the upper edge of every bucket but the last.</summary>
    public ReadOnlySpan<double> Cumulative => cdf;

    /// <summary>
    /// How many independent samples the reference counts for, before the dispersion: the median
    /// of R dates of <see cref="TypicalTotal"/> samples has the variance of the mean of
    /// <c>R N / (π/2)</c> samples.
    /// </summary>
    public double Samples => Dates.Length * TypicalTotal / MedianVarianceFactor;

    /// <summary>φ_k at edge k; not finite where the edge is not tested (too few samples expected on one side).</summary>
    public double EdgeDispersion(int edge) => edgeDispersion[edge];

    /// <summary>
    /// Builds the reference of at least two dates with the same bucket layout and samples in each,
    /// measuring the noise on the reference dates themselves (consecutive pairs, oldest first).
    /// </summary>
    public static ReferenceDistribution Build(IReadOnlyList<BuildDateHistogram> dates)
    {
        ArgumentNullException.ThrowIfNull(dates);
        return Build(dates, []);
    }

    /// <summary>
    /// Builds the reference of at least two dates with the same bucket layout and samples in each,
    /// measuring the noise on <paramref name="noise"/> (pairs of consecutive usable dates of the same
    /// layout, not across a regression: a change is not noise) and on the reference dates' own
    /// consecutive pairs, and keeping the larger: the longer history gives a steadier estimate, the
    /// reference's week a more current one (a change that affects some clients and not others, or a
    /// change of population, can make a metric noisier, which four weeks would dilute).
    /// </summary>
    public static ReferenceDistribution Build(IReadOnlyList<BuildDateHistogram> dates, IReadOnlyList<(BuildDateHistogram Earlier, BuildDateHistogram Later)> noise)
    {
        ArgumentNullException.ThrowIfNull(dates);
        ArgumentNullException.ThrowIfNull(noise);
        if (dates.Count < 2)
        {
            throw new ArgumentException("a reference needs at least two dates", nameof(dates));
        }
        int buckets = dates[0].Counts.Length;
        if (dates.Any(d => d.Total == 0 || d.Counts.Length != buckets))
        {
            throw new ArgumentException("reference dates must have samples and one bucket layout", nameof(dates));
        }
        if (noise.Any(p => p.Earlier.Total == 0 || p.Later.Total == 0 || p.Earlier.Counts.Length != buckets || p.Later.Counts.Length != buckets))
        {
            throw new ArgumentException("noise dates must have samples and the reference's bucket layout", nameof(noise));
        }
        var cdfs = dates.Select(d => d.Cumulative()).ToArray();
        var totals = dates.Select(d => (double)d.Total).ToArray();
        var ordered = dates.OrderBy(d => d.BuildDate).ToList();
        double pings = dates.All(d => d.Pings > 0) ? Median([.. dates.Select(d => (double)d.Pings)]) : 0;
        return new ReferenceDistribution(MedianCdf(cdfs), [.. ordered.Select(d => d.BuildDate)], Median(totals), pings, noise, [.. ordered.Zip(ordered.Skip(1))]);
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

    /// <summary>Compares one date with the reference (see <see cref="Compare(IReadOnlyList{BuildDateHistogram})"/>).</summary>
    public CdfComparison Compare(BuildDateHistogram candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return Compare([candidate]);
    }

    /// <summary>
    /// Compares a window of dates of the reference's layout, pooled, with the reference. Each date
    /// weighs <c>w_j = min(N_j, N_ref)</c> samples (a date with more samples than the reference dates
    /// is not trusted to be more precise than they were: their noise was measured at their volume;
    /// this is what keeps a 10× volume increase from looking significant); <c>n_c = Σ w_j</c>,
    /// <c>n_r = 2 R N_ref / π</c> (the median of R dates). Two tests:
    /// <list type="bullet">
    /// <item>the cumulative distributions, edge by edge: <c>z_k = d_k / sqrt(φ_k F_k (1 - F_k) (1/n_c + 1/n_r))</c>,
    /// p-value of the largest |z_k| with a Bonferroni correction for the number of edges tested;</item>
    /// <item>the rank-sum (Wilcoxon–Mann–Whitney) statistic <c>W = P(candidate &gt; reference) - ½</c>,
    /// normal with variance <c>φ_s Var_ref(u) (1/n_c + 1/n_r)</c>, u the reference's
    /// mid-distribution (ties count half).</item>
    /// </list>
    /// </summary>
    public CdfComparison Compare(IReadOnlyList<BuildDateHistogram> window)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (window.Count == 0)
        {
            throw new ArgumentException("a window needs at least one date", nameof(window));
        }
        var pooled = new double[cdf.Length];
        double weights = 0, shift = 0;
        foreach (var date in window)
        {
            if (date.Counts.Length != cdf.Length + 1)
            {
                throw new ArgumentException("a date of the window has another bucket layout", nameof(window));
            }
            double w = Math.Min(date.Total, TypicalTotal);
            if (w <= 0)
            {
                continue;
            }
            var f = date.Cumulative();
            for (int k = 0; k < pooled.Length; k++)
            {
                pooled[k] += w * f[k];
            }
            shift += w * ShiftOf(date);
            weights += w;
        }
        if (weights <= 0)
        {
            throw new ArgumentException("a window needs samples", nameof(window));
        }
        shift /= weights;
        double scale = 1 / weights + 1 / Samples;
        var differences = new double[cdf.Length];
        double distance = 0, largestZ = 0;
        int edge = -1, tested = 0;
        for (int k = 0; k < differences.Length; k++)
        {
            differences[k] = cdf[k] - pooled[k] / weights;
            distance = Math.Max(distance, Math.Abs(differences[k]));
            if (!double.IsFinite(edgeDispersion[k]))
            {
                continue;
            }
            tested++;
            // Under "no change" both sides share one distribution: its share at k is estimated from both.
            double f = (Samples * cdf[k] + weights * (pooled[k] / weights)) / (Samples + weights);
            double z = Math.Abs(differences[k]) / Math.Sqrt(edgeDispersion[k] * f * (1 - f) * scale);
            if (edge < 0 || z > largestZ)
            {
                largestZ = z;
                edge = k;
            }
        }
        double distributionP = tested == 0 ? 1 : Math.Min(1, tested * SpecialFunctions.Erfc(largestZ / Math.Sqrt(2)));
        double shiftP = shiftVariance > 0
            ? SpecialFunctions.Erfc(Math.Abs(shift) / Math.Sqrt(ShiftDispersion * shiftVariance * scale) / Math.Sqrt(2))
            : 1;
        return new CdfComparison
        {
            Differences = [.. differences],
            Distance = distance,
            Edge = Math.Max(edge, 0),
            DistributionPValue = distributionP,
            Shift = shift,
            ShiftPValue = shiftP,
            PValue = Math.Min(1, 2 * Math.Min(distributionP, shiftP)),
        };
    }

    /// <summary>
    /// The per-date statistic of a comparison's decisive test: the cumulative difference at its
    /// edge, or the rank-sum shift. Its variance per sample is taken midway between the window's
    /// distribution and the reference's: where a change moved mass into a tail the reference
    /// hardly had, the reference's variance there alone would exaggerate every date's difference.
    /// </summary>
    public ChangeStatistic StatisticOf(CdfComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var window = new double[cdf.Length];
        for (int k = 0; k < window.Length; k++)
        {
            window[k] = Math.Clamp(cdf[k] - comparison.Differences[k], 0, 1);
        }
        if (comparison.Decisive == ComparisonTest.Shift || cdf.Length == 0)
        {
            // Var(u(X)) for X drawn from the window's distribution.
            double mean = 0, squares = 0, previous = 0;
            for (int k = 0; k < midDistribution.Length; k++)
            {
                double f = k < window.Length ? window[k] : 1;
                double p = f - previous;
                mean += p * midDistribution[k];
                squares += p * midDistribution[k] * midDistribution[k];
                previous = f;
            }
            double windowVariance = Math.Max(0, squares - mean * mean);
            return new ChangeStatistic(
                ComparisonTest.Shift, midDistribution, 0.5,
                ShiftDispersion * (windowVariance + shiftVariance) / 2, TypicalTotal, Samples);
        }
        int edge = comparison.Edge;
        var scores = new double[cdf.Length + 1];
        for (int k = 0; k <= edge; k++)
        {
            scores[k] = -1;
        }
        double phi = double.IsFinite(edgeDispersion[edge]) ? edgeDispersion[edge] : Dispersion;
        double fm = (window[edge] + cdf[edge]) / 2;
        return new ChangeStatistic(
            ComparisonTest.Distribution, scores, -cdf[edge],
            phi * fm * (1 - fm), TypicalTotal, Samples);
    }

    /// <summary><c>P(sample of the date &gt; sample of the reference) - ½</c>, ties counted half.</summary>
    private double ShiftOf(BuildDateHistogram date)
    {
        double s = 0;
        for (int k = 0; k < midDistribution.Length; k++)
        {
            s += date.Counts[k] * midDistribution[k];
        }
        return s / date.Total - 0.5;
    }

    /// <summary>
    /// φ_k: for each pair of consecutive dates (a, b) and each edge with enough samples (and pings)
    /// expected on both sides, <c>z² = (F_a(k) - F_b(k))² / (F_ab (1 - F_ab) (1/N_a + 1/N_b))</c>,
    /// F_ab the pair's own pooled share at the edge, whose expectation is φ_k; the mean of z² over the pairs and the edges k-2..k+2, at least 1.
    /// Consecutive dates rather than dates against their median: a slow drift in the history hardly
    /// changes consecutive dates, and one step change spoils one pair only (and makes φ larger, the
    /// detector more cautious, never less).
    /// </summary>
    private static double[] EstimateEdgeDispersion(double[] reference, IReadOnlyList<(BuildDateHistogram Earlier, BuildDateHistogram Later)> noise, double typicalTotal, double typicalPings)
    {
        int edges = reference.Length;
        var sums = new double[edges];
        var counts = new int[edges];
        foreach (var (earlier, later) in noise)
        {
            var fa = earlier.Cumulative();
            var fb = later.Cumulative();
            double smaller = Math.Min(earlier.Total, later.Total);
            double fewerPings = earlier.Pings > 0 && later.Pings > 0 ? Math.Min(earlier.Pings, later.Pings) : 0;
            double scale = 1.0 / earlier.Total + 1.0 / later.Total;
            for (int k = 0; k < edges; k++)
            {
                // The pair's own share at the edge, not the reference's: before a regression (or
                // along a drift) the pair's distribution was another, and its binomial variance
                // with it; scaled by the reference's share, a tail that grew would make the noise
                // measured before look several times smaller than it was.
                double f = (earlier.Total * fa[k] + later.Total * fb[k]) / (earlier.Total + later.Total);
                if (!EnoughOnBothSides(f, smaller, fewerPings))
                {
                    continue;
                }
                double d = fa[k] - fb[k];
                sums[k] += d * d / (f * (1 - f) * scale);
                counts[k]++;
            }
        }
        var phi = new double[edges];
        for (int k = 0; k < edges; k++)
        {
            // An edge is tested when the reference's own dates expect enough samples on both sides.
            double f = reference[k];
            if (!EnoughOnBothSides(f, typicalTotal, typicalPings))
            {
                phi[k] = double.NaN;
                continue;
            }
            double sum = 0;
            int count = 0;
            for (int l = Math.Max(0, k - EdgeSmoothing); l <= Math.Min(edges - 1, k + EdgeSmoothing); l++)
            {
                sum += sums[l];
                count += counts[l];
            }
            phi[k] = count == 0 ? 1 : Math.Max(1, sum / count);
        }
        return phi;
    }

    /// <summary>
    /// Whether a date of this many samples and pings (0: unknown) expects at least
    /// <see cref="MinimumExpectedCount"/> of each on either side of an edge where the reference's
    /// cumulative share is <paramref name="f"/>.
    /// </summary>
    private static bool EnoughOnBothSides(double f, double samples, double pings)
    {
        double side = Math.Min(f, 1 - f);
        return side * samples >= MinimumExpectedCount && (pings <= 0 || side * pings >= MinimumExpectedCount);
    }

    /// <summary>
    /// φ_s from consecutive pairs like φ_k: <c>z² = (W_a - W_b)² / (Var_ab(u) (1/N_a + 1/N_b))</c>, W the
    /// rank-sum shift against this reference, Var_ab(u) the variance of the reference's
    /// mid-distribution score under the pair's own pooled distribution; the mean z².
    /// </summary>
    private double EstimateShiftDispersion(IReadOnlyList<(BuildDateHistogram Earlier, BuildDateHistogram Later)> noise)
    {
        if (shiftVariance <= 0 || noise.Count == 0)
        {
            return 1;
        }
        double sum = 0;
        int pairs = 0;
        foreach (var (earlier, later) in noise)
        {
            // Var(u) under the pair's own pooled distribution, for the reason given for φ_k.
            double mean = 0, squares = 0;
            for (int k = 0; k < midDistribution.Length; k++)
            {
                double p = (double)(earlier.Counts[k] + later.Counts[k]) / (earlier.Total + later.Total);
                mean += p * midDistribution[k];
                squares += p * midDistribution[k] * midDistribution[k];
            }
            double variance = squares - mean * mean;
            if (variance <= 0)
            {
                continue;
            }
            double d = ShiftOf(earlier) - ShiftOf(later);
            sum += d * d / (variance * (1.0 / earlier.Total + 1.0 / later.Total));
            pairs++;
        }
        return pairs == 0 ? 1 : sum / pairs;
    }

    /// <summary>
    /// The mid-distribution <c>u(k) = F(k - 1) + p(k)/2</c> of a cumulative distribution (the
    /// rank-sum test's score of a sample in bucket k: the share of the distribution below it, ties
    /// counted half) and its variance under that distribution, <c>Σ p u² - ¼ = (1 - Σ p³)/12</c>.
    /// </summary>
    private static double[] MidDistribution(double[] cumulative, out double variance)
    {
        var u = new double[cumulative.Length + 1];
        double previous = 0, squares = 0;
        for (int k = 0; k < u.Length; k++)
        {
            double f = k < cumulative.Length ? cumulative[k] : 1;
            double p = f - previous;
            u[k] = previous + p / 2;
            squares += p * u[k] * u[k];
            previous = f;
        }
        variance = Math.Max(0, squares - 0.25);
        return u;
    }

    private static double[] MedianCdf(double[][] cdfs)
    {
        int edges = cdfs[0].Length;
        var column = new double[cdfs.Length];
        var result = new double[edges];
        for (int k = 0; k < edges; k++)
        {
            for (int j = 0; j < cdfs.Length; j++)
            {
                column[j] = cdfs[j][k];
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
