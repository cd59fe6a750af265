namespace Telemetry.Grains.Regressions;

/// <summary>
/// The product's default detector (docs/regressions.md, "The default detector"). Every usable build
/// date is a candidate, judged together with its next two usable dates (the window, pooled) against
/// a robust reference: the median of up to 7 earlier usable dates of the same bucket layout,
/// without dates that looked odd on their own. Two tests weigh the difference by volume with the
/// noise this metric showed over the last four weeks (per bucket edge: samples cluster within
/// pings, populations move from date to date): the cumulative distributions edge by edge, and the
/// rank-sum shift. The window is a regression when it is significant (<see cref="Alpha"/>), the
/// change reaches <see cref="EffectFloor"/>, the candidate alone shows it (<see cref="DatingZ"/>)
/// and every date of the window is closer to the change than to the reference. A second comparison
/// with a reference two weeks older finds slow drifts (and changes too small for one window) that
/// the comparison with the days just before cannot see. Every finding is dated at the most likely
/// change point that shows the change on its own. After a regression the references restart from
/// its date.
/// </summary>
public sealed class DefaultDetector : IRegressionDetector
{
    public const string DetectorName = "default";

    /// <summary>Reference dates per comparison: a week of nightly builds, so weekday/weekend population changes are inside the reference.</summary>
    public const int ReferenceDates = 7;

    /// <summary>Fewer usable references than this and the date is not judged: the median of 4 still ignores one odd date.</summary>
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

    /// <summary>
    /// The noise of a metric (how much consecutive dates differ beyond sampling) is measured on the
    /// pairs of consecutive dates among this many positions before the candidate: four weeks, about
    /// 25 pairs, where the reference's 7 dates would give 6. The noise level changes more slowly
    /// than the distribution, and an estimate from 6 pairs is too often far too low: a test at
    /// 10⁻⁷ then fires at 10⁻³.
    /// </summary>
    public const int NoiseSpan = 28;

    /// <summary>
    /// A confirming date is the next usable date within this many positions of the date before it;
    /// beyond, the window ends (a weekend of low volume may lie in between).
    /// </summary>
    public const int ConfirmationSpan = 3;

    /// <summary>
    /// Dates after the candidate that confirm it, as in cerberus: the candidate is judged on itself
    /// and the next 2 usable dates, pooled. A regression is a change that persists; a bad build
    /// respun the next day can show on two build dates, and a window of two could not tell that
    /// from a change. An owner hears of a change 2 nightlies after it landed (more across unusable
    /// dates).
    /// </summary>
    public const int ConfirmingDates = 2;

    /// <summary>
    /// Significance a window (the candidate and its confirming dates, pooled) must reach, on the
    /// combined p-value of its two tests (twice the smaller: Bonferroni). Detection runs daily on
    /// about 2,000 histograms: 2,000 × 365 dates × 2 comparisons (recent and drift) ≈ 1.5 M windows
    /// a year, so 5·10⁻⁷ is under one false alert a year from sampling noise when the noise is
    /// modelled right (fewer: overlapping windows are not independent). The margin is for what the
    /// model does not capture exactly: the dispersion is estimated, and a day-to-day movement of
    /// the population has tails of its own.
    /// </summary>
    public const double Alpha = 5e-7;

    /// <summary>
    /// A date that differs from its reference at this level on its own (combined p-value), by at
    /// least <see cref="EffectFloor"/>, and is not part of a regression, is "odd" (a one-day
    /// excursion) and never used as a reference afterwards. Lenient on purpose: leaving a normal
    /// date out of a reference costs little, keeping an odd one in costs a missed change.
    /// </summary>
    public const double OddAlpha = 0.001;

    /// <summary>
    /// The date a finding blames must differ from the reference in the change's direction by this
    /// many standard errors on its own (one-sided 0.1 %): a finding blames the builds of its date, so
    /// that date's own samples must show the change. Without it a date just before a change, whose
    /// noise happens to lean the change's way, could be reported with the change as its
    /// confirmation. 0.1 % rather than 1 %: the onset search may test several dates before a change
    /// (<see cref="OnsetOf"/>), and with a few hundred real changes a year on 2,000 metrics, 1 % would
    /// blame innocent builds more often than sampling noise raises false alerts (docs/regressions.md).
    /// </summary>
    public const double DatingZ = 3.09;

