using System.Collections.Immutable;
using MathNet.Numerics.Distributions;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// Generates labelled series the way telemetry arrives (docs/regressions.md, "The benchmark"):
/// for every build date, many pings, each contributing a few samples of a log-normal metric
/// around its own client's level, bucketed by a real Firefox bucket layout. So a date's
/// histogram carries multinomial noise, clustering within pings, and a small day-to-day wobble
/// of the population. Series <c>i</c> of seed <c>s</c> is always the same series.
/// </summary>
public sealed class SyntheticSeriesGenerator
{
    public const int DefaultDates = 45;

    /// <summary>Pings per date vary by a log-normal factor of this standard deviation, and weekend builds get this factor of the weekday volume.</summary>
    public const double VolumeNoise = 0.2, WeekendVolume = 0.7;

    /// <summary>Tail growth moves the affected pings this many standard deviations up; a bimodal split this many up and down.</summary>
    public const double TailOffset = 2.5, SplitOffset = 2.0;

    /// <summary>The scenarios, in the order series indexes cycle through them (a quarter of the series do not change).</summary>
    public static readonly ImmutableArray<SyntheticScenario> Scenarios =
    [
        .. Enumerable.Repeat(new SyntheticScenario("no change", ScenarioKind.NoChange, 0, false), 6),
        new("mean shift, small (0.15 sd)", ScenarioKind.MeanShift, 0.15, true),
        new("mean shift, medium (0.3 sd)", ScenarioKind.MeanShift, 0.3, true),
        new("mean shift, large (0.6 sd)", ScenarioKind.MeanShift, 0.6, true),
        new("tail growth, small (8 % of pings +2.5 sd)", ScenarioKind.TailGrowth, 0.08, true),
        new("tail growth, medium (16 %)", ScenarioKind.TailGrowth, 0.16, true),
        new("tail growth, large (32 %)", ScenarioKind.TailGrowth, 0.32, true),
        new("bimodal split, small (10 % of pings ±2 sd each way)", ScenarioKind.BimodalSplit, 0.10, true),
        new("bimodal split, medium (20 %)", ScenarioKind.BimodalSplit, 0.20, true),
        new("bimodal split, large (40 %)", ScenarioKind.BimodalSplit, 0.40, true),
        new("slow drift, medium (0.3 sd over 10–20 dates)", ScenarioKind.Drift, 0.3, true),
        new("slow drift, large (0.6 sd over 10–20 dates)", ScenarioKind.Drift, 0.6, true),
        new("one-day spike (0.8 sd), not a regression", ScenarioKind.Spike, 0.8, false),
        new("one-day spike (0.8 sd), not a regression", ScenarioKind.Spike, 0.8, false),
        new("volume ×10, not a regression", ScenarioKind.VolumeChange, 10, false),
        new("volume ×0.1, not a regression", ScenarioKind.VolumeChange, 0.1, false),
        new("layout change, same bucket count, not a regression", ScenarioKind.LayoutChange, 1, false),
        new("layout change, other bucket count, not a regression", ScenarioKind.LayoutChange, 2, false),
        new("tiny shift (0.04 sd) at 20k–50k pings, not a regression", ScenarioKind.TinyShift, 0.04, false),
    ];

    /// <summary>
    /// Metric families: a layout, the layout it may change to (same bucket count, other
    /// bucket count), and the range of the median value and of the log-value standard deviation.
    /// </summary>
    private static readonly (BucketLayout Layout, BucketLayout SameCount, BucketLayout OtherCount, double MedianLow, double MedianHigh, double SdLow, double SdHigh)[] Families =
    [
        (BucketLayout.Exponential(1, 10_000, 50), BucketLayout.Exponential(1, 30_000, 50), BucketLayout.Exponential(1, 10_000, 100), 25, 160, 0.6, 1.0),
        (BucketLayout.Exponential(1, 60_000, 100), BucketLayout.Exponential(1, 100_000, 100), BucketLayout.Exponential(1, 60_000, 50), 100, 1_000, 0.6, 1.2),
        (BucketLayout.Exponential(1, 1_000, 20), BucketLayout.Exponential(1, 3_000, 20), BucketLayout.Exponential(1, 1_000, 40), 10, 45, 0.5, 0.9),
        (BucketLayout.Linear(1, 500, 50), BucketLayout.Linear(1, 1_000, 50), BucketLayout.Linear(1, 500, 100), 100, 250, 0.2, 0.4),
    ];

