using System.Text.Json;
using Telemetry.Portal.Components.Pages.Aggregates;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal.Data;

public sealed class BucketPercentilesTests
{
    // Buckets [0,10) [10,20) [20,30) [30,∞) holding 10, 20, 10, 0 samples: 40 in all.
    private static readonly BucketPercentiles Even = new([0, 10, 20, 30], [10, 20, 10, 0]);

    [Theory]
    [InlineData(50, 15.0)] // 20th sample: 10 in bucket 0, 10 of bucket 1's 20 → halfway through [10,20)
    [InlineData(5, 2.0)]   // 2nd sample: 2 of bucket 0's 10 → 0 + 0.2·10
    [InlineData(25, 10.0)] // 10th sample: the end of bucket 0
    [InlineData(75, 20.0)] // 30th sample: the end of bucket 1
    [InlineData(95, 28.0)] // 38th sample: 8 of bucket 2's 10 → 20 + 0.8·10
    [InlineData(0, 0.0)]
    [InlineData(100, 30.0)] // the upper edge of the last bucket with samples
    public void Interpolates_within_the_bucket_that_holds_the_percentile(double percent, double expected)
    {
        Assert.Equal(expected, Even.Percentile(percent)!.Value, 9);
    }

    [Fact]
    public void Skips_empty_buckets_and_stops_at_the_overflow_buckets_lower_bound()
    {
        // 4 samples in [1,2), none in [2,5), 4 in the overflow bucket [5,∞).
        var stats = new BucketPercentiles([0, 1, 2, 5], [0, 4, 0, 4]);

        Assert.Equal(1.0, stats.Percentile(0)!.Value, 9);
        Assert.Equal(1.5, stats.Percentile(25)!.Value, 9);   // 2nd of 4 in [1,2)
        Assert.Equal(2.0, stats.Percentile(50)!.Value, 9);   // the 4th sample ends [1,2)
        Assert.Equal(5.0, stats.Percentile(75)!.Value, 9);   // in the overflow bucket: no width to interpolate
        Assert.Equal(5.0, stats.Percentile(100)!.Value, 9);
    }

    [Fact]
    public void The_mean_is_the_sum_over_the_samples_or_the_bucket_midpoints_without_a_sum()
    {
        Assert.Equal(600.0 / 40, Even.Mean(600)!.Value, 9);
        // Midpoints 5, 15, 25: (10·5 + 20·15 + 10·25) / 40 = 600 / 40.
        Assert.Equal(15.0, Even.Mean()!.Value, 9);
    }

    [Fact]
    public void An_empty_histogram_has_no_percentiles_or_mean()
    {
        var empty = new BucketPercentiles([0, 1, 2], [0, 0, 0]);
        Assert.Null(empty.Percentile(50));
        Assert.Null(empty.Mean(0));
    }

    [Fact]
    public void Refuses_bounds_that_do_not_increase_or_do_not_match_the_counts()
    {
        Assert.Throws<ArgumentException>(() => new BucketPercentiles([0, 2, 2], [1, 1, 1]));
        Assert.Throws<ArgumentException>(() => new BucketPercentiles([0, 1], [1, 1, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Even.Percentile(101));
    }

    [Fact]
    public void Matches_hand_computed_percentiles_of_a_real_cycle_collector_histogram()
    {
        // CYCLE_COLLECTOR of the Firefox 23 idle-daily ping, on the definition's 50 exponential buckets.
        var (bounds, counts, sum) = RealHistogram("CYCLE_COLLECTOR");
        var stats = new BucketPercentiles(bounds, counts);

        // 240 samples: 139 in [0,1), 41 in [14,17), 20 in [17,20), ..., 1 in [160,190), ...
        Assert.Equal(240, stats.Total);
        Assert.Equal(12.0 / 139, stats.Percentile(5)!.Value, 9);   // 12th sample, inside [0,1)
        Assert.Equal(60.0 / 139, stats.Percentile(25)!.Value, 9);  // 60th
        Assert.Equal(120.0 / 139, stats.Percentile(50)!.Value, 9); // 120th
        Assert.Equal(17.0, stats.Percentile(75)!.Value, 9);        // 180th = 139 + 41: the end of [14,17)
        Assert.Equal(190.0, stats.Percentile(95)!.Value, 9);       // 228th: 227 below 160, the 1 sample of [160,190)
        Assert.Equal(13370.0 / 240, stats.Mean(sum)!.Value, 9);
    }

    /// <summary>A histogram of the shared Firefox 23 ping laid out densely on its definition's bucket bounds.</summary>
    internal static (double[] Bounds, double[] Counts, double Sum) RealHistogram(string name)
    {
        using var ping = JsonDocument.Parse(File.ReadAllText(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        using var layouts = JsonDocument.Parse(File.ReadAllText(TestPaths.SharedData("buckets", "buckets.a55c55edf302.json")));
        double[] bounds = [.. layouts.RootElement.GetProperty("histograms").GetProperty(name).GetProperty("buckets").EnumerateArray().Select(b => b.GetDouble())];
        var histogram = ping.RootElement.GetProperty("histograms").GetProperty(name);
        var counts = new double[bounds.Length];
        foreach (var value in histogram.GetProperty("values").EnumerateObject())
        {
            counts[Array.IndexOf(bounds, double.Parse(value.Name, System.Globalization.CultureInfo.InvariantCulture))] += value.Value.GetDouble();
        }
        return (bounds, counts, histogram.GetProperty("sum").GetDouble());
    }
}
