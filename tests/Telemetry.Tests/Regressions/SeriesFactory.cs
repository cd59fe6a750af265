using System.Collections.Immutable;
using Poisson = MathNet.Numerics.Distributions.Poisson;
using NormalDistribution = MathNet.Numerics.Distributions.Normal;
using Telemetry.Grains.Regressions;

namespace Telemetry.Tests.Regressions;

/// <summary>Builds series for the detector tests: exact shapes, or counts drawn with a seeded generator.</summary>
internal static class SeriesFactory
{
    public static readonly DateOnly Day0 = new(2025, 1, 1);

    /// <summary>Buckets whose lower bounds are 0, 1, 2, ...: values are bucket indexes.</summary>
    public static ImmutableArray<long> IndexBounds(int buckets) => [.. Enumerable.Range(0, buckets).Select(i => (long)i)];

    /// <summary>Buckets of width <paramref name="width"/>: lower bounds 0, width, 2·width, ...</summary>
    public static ImmutableArray<long> WideBounds(int buckets, int width) => [.. Enumerable.Range(0, buckets).Select(i => (long)i * width)];

    public static DateOnly DateOf(int day) => Day0.AddDays(day);

    public static BuildDateHistogram Date(int day, ImmutableArray<long> bounds, long[] counts, long pings = 0) =>
        new(DateOf(day), bounds, [.. counts], pings);

    public static MetricSeries Series(IEnumerable<BuildDateHistogram> dates) => new("nightly", "TEST_METRIC", dates);

    /// <summary>The shape scaled to <paramref name="total"/> samples, rounded.</summary>
    public static long[] Exact(double[] shape, long total) => [.. shape.Select(p => (long)Math.Round(p * total))];

    /// <summary>
    /// The share of a normal distribution of values in each bucket (the first bucket also takes
    /// everything below its bound, the last everything above).
    /// </summary>
    public static double[] NormalShape(ImmutableArray<long> bounds, double mean, double sd)
    {
        var p = new double[bounds.Length];
        double previous = 0;
        for (int k = 0; k < bounds.Length; k++)
        {
            double upTo = k + 1 < bounds.Length ? NormalDistribution.CDF(mean, sd, bounds[k + 1]) : 1;
            p[k] = upTo - previous;
            previous = upTo;
        }
        return p;
    }

    /// <summary>A mixture of shapes with the given weights.</summary>
    public static double[] Mix(params (double Weight, double[] Shape)[] parts)
    {
        var p = new double[parts[0].Shape.Length];
        foreach (var (w, shape) in parts)
        {
            for (int k = 0; k < p.Length; k++)
            {
                p[k] += w * shape[k];
            }
        }
        return p;
    }

    /// <summary>
    /// About <paramref name="total"/> samples of the shape, drawn in clusters of
    /// <paramref name="cluster"/> samples that land in the same bucket (a ping reporting the same
    /// value several times): Poisson(total·p/cluster) clusters per bucket.
    /// </summary>
    public static long[] Sample(double[] shape, long total, Random rng, int cluster = 1)
    {
        var counts = new long[shape.Length];
        for (int k = 0; k < shape.Length; k++)
        {
            double lambda = total * shape[k] / cluster;
            long clusters = lambda < 30 ? Poisson.Sample(rng, Math.Max(lambda, 1e-12)) : Math.Max(0, (long)Math.Round(lambda + Math.Sqrt(lambda) * NormalDistribution.Sample(rng, 0, 1)));
            counts[k] = clusters * cluster;
        }
        return counts;
    }

    /// <summary>
    /// A series of <paramref name="days"/> dates of a normal-shaped metric whose mean on day d is
    /// <paramref name="mean"/>(d) plus a day-to-day wobble N(0, <paramref name="wobble"/>), with
    /// <paramref name="total"/>(d) samples in clusters of <paramref name="cluster"/>.
    /// </summary>
    public static MetricSeries Normal(int days, ImmutableArray<long> bounds, Func<int, double> mean, double sd, Func<int, long> total, int seed, int cluster = 1, double wobble = 0)
    {
        var rng = new Random(seed);
        return Series(Enumerable.Range(0, days).Select(d =>
        {
            double m = mean(d) + (wobble > 0 ? NormalDistribution.Sample(rng, 0, wobble) : 0);
            return Date(d, bounds, Sample(NormalShape(bounds, m, sd), total(d), rng, cluster));
        }));
    }
}
