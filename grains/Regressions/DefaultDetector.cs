namespace Telemetry.Grains.Regressions;

/// <summary>
/// The product's default detector (docs/regressions.md, "The default detector"). For every build
/// date with enough data it compares the date's cumulative distribution with a robust reference
/// (the median of up to 7 earlier usable dates of the same bucket layout, without dates that looked
/// odd on their own), with a Kolmogorov–Smirnov test whose sample sizes are scaled down by the
/// scatter the reference dates show among themselves. A date is a regression when it and the
/// next usable date both differ significantly, in the same direction at the same bucket edge, look
/// more like each other than like the reference, and the change they show together is at least
/// <see cref="EffectFloor"/>. A second comparison with a
/// reference two weeks older finds slow drifts (and changes too small for one day's samples) that
/// each day's comparison with the days just before cannot see; such a finding is dated where the
/// change began. After a regression the references restart from the regression's date.
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
                var reference = ReferenceDistribution.Build([.. references.Select(j => series[j])]);
                var candidate = reference.Compare(series[i]);
                if (candidate.PValue >= Alpha)
                {
                    continue;
                }
                if (confirmation is int c && Confirms(candidate, reference.Compare(series[c]), out var together, out int edge))
                {
                    int onset = OnsetOf(series, usable, odd, reference, references[0], i, edge, together[edge]);
                    finding = ToFinding(series[onset], series[c], reference, together);
                    regimeStart = onset;
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
                odd[regimeStart] = odd[i] = false; // dates of the new distribution are its references
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
    /// <paramref name="lag"/> positions before the candidate (1: the date just before it; the drift
    /// comparison after a regression only once that whole span lies after it).
    /// </summary>
    private static List<int> ReferencesOf(MetricSeries series, bool[] usable, bool[] odd, int regimeStart, int i, int lag)
    {
        var references = new List<int>(ReferenceDates);
        int newest = i - lag;
        int oldest = newest - ReferenceSpan + 1;
        if (lag > 1 && regimeStart > 0 && oldest < regimeStart)
        {
            // After a regression the drift comparison waits until its whole span lies after it:
            // with a few dates of a drift that was just reported in its reference, it would
            // report the rest of the same drift again.
            return references;
        }
        oldest = Math.Max(regimeStart, oldest);
        for (int j = newest; j >= oldest && references.Count < ReferenceDates; j--)
        {
            if (usable[j] && !odd[j] && series.LayoutId(j) == series.LayoutId(i))
            {
                references.Add(j);
            }
        }
        return references;
    }

    /// <summary>
    /// The confirming date differs significantly too; both dates differ the same way at the edge
    /// where their mean difference is largest; that mean difference (the change as the two dates
    /// together estimate it) reaches <see cref="EffectFloor"/>; and the two dates are closer to
    /// each other than their mean is to the reference. The last rule keeps the date before a
    /// change from being reported with the change as its confirmation: that pair's mean shows half
    /// the change, the distance between them all of it.
    /// </summary>
    private static bool Confirms(CdfComparison candidate, CdfComparison confirmation, out double[] together, out int edge)
    {
        together = new double[candidate.Differences.Length];
        edge = 0;
        double between = 0;
        for (int k = 0; k < together.Length; k++)
        {
            together[k] = (candidate.Differences[k] + confirmation.Differences[k]) / 2;
            between = Math.Max(between, Math.Abs(candidate.Differences[k] - confirmation.Differences[k]));
            if (Math.Abs(together[k]) > Math.Abs(together[edge]))
            {
                edge = k;
            }
        }
        double change = Math.Abs(together[edge]);
        return confirmation.PValue < Alpha
            && change >= EffectFloor
            && between < change
            && Math.Sign(candidate.Differences[edge]) == Math.Sign(together[edge])
            && Math.Sign(confirmation.Differences[edge]) == Math.Sign(together[edge]);
    }

    /// <summary>
    /// Where the change began, between the newest reference date and the candidate. With the
    /// references just before the candidate that is the candidate. Against the drift comparison's
    /// older references the change may have begun earlier (a drift, or a shift too small for the
    /// comparison with the last 7 dates on each date's samples): a date belongs to the new
    /// distribution when its difference at the decisive edge, in the change's direction, is more
    /// than half the change (closer to the change than to the reference), and the onset is the
    /// first date of the unbroken run of such dates that ends at the candidate (unusable dates do
    /// not break it). Noise can end the run late, rarely early: a finding dated too early would
    /// blame builds that did not change anything.
    /// </summary>
    private static int OnsetOf(MetricSeries series, bool[] usable, bool[] odd, ReferenceDistribution reference, int newestReference, int candidate, int edge, double change)
    {
        int onset = candidate;
        for (int j = candidate - 1; j > newestReference; j--)
        {
            if (!usable[j] || series.LayoutId(j) != series.LayoutId(candidate))
            {
                continue;
            }
            if (odd[j] || reference.Compare(series[j]).Differences[edge] * Math.Sign(change) <= Math.Abs(change) / 2)
            {
                break;
            }
            onset = j;
        }
        return onset;
    }

    private static RegressionFinding ToFinding(BuildDateHistogram onset, BuildDateHistogram confirmation, ReferenceDistribution reference, double[] together)
    {
        var comparison = reference.Compare(onset);
        return new()
        {
            Detector = DetectorName,
            BuildDate = onset.BuildDate,
            ConfirmedBy = confirmation.BuildDate,
            Score = comparison.Distance,
            PValue = comparison.PValue,
            Direction = CdfComparison.DirectionOf(together),
            BucketLowerBounds = onset.LowerBounds,
            Candidate = [.. onset.Normalised()],
            Reference = [.. reference.Normalised()],
            ReferenceDates = reference.Dates,
        };
    }
}
