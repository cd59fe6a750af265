namespace Telemetry.Grains.Regressions;

/// <summary>
/// The product's default detector (docs/regressions.md, "The default detector"). For every build
/// date with enough data it compares the date's cumulative distribution with a robust reference
/// (the median of up to 7 earlier usable dates of the same bucket layout, without dates that looked
/// odd on their own), with a Kolmogorov–Smirnov test whose sample sizes are scaled down by the
/// scatter the reference dates show among themselves. A date is a regression when it and the
/// next usable date both differ significantly, in the same direction at the same bucket edge, and
/// the change they show together is at least <see cref="EffectFloor"/>. A second comparison with a
/// reference two weeks older finds slow drifts that each day's comparison with the days just
/// before cannot see. After a regression the reference restarts from the regression's date.
/// </summary>
public sealed class DefaultDetector : IRegressionDetector
{
    public const string DetectorName = "default";

    /// <summary>Reference dates per comparison: a week of nightly builds, so weekday/weekend population changes are inside the reference.</summary>
    public const int ReferenceDates = 7;

    /// <summary>
    /// Fewer usable references than this and the date is not judged: the median of 4 still
    /// ignores one odd date, and the dispersion estimate needs a few dates to mean anything.
    /// </summary>
    public const int MinimumReferenceDates = 4;

    /// <summary>
    /// References are looked for among this many positions before the candidate (twice
    /// <see cref="ReferenceDates"/>: up to half of them may be unusable); older dates describe an
    /// older product.
    /// </summary>
    public const int ReferenceSpan = 14;

    /// <summary>
    /// The drift comparison's references end this many positions before the candidate. A change
    /// slower than about <see cref="EffectFloor"/> per 4 dates never stands out against the last 7
    /// dates (whose median lags the candidate by about 4); against dates two weeks older it has
    /// accumulated 3–4 times as much.
    /// </summary>
    public const int DriftLag = 14;

    /// <summary>The confirming date is the next usable date within this many positions; beyond, the candidate is not confirmed.</summary>
    public const int ConfirmationSpan = 3;

    /// <summary>
    /// Significance each of the two dates (candidate and confirmation) must reach on its own.
    /// Detection runs daily on thousands of metrics: about 2,000 histograms × 365 dates × 2
    /// comparisons ≈ 1.5 M tests a year. Two independent dates at 0.001 in the same direction
    /// happen by chance with probability ≈ 5·10⁻⁷, under one a year from sampling noise; the
    /// margin covers what the test does not model exactly (φ estimated from 7 dates, a day-to-day
    /// wobble moving all bucket edges together, whose tail is heavier than Kolmogorov's).
    /// </summary>
    public const double Alpha = 0.001;

    /// <summary>
    /// Smallest change reported, as a Kolmogorov–Smirnov distance: 5 % of the samples crossed
    /// some bucket edge (for a normal-shaped metric, a shift of the mean by about 1/8 of its
    /// standard deviation). Nightly populations change by a percent or two between build dates
    /// without any code change, so below this the huge volumes of popular metrics would make
    /// every harmless wobble significant. It is also what one date of <see cref="MinimumSamples"/>
    /// samples can resolve (the standard error of a share near ½ is 0.5/√100).
    /// </summary>
    public const double EffectFloor = 0.05;

    /// <summary>Dates with fewer samples are neither candidates nor references (see <see cref="EffectFloor"/>).</summary>
    public const long MinimumSamples = 100;

    /// <summary>
    /// Dates whose samples came from fewer pings (when the count of pings is known) are not used:
    /// a handful of clients is not the population, and the dispersion model assumes many
    /// independent contributors.
    /// </summary>
    public const long MinimumPings = 20;

    public string Name => DetectorName;

