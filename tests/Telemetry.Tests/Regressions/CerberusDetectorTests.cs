using System.Collections.Immutable;
using Telemetry.Grains.Regressions;
using static Telemetry.Tests.Regressions.SeriesFactory;

namespace Telemetry.Tests.Regressions;

/// <summary>The consequences of the seed's rules (docs/regressions.md, "cerberus"), on exact shapes.</summary>
public sealed class CerberusDetectorTests
{
    private static readonly ImmutableArray<long> Bounds = IndexBounds(10);

    // Largest bucket 3,000 of 10,000: enough data.
    private static readonly double[] Base = [0.02, 0.08, 0.20, 0.30, 0.20, 0.12, 0.05, 0.02, 0.01, 0];

    // Base moved one bucket up: Hellinger distance 0.2559 from Base.
    private static readonly double[] Shifted = [0, 0.02, 0.08, 0.20, 0.30, 0.20, 0.12, 0.05, 0.02, 0.01];

    // Close to Base but not equal: its distance to Shifted differs from Base's by 0.04.
    private static readonly double[] Other = [0.05, 0.11, 0.22, 0.28, 0.17, 0.10, 0.04, 0.02, 0.01, 0];

    private static readonly CerberusDetector Detector = new();

    private static MetricSeries Of(params double[][] shapes) =>
        Series(shapes.Select((s, d) => Date(d, Bounds, Exact(s, 10_000))));

    private static double[][] Repeat(double[] shape, int n) => [.. Enumerable.Repeat(shape, n)];

    [Fact]
    public void DistanceIsHellingerOnNormalisedHistograms()
    {
        Assert.Equal(0, CerberusDetector.Distance(Base, Base), 12);
        Assert.Equal(1, CerberusDetector.Distance([1.0, 0], [0, 1.0]), 12);
        Assert.Equal(1, CerberusDetector.Distance([0.0, 0], Base.AsSpan(0, 2)), 12); // an empty histogram, as OpenCV computes it
        Assert.Equal(0.2559, CerberusDetector.Distance(Base, Shifted), 4);
    }

    [Fact]
    public void ARealShiftFiresOnceAtItsFirstDate()
    {
        var series = Of([.. Repeat(Base, 10), .. Repeat(Shifted, 15)]);

        var finding = Assert.Single(Detector.Detect(series));

        Assert.Equal("cerberus", finding.Detector);
        Assert.Equal(DateOf(10), finding.BuildDate);
        Assert.Equal(0.2559, finding.Score, 4);
        Assert.Equal(RegressionDirection.Higher, finding.Direction);
        Assert.Equal(Shifted, finding.Candidate.ToArray());
        Assert.Equal(Base, finding.Reference.ToArray());
        Assert.Equal([DateOf(9)], finding.ReferenceDates.ToArray());
        Assert.Null(finding.PValue);
        // Cerberus does not estimate how sure its date is: its one suspect is its build date.
        Assert.Equal((DateOf(10), DateOf(10)), (finding.SuspectFrom, finding.SuspectTo));
    }

    [Fact]
    public void AOneDaySpikeNeverFires()
    {
        Assert.Empty(Detector.Detect(Of([.. Repeat(Base, 10), Shifted, .. Repeat(Base, 10)])));
    }

    [Fact]
    public void AShiftLastingTwoDatesDoesNotFire()
    {
        Assert.Empty(Detector.Detect(Of([.. Repeat(Base, 10), Shifted, Shifted, .. Repeat(Base, 10)])));
    }

    [Fact]
    public void NoisyReferencesNeverFire()
    {
        double[][] noisy = [Base, Other, Base, Other, Base, Other, Base, Other, Base, Other];
        double[] distances = [.. noisy.TakeLast(7).Select(r => CerberusDetector.Distance(Shifted, r))];
        double mean = distances.Average();
        Assert.True(Math.Sqrt(distances.Average(d => (d - mean) * (d - mean))) > CerberusDetector.SpreadThreshold, "the references must spread more than 0.01");

        Assert.Empty(Detector.Detect(Of([.. noisy, .. Repeat(Shifted, 15)])));
        Assert.Single(Detector.Detect(Of([.. Repeat(Other, 10), .. Repeat(Shifted, 15)]))); // the same shift after quiet references
    }