    private static readonly DateOnly FirstDate = new(2030, 1, 1);

    private readonly int seed;
    private readonly int dates;
    private readonly GeneratorSettings settings;

    public SyntheticSeriesGenerator(int seed, int dates = DefaultDates, GeneratorSettings? settings = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dates, 40);
        this.seed = seed;
        this.dates = dates;
        this.settings = settings ?? GeneratorSettings.Default;
    }

    public LabelledSeries Generate(int index)
    {
        var rng = new SeededSampler(SeriesSeed(seed, index));
        var scenario = Scenarios[index % Scenarios.Length];
        var family = Families[rng.Integer(0, Families.Length - 1)];
        double logMedian = Math.Log(rng.Uniform(family.MedianLow, family.MedianHigh));
        double sd = rng.Uniform(family.SdLow, family.SdHigh);
        double basePings = scenario.Kind == ScenarioKind.TinyShift
            ? Math.Exp(rng.Uniform(Math.Log(20_000), Math.Log(50_000)))
            : Math.Exp(rng.Uniform(Math.Log(settings.MinimumBasePings), Math.Log(settings.MaximumBasePings)));
        int sign = rng.Coin() ? 1 : -1;
        int change = rng.Integer(15, dates - 8);
        int driftLength = rng.Integer(10, 20);
        int driftStart = rng.Integer(12, dates - driftLength - 4);
        var layoutAfter = scenario.Size == 1 ? family.SameCount : family.OtherCount;

        var state = new Func<int, State>(d => scenario.Kind switch
        {
            ScenarioKind.MeanShift or ScenarioKind.TinyShift => d >= change ? State.Shifted(sign * scenario.Size) : State.Unchanged,
            ScenarioKind.Spike => d == change ? State.Shifted(sign * scenario.Size) : State.Unchanged,
            ScenarioKind.TailGrowth => d >= change ? new State(0, [(1 - scenario.Size, 0), (scenario.Size, TailOffset)]) : State.Unchanged,
            ScenarioKind.BimodalSplit => d >= change
                ? new State(0, [(1 - 2 * scenario.Size, 0), (scenario.Size, SplitOffset), (scenario.Size, -SplitOffset)])
                : State.Unchanged,
            ScenarioKind.Drift => State.Shifted(sign * scenario.Size * Math.Clamp((d - driftStart + 1) / (double)driftLength, 0, 1)),
            _ => State.Unchanged,
        });

        var histograms = new List<BuildDateHistogram>(dates);
        for (int d = 0; d < dates; d++)
        {
            var layout = scenario.Kind == ScenarioKind.LayoutChange && d >= change ? layoutAfter : family.Layout;
            double volume = scenario.Kind == ScenarioKind.VolumeChange && d >= change ? scenario.Size : 1;
            double pingsMean = basePings * volume * (d % 7 >= 5 ? WeekendVolume : 1) * Math.Exp(VolumeNoise * rng.Gaussian());
            long pings = Math.Max(5, (long)Math.Round(pingsMean));
            double dayMean = logMedian + sd * settings.DayToDayWobble * rng.Gaussian();
            histograms.Add(new BuildDateHistogram(FirstDate.AddDays(d), layout.LowerBounds, Draw(rng, layout, state(d), dayMean, sd, pings, settings), pings));
        }

        var changes = ImmutableArray<LabelledChange>.Empty;
        if (scenario.IsRegression)
        {
            var direction = scenario.Kind switch
            {
                ScenarioKind.TailGrowth => RegressionDirection.Higher,
                ScenarioKind.BimodalSplit => RegressionDirection.Changed,
                _ => sign > 0 ? RegressionDirection.Higher : RegressionDirection.Lower,
            };
            int start = scenario.Kind == ScenarioKind.Drift ? driftStart : change;
            int end = scenario.Kind == ScenarioKind.Drift ? driftStart + driftLength - 1 : change;
            var after = state(end);
            changes = [new LabelledChange(start, Math.Min(end + 2, dates - 1), direction, TrueDistance(family.Layout, State.Unchanged, after, logMedian, sd))];
        }
        int eventIndex = scenario.Kind switch
        {
            ScenarioKind.NoChange => -1,
            ScenarioKind.Drift => driftStart,
            _ => change,
        };
        return new LabelledSeries(new MetricSeries("nightly", $"SYNTHETIC_{index}", histograms), scenario, basePings, changes, eventIndex);
    }

    /// <summary>
    /// The seed of series <paramref name="index"/>: SplitMix64's finaliser over (seed, index).
    /// <see cref="HashCode"/> would not do: it is randomised per process.
    /// </summary>
    private static int SeriesSeed(int seed, int index)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>One build date: every ping picks a component, gets its client level, then its samples.</summary>
    private static ImmutableArray<long> Draw(SeededSampler rng, BucketLayout layout, State state, double dayMean, double sd, long pings, GeneratorSettings settings)
    {
        var logBounds = LogBounds(layout);
        var counts = new long[layout.BucketCount];
        double between = sd * settings.BetweenPingsShare;
        double within = sd * Math.Sqrt(1 - settings.BetweenPingsShare * settings.BetweenPingsShare);
        for (long p = 0; p < pings; p++)
        {
            double offset = state.Pick(rng.Uniform());
            double level = dayMean + sd * (state.MeanOffset + offset) + between * rng.Gaussian();
            int samples = 1 + rng.Poisson(rng.Exponential(settings.ExtraSamplesPerPing));
            for (int s = 0; s < samples; s++)
            {
                counts[IndexOf(logBounds, level + within * rng.Gaussian())]++;
            }
        }
        return [.. counts];
    }

    /// <summary>
    /// The Kolmogorov–Smirnov distance between two states' bucketed distributions, from the
    /// exact mixture-of-normals cumulative distribution at each bucket edge (log scale).
    /// </summary>
    private static double TrueDistance(BucketLayout layout, State before, State after, double median, double sd)
    {
        var edges = LogBounds(layout);
        double distance = 0;
        for (int k = 1; k < edges.Length; k++)
        {
            distance = Math.Max(distance, Math.Abs(before.Cdf(edges[k], median, sd) - after.Cdf(edges[k], median, sd)));
        }
        return distance;
    }

    private static double[] LogBounds(BucketLayout layout) => [.. layout.LowerBounds.Select(b => b <= 0 ? double.NegativeInfinity : Math.Log(b))];

    /// <summary>The last bucket whose log lower bound is ≤ x (bucket 0 takes everything below 1).</summary>
    private static int IndexOf(double[] logBounds, double x)
    {
        int lo = 1, hi = logBounds.Length - 1, answer = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (logBounds[mid] <= x)
            {
                answer = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return answer;
    }

    /// <summary>
    /// The population on one date, in standard deviations of the log-value around the series'
    /// median: a mean offset for everyone plus components (share of pings, extra offset).
    /// </summary>
    private sealed record State(double MeanOffset, (double Share, double Offset)[] Components)
    {
        public static readonly State Unchanged = new(0, [(1, 0)]);

        public static State Shifted(double offset) => new(offset, [(1, 0)]);

        public double Pick(double u)
        {
            foreach (var (share, offset) in Components)
            {
                if (u < share)
                {
                    return offset;
                }
                u -= share;
            }
            return Components[^1].Offset;
        }

        /// <summary>Cumulative distribution of the log-value at <paramref name="x"/> for a series of this median (log) and standard deviation.</summary>
        public double Cdf(double x, double median, double sd) =>
            Components.Sum(c => c.Share * Normal.CDF(median + sd * (MeanOffset + c.Offset), sd, x));
    }
}