    public IReadOnlyList<RegressionFinding> Detect(MetricSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        int n = series.Count;
        var usable = new bool[n];
        for (int i = 0; i < n; i++)
        {
            usable[i] = IsUsable(series[i]);
        }

        // Dates that differed significantly on their own but were not confirmed (one-day spikes):
        // never used as references afterwards.
        var odd = new bool[n];
        int regimeStart = 0;
        var findings = new List<RegressionFinding>();
        for (int i = 0; i < n; i++)
        {
            if (!usable[i])
            {
                continue;
            }
            int? confirmation = ConfirmationOf(series, usable, i, out bool pending);
            if (pending)
            {
                continue; // judged once the next usable date arrives
            }
            RegressionFinding? finding = null;
            foreach (int lag in (ReadOnlySpan<int>)[1, DriftLag])
            {
                var references = ReferencesOf(series, usable, odd, regimeStart, i, lag);
                if (references.Count < MinimumReferenceDates)
                {
                    continue;
                }
                var reference = ReferenceDistribution.Build(references);
                var candidate = reference.Compare(series[i]);
                if (candidate.PValue >= Alpha)
                {
                    continue;
                }
                if (confirmation is int c && Confirms(candidate, reference.Compare(series[c]), out var together))
                {
                    finding = ToFinding(series[i], candidate, reference, together);
                    break;
                }
                if (candidate.Distance >= EffectFloor)
                {
                    odd[i] = true;
                }
            }
            if (finding is not null)
            {
                findings.Add(finding);
                odd[i] = false; // the first date of the new distribution is its first reference
                regimeStart = i;
            }
        }
        return findings;
    }

    /// <summary>Enough samples (and pings, when known) to say something about the distribution.</summary>
    public static bool IsUsable(BuildDateHistogram h) =>
        h.Total >= MinimumSamples && (h.Pings == 0 || h.Pings >= MinimumPings);

    /// <summary>
    /// The next usable date within <see cref="ConfirmationSpan"/> positions; none when that date has
    /// another layout (a layout change cannot confirm anything) or there is none in the span;
    /// <paramref name="pending"/> when the series ends before the span does.
    /// </summary>
    private static int? ConfirmationOf(MetricSeries series, bool[] usable, int i, out bool pending)
    {
        pending = false;
        for (int j = i + 1; j <= i + ConfirmationSpan; j++)
        {
            if (j >= series.Count)
            {
                pending = true;
                return null;
            }
            if (usable[j])
            {
                return series.LayoutId(j) == series.LayoutId(i) ? j : null;
            }
        }
        return null;
    }

    /// <summary>
    /// Up to <see cref="ReferenceDates"/> usable dates of the candidate's layout, not odd, not before
    /// the last regression, newest first, among the <see cref="ReferenceSpan"/> positions that end
    /// <paramref name="lag"/> positions before the candidate (1: the date just before it).
    /// </summary>
    private static List<BuildDateHistogram> ReferencesOf(MetricSeries series, bool[] usable, bool[] odd, int regimeStart, int i, int lag)
    {
        var references = new List<BuildDateHistogram>(ReferenceDates);
        int newest = i - lag;
        int oldest = Math.Max(regimeStart, newest - ReferenceSpan + 1);
        for (int j = newest; j >= oldest && references.Count < ReferenceDates; j--)
        {
            if (usable[j] && !odd[j] && series.LayoutId(j) == series.LayoutId(i))
            {
                references.Add(series[j]);
            }
        }
        return references;
    }

    /// <summary>
    /// The confirming date differs significantly too, both dates differ the same way at the edge
    /// where their mean difference is largest, and that mean difference (the change as the two
    /// dates together estimate it) reaches <see cref="EffectFloor"/>.
    /// </summary>
    private static bool Confirms(CdfComparison candidate, CdfComparison confirmation, out double[] together)
    {
        together = new double[candidate.Differences.Length];
        int edge = 0;
        for (int k = 0; k < together.Length; k++)
        {
            together[k] = (candidate.Differences[k] + confirmation.Differences[k]) / 2;
            if (Math.Abs(together[k]) > Math.Abs(together[edge]))
            {
                edge = k;
            }
        }
        return confirmation.PValue < Alpha
            && Math.Abs(together[edge]) >= EffectFloor
            && Math.Sign(candidate.Differences[edge]) == Math.Sign(together[edge])
            && Math.Sign(confirmation.Differences[edge]) == Math.Sign(together[edge]);
    }

    private static RegressionFinding ToFinding(BuildDateHistogram date, CdfComparison candidate, ReferenceDistribution reference, double[] together) => new()
    {
        Detector = DetectorName,
        BuildDate = date.BuildDate,
        Score = candidate.Distance,
        PValue = candidate.PValue,
        Direction = CdfComparison.DirectionOf(together),
        BucketLowerBounds = date.LowerBounds,
        Candidate = [.. date.Normalised()],
        Reference = [.. reference.Normalised()],
        ReferenceDates = reference.Dates,
    };
}