    [Fact]
    public void FewerThanFourUsableReferencesNeverFire()
    {
        Assert.Empty(Detector.Detect(Of([.. Repeat(Base, 3), .. Repeat(Shifted, 10)])));
        Assert.Single(Detector.Detect(Of([.. Repeat(Base, 4), .. Repeat(Shifted, 10)])));
    }

    [Fact]
    public void ReferencesWithoutEnoughDataDoNotCount()
    {
        // 7 references of one shape, 4 of them with a total ≥ 1,000 but no bucket ≥ 1,000; counted,
        // they would make 7 equal distances and a finding.
        var dates = new List<BuildDateHistogram>();
        for (int d = 0; d < 7; d++)
        {
            dates.Add(Date(d, Bounds, Exact(Base, d % 2 == 0 ? 3_000 : 10_000)));
        }
        for (int d = 7; d < 17; d++)
        {
            dates.Add(Date(d, Bounds, Exact(Shifted, 10_000)));
        }
        Assert.False(CerberusDetector.HasEnoughData(dates[0]));
        Assert.True(dates[0].Total >= CerberusDetector.MinimumCount);

        Assert.Empty(Detector.Detect(Series(dates)));
    }

    [Fact]
    public void ACandidateWithoutEnoughDataIsSkipped()
    {
        var dates = Enumerable.Range(0, 10).Select(d => Date(d, Bounds, Exact(Base, 10_000)))
            .Append(Date(10, Bounds, Exact(Shifted, 3_000))) // largest bucket 900
            .Concat(Enumerable.Range(11, 10).Select(d => Date(d, Bounds, Exact(Shifted, 10_000))));

        var finding = Assert.Single(Detector.Detect(Series(dates)));

        Assert.Equal(DateOf(11), finding.BuildDate);
    }

    [Fact]
    public void TheReferenceIsTheNewestUsableOne()
    {
        // Date 9, just before the shift, has too little data: the finding shows date 8.
        var dates = Enumerable.Range(0, 9).Select(d => Date(d, Bounds, Exact(Base, 10_000 + 1_000 * d)))
            .Append(Date(9, Bounds, Exact(Base, 500)))
            .Concat(Enumerable.Range(10, 10).Select(d => Date(d, Bounds, Exact(Shifted, 10_000))));

        var finding = Assert.Single(Detector.Detect(Series(dates)));

        Assert.Equal(DateOf(10), finding.BuildDate);
        Assert.Equal([DateOf(8)], finding.ReferenceDates.ToArray());
        Assert.Equal(Base, finding.Reference.Select(p => Math.Round(p, 6)));
    }

    [Fact]
    public void TheLastTwoDatesAreNeverCandidates()
    {
        var twoShifted = Of([.. Repeat(Base, 10), Shifted, Shifted]);
        Assert.Empty(Detector.Detect(twoShifted));

        var threeShifted = Of([.. Repeat(Base, 10), Shifted, Shifted, Shifted]);
        Assert.Equal([DateOf(10)], Detector.Detect(threeShifted).Select(f => f.BuildDate));
    }

    [Fact]
    public void ADifferentBucketCountIsNotComparedAndTheSameCountIsComparedBucketByBucket()
    {
        // The seed compares arrays index by index and ignores the bounds.
        var wider = WideBounds(10, 2);
        var sameCount = Enumerable.Range(0, 10).Select(d => Date(d, Bounds, Exact(Base, 10_000)))
            .Concat(Enumerable.Range(10, 10).Select(d => Date(d, wider, Exact(Shifted, 10_000))));
        Assert.Single(Detector.Detect(Series(sameCount)));

        double[] longer = [.. Shifted, 0, 0];
        var otherCount = Enumerable.Range(0, 10).Select(d => Date(d, Bounds, Exact(Base, 10_000)))
            .Concat(Enumerable.Range(10, 10).Select(d => Date(d, IndexBounds(12), Exact(longer, 10_000))));
        Assert.Empty(Detector.Detect(Series(otherCount)));
    }
}
