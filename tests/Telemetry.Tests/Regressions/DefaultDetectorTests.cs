using System.Collections.Immutable;
using Telemetry.Grains.Regressions;
using static Telemetry.Tests.Regressions.SeriesFactory;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// The default detector's behaviours (docs/regressions.md, "The default detector") on constructed
/// series: a normal-shaped metric on 30 buckets of width 1 (mean 12, standard deviation 4), with
/// sampling noise from seeded generators.
/// </summary>
public sealed class DefaultDetectorTests
{
    private const double Mean = 12;
    private const double Sd = 4;
    private static readonly ImmutableArray<long> Bounds = IndexBounds(30);
    private static readonly DefaultDetector Detector = new();
    private static readonly CerberusDetector Cerberus = new();

    private static MetricSeries Steps(int days, Func<int, double> mean, long total, int seed, int cluster = 1, double wobble = 0) =>
        Normal(days, Bounds, mean, Sd, _ => total, seed, cluster, wobble);

    [Fact]
    public void ASmallShiftAtHighVolumeIsFoundWhereCerberusSeesNothing()
    {
        // A quarter of a standard deviation: 10 % of the samples cross the median; Hellinger 0.09.
        var series = Steps(40, d => d < 20 ? Mean : Mean + 0.25 * Sd, 200_000, seed: 1, cluster: 4, wobble: 0.02 * Sd);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal("default", finding.Detector);
        Assert.Equal(DateOf(20), finding.BuildDate);
        // At this volume each date shows the change clearly: the date is certain, the one suspect.
        Assert.Equal((DateOf(20), DateOf(20)), (finding.SuspectFrom, finding.SuspectTo));
        Assert.Equal(RegressionDirection.Higher, finding.Direction);
        Assert.InRange(finding.Score, 0.07, 0.13);
        Assert.True(finding.PValue < DefaultDetector.Alpha);
        Assert.Equal(Enumerable.Range(13, 7).Select(DateOf), finding.ReferenceDates);
        Assert.Equal(30, finding.Candidate.Length);
        Assert.Equal(1, finding.Reference.Sum(), 9);
        Assert.Empty(Cerberus.Detect(series));
    }

    [Fact]
    public void AShiftDownIsLowerAndFiresOnce()
    {
        var series = Steps(45, d => d < 15 ? Mean : Mean - 0.5 * Sd, 20_000, seed: 2, cluster: 2);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal(DateOf(15), finding.BuildDate);
        Assert.Equal(RegressionDirection.Lower, finding.Direction);
    }

    [Fact]
    public void TailGrowthIsHigherAndABimodalSplitIsChanged()
    {
        var before = NormalShape(Bounds, Mean, Sd);
        var tail = Mix((0.88, before), (0.12, NormalShape(Bounds, Mean + 3 * Sd, Sd)));
        var split = Mix((0.7, before), (0.15, NormalShape(Bounds, Mean - 1.5 * Sd, Sd)), (0.15, NormalShape(Bounds, Mean + 1.5 * Sd, Sd)));
        var rng = new Random(3);
        MetricSeries Of(double[] after) => Series(Enumerable.Range(0, 30).Select(d => Date(d, Bounds, Sample(d < 15 ? before : after, 50_000, rng))));

        Assert.Equal(RegressionDirection.Higher, Assert.Single(Detector.Detect(Of(tail))).Direction);
        var changed = Assert.Single(Detector.Detect(Of(split)));
        Assert.Equal(RegressionDirection.Changed, changed.Direction);
        Assert.Equal(DateOf(15), changed.BuildDate);
    }