    /// <summary>
    /// Fewer pairs of consecutive dates than this to measure the noise on, and the date is not
    /// judged. The dispersion from ν pairs scatters like χ²_ν/ν: with fewer than 10 its 90 %
    /// interval spans more than a factor 2.5, and a test meant at 10⁻⁷ can run at 10⁻⁴ when the
    /// estimate happens to be low. After a layout change (and at the start of a series) detection
    /// waits for 11 usable dates.
    /// </summary>
    public const int MinimumNoisePairs = 10;

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
            var window = WindowOf(series, usable, i, out bool complete);
            if (!complete)
            {
                // Judged once its confirming dates have arrived, and every later date after it, so
                // that appending dates never changes a finding.
                break;
            }
            var noise = NoisePairsOf(series, usable, odd, regimeStart, i);
            if (noise.Count < MinimumNoisePairs)
            {
                continue;
            }
            RegressionFinding? finding = null;
            foreach (int lag in (ReadOnlySpan<int>)[1, DriftLag])
            {
                var references = ReferencesOf(series, usable, odd, regimeStart, i, lag);
                if (references.Count < MinimumReferenceDates)
                {
                    continue;
                }
                var reference = ReferenceDistribution.Build([.. references.Select(j => series[j])], noise);
                var verdict = Verdict.NotSignificant;
                if (window.Count == ConfirmingDates + 1)
                {
                    var dates = window.Select(j => series[j]).ToList();
                    var pooled = reference.Compare(dates);
                    verdict = Judge(reference, pooled, dates, out var statistic);
                    if (verdict == Verdict.Regression)
                    {
                        var (onset, first, last) = OnsetOf(series, usable, statistic, references[^1], i, window[^1]);
                        finding = ToFinding(series[onset], series[window[^1]], reference, pooled) with
                        {
                            SuspectFrom = series[first].BuildDate,
                            SuspectTo = series[last].BuildDate,
                        };
                        regimeStart = onset;
                        break;
                    }
                }
                var alone = reference.Compare(series[i]);
                if (alone.PValue < OddAlpha && alone.Distance >= EffectFloor)
                {
                    odd[i] = true;
                }
                if (verdict == Verdict.NotHere)
                {
                    // The dates just before the candidate say the distribution differs, and that it
                    // does not change at the candidate: no other reference makes it a change point.
                    break;
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
    /// The candidate and up to <see cref="ConfirmingDates"/> following usable dates of its layout,
    /// each within <see cref="ConfirmationSpan"/> positions of the previous one. <paramref name="complete"/>
    /// is false when the series ends before the window could be full: more dates may still join it.
    /// </summary>
    private static List<int> WindowOf(MetricSeries series, bool[] usable, int i, out bool complete)
    {
        var window = new List<int>(ConfirmingDates + 1) { i };
        complete = true;
        int last = i;
        for (int j = i + 1; window.Count <= ConfirmingDates; j++)
        {
            if (j >= series.Count)
            {
                complete = false;
                break;
            }
            if (j > last + ConfirmationSpan)
            {
                break;
            }
            if (!usable[j])
            {
                continue;
            }
            if (series.LayoutId(j) != series.LayoutId(i))
            {
                break; // a layout change cannot confirm anything
            }
            window.Add(j);
            last = j;
        }
        return window;
    }

    /// <summary>
    /// Pairs of consecutive usable, not odd dates of the candidate's layout among the
    /// <see cref="NoiseSpan"/> positions before it, but no pair across the last regression: what
    /// the noise of this metric at this volume looks like (see <see cref="ReferenceDistribution"/>).
    /// </summary>
    private static List<(BuildDateHistogram, BuildDateHistogram)> NoisePairsOf(MetricSeries series, bool[] usable, bool[] odd, int regimeStart, int i)
    {
        var pairs = new List<(BuildDateHistogram, BuildDateHistogram)>(NoiseSpan);
        int later = -1;
        for (int j = i - 1; j >= Math.Max(0, i - NoiseSpan); j--)
        {
            if (!usable[j] || odd[j] || series.LayoutId(j) != series.LayoutId(i))
            {
                continue;
            }
            if (later >= 0 && !(j < regimeStart && later >= regimeStart))
            {
                pairs.Add((series[j], series[later]));
            }
            later = j;
        }
        return pairs;
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
    /// The window (candidate and confirming dates, pooled) is a regression when its combined
    /// p-value is below <see cref="Alpha"/>, its Kolmogorov–Smirnov distance reaches
    /// <see cref="EffectFloor"/>, the candidate alone shows the change (<see cref="DatingZ"/> on the
    /// decisive test's statistic), and every date of the window is closer to the window's level
    /// than to the reference's (more than half the change, in its direction). The last rule is the
    /// maximum-likelihood assignment of each date to "before" or "after" when their noise is alike:
    /// a one-day spike among normal dates fails it (the normal dates sit at the reference, the
    /// window's level is a fraction of the spike), and so does a date just before a change whose
    /// noise happens to lean the change's way. It is a ratio of the statistic's values, so it holds
    /// whatever the noise after a change is (a change that affects some clients and not others adds
    /// noise of its own, which the noise measured before it does not know).
    /// </summary>
    private static Verdict Judge(ReferenceDistribution reference, CdfComparison pooled, List<BuildDateHistogram> window, out ChangeStatistic statistic)
    {
        statistic = reference.StatisticOf(pooled);
        if (pooled.PValue >= Alpha || pooled.Distance < EffectFloor)
        {
            return Verdict.NotSignificant;
        }
        double change = statistic.Value(window);
        double sign = Math.Sign(change);
        if (sign == 0 || sign * statistic.Z(window[0]) < DatingZ)
        {
            return Verdict.NotHere;
        }
        foreach (var date in window)
        {
            if (sign * statistic.Value(date) <= Math.Abs(change) / 2)
            {
                return Verdict.NotHere;
            }
        }
        return Verdict.Regression;
    }

    /// <summary>What a window says about its candidate.</summary>
    private enum Verdict
    {
        /// <summary>No difference from the reference that is significant and at least the effect floor.</summary>
        NotSignificant,

        /// <summary>A difference, but the candidate's date does not show it, or a date of the window does not.</summary>
        NotHere,

        /// <summary>A change at the candidate.</summary>
        Regression,
    }

    /// <summary>
    /// Where the change began. The candidate window shows that the distribution differs from the
    /// reference, not that it changed at the candidate: against the drift comparison's older
    /// references a drift, or a shift too small for one window, began earlier; and a reference may
    /// already hold the first dates of a change that the comparisons before missed (its first dates
    /// are then often odd ones, left out of the reference). The onset is the maximum-likelihood
    /// change point of one step in the decisive statistic over every usable date of the layout
    /// from the oldest reference date to the end of the window (odd dates included: a date that
    /// looked odd alone may have been the change's first): the date t maximising
    /// <c>(m_after - m_before) / sqrt(1/W_before + 1/W_after)</c> in the change's direction, m the
    /// weighted means of the dates before t and from t on, W their weights. Both levels are
    /// estimated (the reference's own noise shifts every date's value alike, which would draw a
    /// step from a known level to the earliest dates); for a linear drift the point lies in the
    /// drift's first half. Then the date blamed must be where the evidence shows the change: the
    /// onset moves forward to the first date from there that is closer to the level after the step
    /// than to the level before and whose window (that date and the next
    /// <see cref="ConfirmingDates"/>, pooled, the unit detection judges) is significant against
    /// the reference (<see cref="DatingZ"/>); the candidate always is. A window rather than the
    /// date alone: at a few hundred pings a date no single date of a real change reaches 3 standard
    /// errors, and a change found late by a later comparison was then blamed on whichever date had
    /// made the window significant, several dates after it began (docs/regressions.md, "Dating").
    /// <paramref name="First"/>..<paramref name="Last"/>: the dates that hold the change's start with
    /// probability <see cref="ChangePointPosterior.Level"/> under the same one-step model, from the
    /// oldest reference to the end of the window (<see cref="ChangePointPosterior"/>).
    /// </summary>
    private static (int Onset, int First, int Last) OnsetOf(MetricSeries series, bool[] usable, ChangeStatistic statistic, int oldestReference, int candidate, int windowEnd)
    {
        var dates = new List<int>();
        for (int j = oldestReference; j <= windowEnd; j++)
        {
            if (usable[j] && series.LayoutId(j) == series.LayoutId(candidate))
            {
                dates.Add(j);
            }
        }
        var values = dates.Select(j => statistic.Value(series[j])).ToArray();
        var weights = dates.Select(j => statistic.Weight(series[j])).ToArray();
        double sign = Math.Sign(statistic.Value([.. dates.Where(j => j >= candidate).Select(j => series[j])]));
        double beforeSum = weights[0] * values[0], beforeWeight = weights[0];
        double afterSum = 0, afterWeight = 0;
        for (int k = 1; k < dates.Count; k++)
        {
            afterSum += weights[k] * values[k];
            afterWeight += weights[k];
        }
        double best = double.NegativeInfinity, before = 0, after = 0;
        int onset = candidate;
        for (int k = 1; k < dates.Count && dates[k] <= candidate; k++)
        {
            double mb = beforeSum / beforeWeight, ma = afterSum / afterWeight;
            double t = sign * (ma - mb) / Math.Sqrt(1 / beforeWeight + 1 / afterWeight);
            if (t > best)
            {
                best = t;
                onset = dates[k];
                before = mb;
                after = ma;
            }
            beforeSum += weights[k] * values[k];
            beforeWeight += weights[k];
            afterSum -= weights[k] * values[k];
            afterWeight -= weights[k];
        }
        int blamed = dates.IndexOf(candidate);
        for (int k = 1; k < dates.Count && dates[k] <= candidate; k++)
        {
            if (dates[k] >= onset
                && sign * WindowZ(series, statistic, dates, k) >= DatingZ
                && Math.Abs(values[k] - after) < Math.Abs(values[k] - before))
            {
                blamed = k;
                break;
            }
        }
        var precisions = dates.Select(j => statistic.Precision(series[j])).ToArray();
        var posterior = ChangePointPosterior.Of(values, precisions, (int)sign);
        var (first, last) = ChangePointPosterior.CredibleRange(posterior, blamed);
        return (dates[blamed], dates[first], dates[last]);
    }

    /// <summary>
    /// The change statistic of the date <c>dates[k]</c> and the next <see cref="ConfirmingDates"/>
    /// dates of the list, pooled, in standard errors against the reference: the evidence a window
    /// starting at that date gives, the unit detection itself judges.
    /// </summary>
    private static double WindowZ(MetricSeries series, ChangeStatistic statistic, List<int> dates, int k)
    {
        var window = dates.Skip(k).Take(ConfirmingDates + 1).Select(j => series[j]).ToList();
        return statistic.Z(window);
    }

    private static RegressionFinding ToFinding(BuildDateHistogram onset, BuildDateHistogram confirmation, ReferenceDistribution reference, CdfComparison window)
    {
        return new()
        {
            Detector = DetectorName,
            BuildDate = onset.BuildDate,
            ConfirmedBy = confirmation.BuildDate,
            Score = reference.Compare(onset).Distance,
            PValue = window.PValue,
            Direction = CdfComparison.DirectionOf(window.Differences.AsSpan()),
            BucketLowerBounds = onset.LowerBounds,
            Candidate = [.. onset.Normalised()],
            Reference = [.. reference.Normalised()],
            ReferenceDates = reference.Dates,
        };
    }
}
