using System.Collections.Immutable;
using Telemetry.Grains.Regressions;
using static Telemetry.Tests.Regressions.SeriesFactory;

namespace Telemetry.Tests.Regressions;

public sealed class RegressionSeriesTests
{
    [Fact]
    public void DatesAreSortedAndLayoutsNumbered()
    {
        var narrow = IndexBounds(3);
        var wide = WideBounds(3, 10);
        var series = Series([Date(2, narrow, [1, 2, 3]), Date(0, narrow, [3, 2, 1]), Date(1, wide, [0, 0, 5])]);

        Assert.Equal([DateOf(0), DateOf(1), DateOf(2)], series.Dates.Select(d => d.BuildDate));
        Assert.Equal(series.LayoutId(0), series.LayoutId(2));
        Assert.NotEqual(series.LayoutId(0), series.LayoutId(1));
        Assert.Equal(6, series[0].Total);
        Assert.Equal([0.5, 5.0 / 6], series[0].Cumulative());
    }

    [Fact]
    public void ABuildDateTwiceOrMismatchedCountsAreRefused()
    {
        var b = IndexBounds(3);
        Assert.Throws<ArgumentException>(() => Series([Date(0, b, [1, 2, 3]), Date(0, b, [1, 2, 3])]));
        Assert.Throws<ArgumentException>(() => Date(0, b, [1, 2]));
        Assert.Throws<ArgumentException>(() => Date(0, b, [1, -2, 3]));
        Assert.Throws<ArgumentException>(() => Date(0, [0L, 5, 5], [1, 2, 3]));
    }

    [Fact]
    public void BuildDatesReadAndWriteAsYyyyMmDd()
    {
        Assert.Equal(new DateOnly(2018, 3, 1), MetricSeries.ParseBuildDate("20180301"));
        Assert.Equal(new DateOnly(2018, 3, 1), MetricSeries.ParseBuildDate("20180301004511"));
        Assert.Equal("20180301", MetricSeries.FormatBuildDate(new DateOnly(2018, 3, 1)));
        Assert.Throws<FormatException>(() => MetricSeries.ParseBuildDate("2018-03-01"));
        Assert.Equal("higher", RegressionDirection.Higher.ToWireName());
        Assert.Equal("changed", RegressionDirection.Changed.ToWireName());
    }

    [Fact]
    public void TheReferenceIsTheMedianOfTheDatesAndOneOddDateDoesNotMoveIt()
    {
        var b = IndexBounds(3);
        ImmutableArray<BuildDateHistogram> dates =
        [
            Date(0, b, [50, 30, 20]), Date(1, b, [52, 28, 20]), Date(2, b, [48, 32, 20]), Date(3, b, [0, 0, 100]), Date(4, b, [50, 30, 20]),
        ];
        var reference = ReferenceDistribution.Build(dates);

        Assert.Equal([0.5, 0.8], reference.Cumulative.ToArray());
        Assert.Equal([0.5, 0.3, 0.2], reference.Normalised().Select(p => Math.Round(p, 12)));
        Assert.Equal(dates.Select(d => d.BuildDate), reference.Dates);
    }

    [Fact]
    public void DirectionFollowsTheAreaBetweenTheCumulativeDistributions()
    {
        Assert.Equal(RegressionDirection.Higher, CdfComparison.DirectionOf([0.1, 0.2, 0.05, -0.01]));
        Assert.Equal(RegressionDirection.Lower, CdfComparison.DirectionOf([-0.1, -0.2, 0.01]));
        Assert.Equal(RegressionDirection.Changed, CdfComparison.DirectionOf([-0.1, 0.1, 0.05]));
    }
}