    [Fact]
    public void NoChangeAtLowVolumeWithClusteredSamplesNeverFires()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            // 300 samples in pings of 3 identical values: 100 independent observations a date.
            Assert.Empty(Detector.Detect(Steps(40, _ => Mean, 300, seed, cluster: 3)));
        }
    }

    [Fact]
    public void NoChangeAtHighVolumeWithADayToDayWobbleNeverFires()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var series = Steps(40, _ => Mean, 100_000, seed, cluster: 5, wobble: 0.03 * Sd);

            Assert.Empty(Detector.Detect(series));

            // What the detector allows for: the dates scatter far more than samples of their size would.
            Assert.True(ReferenceDistribution.Build([.. series.Dates.Take(7)]).Dispersion > 5);
        }
    }

    [Fact]
    public void ATinyShiftAtHugeVolumeIsSignificantButNotReported()
    {
        // A 5 % of a standard deviation shift (2 % of samples cross the median) on 5 M samples a date.
        var series = Steps(40, d => d < 20 ? Mean : Mean + 0.05 * Sd, 5_000_000, seed: 4);
        var reference = ReferenceDistribution.Build([.. series.Dates.Skip(13).Take(7)]);
        var comparison = reference.Compare(series[20]);
        Assert.True(comparison.PValue < 1e-6, $"p = {comparison.PValue}");
        Assert.True(comparison.Distance < DefaultDetector.EffectFloor);

        Assert.Empty(Detector.Detect(series));
    }

    [Fact]
    public void AOneDaySpikeDoesNotFireAndDoesNotHideALaterShift()
    {
        var series = Steps(45, d => d switch
        {
            15 => Mean - 1.0 * Sd, // the spike
            < 25 => Mean,
            _ => Mean + 0.5 * Sd,
        }, 50_000, seed: 5, cluster: 2);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal(DateOf(25), finding.BuildDate);
        Assert.DoesNotContain(DateOf(15), finding.ReferenceDates);
    }

    [Fact]
    public void ASpikeJustBeforeAShiftIsLeftOutOfTheReference()
    {
        var series = Steps(40, d => d switch
        {
            19 => Mean - 1.0 * Sd,
            < 20 => Mean,
            _ => Mean + 0.5 * Sd,
        }, 50_000, seed: 6);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal(DateOf(20), finding.BuildDate);
        Assert.Equal(Enumerable.Range(12, 7).Select(DateOf), finding.ReferenceDates);
    }

    [Theory]
    [InlineData(1_000, 100_000)]
    [InlineData(100_000, 1_000)]
    public void AVolumeChangeWithoutAShapeChangeDoesNotFire(long before, long after)
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var series = Normal(40, Bounds, _ => Mean, Sd, d => d < 20 ? before : after, seed, cluster: 3, wobble: 0.02 * Sd);

            Assert.Empty(Detector.Detect(series));
        }
    }

    [Fact]
    public void ALayoutChangeDoesNotFireAndDetectionResumesInTheNewLayout()
    {
        // The same values re-bucketed: 30 buckets of width 1, then 30 buckets of width 2. Bucket by
        // bucket the histograms look as if everything had halved; cerberus compares them that way.
        var wide = WideBounds(30, 2);
        var rng = new Random(7);
        var dates = Enumerable.Range(0, 50).Select(d =>
        {
            var bounds = d < 15 ? Bounds : wide;
            double mean = d < 35 ? Mean : Mean + 0.5 * Sd;
            return Date(d, bounds, Sample(NormalShape(bounds, mean, Sd), 50_000, rng));
        });
        var series = Series(dates);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal(DateOf(35), finding.BuildDate);
        Assert.All(finding.ReferenceDates, d => Assert.True(d >= DateOf(15)));
        Assert.Equal(wide.ToArray(), finding.BucketLowerBounds.ToArray());
        Assert.Contains(Cerberus.Detect(series), f => f.BuildDate == DateOf(15));
    }

    [Fact]
    public void ASlowDriftIsFoundAgainstTheOlderReference()
    {
        // 2 % of a standard deviation per date for 30 dates: the median of the last 7 dates lags
        // the candidate by about 4 dates, 0.08 standard deviations, a Kolmogorov–Smirnov distance
        // of 0.03: below the effect floor every day.
        var series = Steps(55, d => Mean + 0.02 * Sd * Math.Clamp(d - 15, 0, 30), 100_000, seed: 8, cluster: 3, wobble: 0.01 * Sd);

        var findings = Detector.Detect(series);

        // Decided against references more than two weeks older than the confirming date, and
        // dated back to where the drift had visibly begun.
        var first = findings[0];
        Assert.InRange(first.BuildDate, DateOf(15), DateOf(30));
        int newestReference = first.ReferenceDates.Max().DayNumber - Day0.DayNumber;
        Assert.True(first.ConfirmedBy.DayNumber - Day0.DayNumber - newestReference > DefaultDetector.DriftLag);
        Assert.True(first.BuildDate < first.ConfirmedBy.AddDays(-1));
        Assert.All(findings, f => Assert.Equal(RegressionDirection.Higher, f.Direction));
        Assert.All(findings, f => Assert.InRange(f.BuildDate, DateOf(15), DateOf(47)));
        Assert.Empty(Cerberus.Detect(series));
    }

    [Fact]
    public void ADriftIsNotReportedAgainOnceItHasStopped()
    {
        // 0.9 standard deviations over 15 dates, then 35 dates at the new level.
        var series = Steps(70, d => Mean + 0.06 * Sd * Math.Clamp(d - 20, 0, 15), 50_000, seed: 13, cluster: 3, wobble: 0.01 * Sd);

        var findings = Detector.Detect(series);

        Assert.NotEmpty(findings);
        Assert.All(findings, f => Assert.InRange(f.BuildDate, DateOf(20), DateOf(36)));
    }

    [Fact]
    public void TheDateBeforeAChangeIsNotReportedWithIt()
    {
        // Date 19 moved a little (significant at 5 M samples, far below the effect floor), date 20
        // moved a lot: 19 and 20 together look like a change, but they do not look alike.
        var series = Steps(40, d => d switch
        {
            < 19 => Mean,
            19 => Mean + 0.03 * Sd,
            _ => Mean + 0.5 * Sd,
        }, 5_000_000, seed: 14);

        Assert.Equal([DateOf(20)], Detector.Detect(series).Select(f => f.BuildDate));
    }

    [Fact]
    public void NothingIsJudgedBeforeTheNoiseHasBeenSeenOnTenPairsOfDates()
    {
        // A change of a whole standard deviation at date 8: its windows have 4 references, but
        // fewer than 10 pairs of earlier dates to say how noisy the metric is.
        Assert.Empty(Detector.Detect(Steps(12, d => d < 8 ? Mean : Mean + Sd, 50_000, seed: 9)));

        // At date 12 there are 11 dates before it: the same change is found.
        var finding = Assert.Single(Detector.Detect(Steps(20, d => d < 12 ? Mean : Mean + Sd, 50_000, seed: 9)));
        Assert.Equal(DateOf(12), finding.BuildDate);
    }

    [Fact]
    public void AChangeIsWeighedAgainstTheMetricsOwnDayToDayScatter()
    {
        // The same 0.15-standard-deviation shift (6 % of the samples cross the median) at 100 k
        // samples a date: far beyond sampling noise, but within what this metric's population
        // moves from date to date when its mean wanders by 0.2 standard deviations a day.
        MetricSeries Shift(double wobble, int seed) => Steps(45, d => d < 25 ? Mean : Mean + 0.15 * Sd, 100_000, seed, cluster: 2, wobble: wobble * Sd);

        for (int seed = 0; seed < 5; seed++)
        {
            Assert.Equal([DateOf(25)], Detector.Detect(Shift(0.01, seed)).Select(f => f.BuildDate));
            Assert.Empty(Detector.Detect(Shift(0.2, seed)));
        }
    }

    [Fact]
    public void ALowVolumeChangeIsDatedWhereItBegan()
    {
        // A third of a standard deviation at 600 samples a date in pings of 3 identical values
        // (200 independent values a date): one date alone hardly shows it, a window of three does,
        // or a later comparison. Whichever comparison finds it, the finding blames the date of the
        // change, at worst the one before it.
        int exact = 0, found = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var findings = Detector.Detect(Steps(45, d => d < 22 ? Mean : Mean + Sd / 3, 600, seed, cluster: 3));
            Assert.All(findings, f => Assert.True(f.BuildDate >= DateOf(21), $"seed {seed}: dated {f.BuildDate}"));
            found += findings.Count > 0 ? 1 : 0;
            exact += findings.Count(f => f.BuildDate == DateOf(22));
        }
        Assert.True(found >= 15, $"{found} of 20 found");
        Assert.True(exact >= found * 3 / 4, $"{exact} of {found} dated at the change");
    }

    [Fact]
    public void AChangeLastingTwoDatesDoesNotFire()
    {
        // A bad build respun after a day can show on two build dates; a regression persists.
        var series = Steps(40, d => d is 20 or 21 ? Mean + Sd : Mean, 50_000, seed: 16, cluster: 2);

        Assert.Empty(Detector.Detect(series));
    }

    [Fact]
    public void DatesWithTooFewSamplesOrPingsAreNotJudged()
    {
        var rng = new Random(10);
        var before = NormalShape(Bounds, Mean, Sd);
        var after = NormalShape(Bounds, Mean + 2 * Sd, Sd);
        BuildDateHistogram At(int d, double[] shape, long total, long pings) => Date(d, Bounds, Sample(shape, total, rng), pings);

        // A huge change seen only on dates of 60 samples, or of 10 pings.
        var fewSamples = Enumerable.Range(0, 15).Select(d => At(d, before, 5_000, 0)).Concat(Enumerable.Range(15, 10).Select(d => At(d, after, 60, 0)));
        Assert.Empty(Detector.Detect(Series(fewSamples)));
        var fewPings = Enumerable.Range(0, 15).Select(d => At(d, before, 5_000, 500)).Concat(Enumerable.Range(15, 10).Select(d => At(d, after, 5_000, 10)));
        Assert.Empty(Detector.Detect(Series(fewPings)));
        var enoughPings = Enumerable.Range(0, 15).Select(d => At(d, before, 5_000, 500)).Concat(Enumerable.Range(15, 10).Select(d => At(d, after, 5_000, 500)));
        Assert.Single(Detector.Detect(Series(enoughPings)));
    }

    [Fact]
    public void AChangeWaitsForItsTwoConfirmingDates()
    {
        Assert.Empty(Detector.Detect(Steps(27, d => d < 25 ? Mean : Mean + Sd, 20_000, seed: 11)));

        var finding = Assert.Single(Detector.Detect(Steps(28, d => d < 25 ? Mean : Mean + Sd, 20_000, seed: 11)));
        Assert.Equal(DateOf(25), finding.BuildDate);
        Assert.Equal(DateOf(27), finding.ConfirmedBy);
    }

    [Fact]
    public void AppendingDatesNeverChangesEarlierFindings()
    {
        var full = Steps(60, d => d switch
        {
            12 => Mean + Sd,
            < 20 => Mean,
            < 40 => Mean + 0.4 * Sd,
            _ => Mean + 0.4 * Sd + 0.03 * Sd * (d - 40),
        }, 30_000, seed: 12, cluster: 2, wobble: 0.01 * Sd);
        var all = Detector.Detect(full);
        Assert.NotEmpty(all);
        static (DateOnly, DateOnly, double, RegressionDirection) Key(RegressionFinding f) => (f.BuildDate, f.ConfirmedBy, f.Score, f.Direction);

        for (int n = 5; n < full.Count; n++)
        {
            var found = Detector.Detect(Series(full.Dates.Take(n)));
            Assert.Equal(all.Where(f => f.ConfirmedBy < DateOf(n)).Select(Key), found.Select(Key));
        }
    }
}
