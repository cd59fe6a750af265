using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Telemetry.Bench.Detectors;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Aggregates;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Regressions;

/// <summary>
/// <c>regressions cost [--metrics N] [--dates D] [--distinct K] [--seed S] [--repeat R]</c>: the CPU cost of one
/// detection run over a channel of N metrics × D build dates (docs/regressions.md, "Cost"), step by step, with the
/// classes the grains run: the aggregates' per-metric totals, the channel's bookkeeping, each series' parts and
/// both detectors. K distinct synthetic series (the detector benchmark's generator) are cycled to make N; the
/// detectors' cost depends on a series' length and bucket count, not on which series it is. Grain messaging and
/// storage are not in these figures (see the alert latency run for a live silo).
/// </summary>
public static class DetectionCostBench
{
    /// <summary>The target: a full run over 2,000 metrics × 60 build dates.</summary>
    public const int TargetMetrics = 2000, TargetDates = 60;

    /// <summary>Series per metric in one aggregate (processes × OSes × labels) for the totals step.</summary>
    public const int SeriesPerMetric = 24;

    /// <summary>Major versions per build date (a merge day has two; one is usual): parts per date in the series.</summary>
    public const int VersionsPerDate = 2;

    public static int Run(string[] args)
    {
        int metrics = TargetMetrics, dates = TargetDates, distinct = 100, seed = 1, repeat = 3;
        for (int i = 2; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new BenchException($"option {args[i]} needs a value");
            }
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--metrics": metrics = value; break;
                case "--dates": dates = value; break;
                case "--distinct": distinct = value; break;
                case "--seed": seed = value; break;
                case "--repeat": repeat = value; break;
                default: throw new BenchException($"unknown option {args[i]} (regressions cost [--metrics N] [--dates D] [--distinct K] [--seed S] [--repeat R])");
            }
        }
        if (metrics is < 1 or > 100_000 || dates is < 40 or > 400 || distinct is < 1 or > 10_000 || repeat is < 1 or > 20)
        {
            throw new BenchException("out of bounds: metrics 1..100,000, dates 40..400, distinct 1..10,000, repeat 1..20");
        }

        var clock = Stopwatch.StartNew();
        var generator = new SyntheticSeriesGenerator(seed, dates);
        var samples = new MetricSeries[Math.Min(distinct, metrics)];
        Parallel.For(0, samples.Length, i => samples[i] = generator.Generate(i).Series);
        Console.Error.WriteLine($"generated {samples.Length} distinct series of {dates} build dates in {clock.Elapsed.TotalSeconds:0.0} s");

        var channel = Channel.From(samples, metrics);
        var rows = new List<(string Step, string What, double Ms, int Items)>();
        void Measure(string step, string what, int items, Action action)
        {
            var times = new List<double>();
            for (int r = 0; r < repeat; r++)
            {
                var sw = Stopwatch.StartNew();
                action();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            rows.Add((step, what, times.Order().ElementAt(times.Count / 2), items));
        }

        // 1. An aggregate answers GetMetricTotals: every metric of one build date and version summed over its series.
        var aggregate = channel.AggregateContent(SeriesPerMetric);
        Measure("aggregate totals", $"one aggregate: {metrics:N0} metrics × {SeriesPerMetric} series", 1,
            () => MetricTotalsBuilder.Sum(aggregate.Series, aggregate.Layouts));

        // 2. The channel grain records the answers of the whole window (first read) and builds each series' request.
        var answers = channel.Answers();
        ImmutableArray<SeriesDetectionRequest> requests = [];
        Measure("channel bookkeeping", $"{answers.Count:N0} aggregate answers, then {metrics:N0} requests with every part", metrics, () =>
        {
            var totals = new ChannelTotals();
            foreach (var (key, date, t) in answers)
            {
                totals.Apply(key, date, t);
            }
            requests = [.. channel.Metrics.Select(m => totals.RequestFor(m, ["default", "cerberus"]))];
        });

        // 3. Each series takes its parts and sums a date's versions (the first run after a start; later runs take a few parts).
        var series = new MetricSeries[metrics];
        Measure("series parts", $"{metrics:N0} series: {dates * VersionsPerDate} parts each, summed per date", metrics, () =>
        {
            for (int m = 0; m < metrics; m++)
            {
                var book = new SeriesBook([]);
                book.Sync(requests[m].Manifest, requests[m].Parts);
                series[m] = book.Build("nightly", channel.Metrics[m]);
            }
        });

        // 4. The detectors on every series, one core, then on every core.
        var detectorNames = RegressionOptions.DefaultDetectors;
        int findings = 0;
        foreach (var name in detectorNames)
        {
            var detector = RegressionDetectors.Get(name);
            Measure($"detector {name}", $"{metrics:N0} series × {dates} dates, 1 thread", metrics, () =>
            {
                int n = 0;
                foreach (var s in series)
                {
                    n += detector.Detect(s).Count;
                }
                findings = n;
            });
        }
        Measure("both detectors", $"{metrics:N0} series, {Environment.ProcessorCount} threads (series grains spread over cores and silos)", metrics, () =>
            Parallel.ForEach(series, s =>
            {
                foreach (var name in detectorNames)
                {
                    RegressionDetectors.Get(name).Detect(s);
                }
            }));

        Console.WriteLine($"Detection cost, {metrics:N0} metrics × {dates} build dates ({VersionsPerDate} versions per date; {samples.Length} distinct synthetic series; median of {repeat}; {Environment.ProcessorCount} cores)");
        Console.WriteLine();
        Console.WriteLine("| step | what | time (ms) | per metric (ms) |");
        Console.WriteLine("|---|---|---:|---:|");
        foreach (var (step, what, ms, items) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {step} | {what} | {ms:N0} | {(items > 1 ? (ms / items).ToString("0.000", CultureInfo.InvariantCulture) : "—")} |"));
        }
        double run = rows.Where(r => r.Step is "channel bookkeeping" or "series parts" or "both detectors").Sum(r => r.Ms);
        double reads = rows.Single(r => r.Step == "aggregate totals").Ms * dates * VersionsPerDate;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| **full run** | first run after a start: {dates * VersionsPerDate} aggregate reads + bookkeeping + parts + detectors on {Environment.ProcessorCount} threads | {reads + run:N0} | {(reads + run) / metrics:0.000} |"));
        Console.WriteLine();
        Console.WriteLine($"findings in the last pass: {findings}");
        return 0;
    }

    /// <summary>N metrics made from the distinct samples, as the aggregates of a channel would hold them.</summary>
    private sealed class Channel
    {
        private static readonly BucketLayout[] KnownLayouts =
        [
            BucketLayout.Exponential(1, 10_000, 50), BucketLayout.Exponential(1, 30_000, 50), BucketLayout.Exponential(1, 10_000, 100),
            BucketLayout.Exponential(1, 60_000, 100), BucketLayout.Exponential(1, 100_000, 100), BucketLayout.Exponential(1, 60_000, 50),
            BucketLayout.Exponential(1, 1_000, 20), BucketLayout.Exponential(1, 3_000, 20), BucketLayout.Exponential(1, 1_000, 40),
            BucketLayout.Linear(1, 500, 50), BucketLayout.Linear(1, 1_000, 50), BucketLayout.Linear(1, 500, 100),
        ];

        private MetricSeries[] _samples = [];

        public ImmutableArray<string> Metrics { get; private init; }

        public static Channel From(MetricSeries[] samples, int metrics) => new()
        {
            _samples = samples,
            Metrics = [.. Enumerable.Range(0, metrics).Select(m => $"METRIC_{m:D5}")],
        };

        private MetricSeries SampleOf(int metric) => _samples[metric % _samples.Length];

        private static MetricLayout LayoutOf(BuildDateHistogram date) =>
            (KnownLayouts.FirstOrDefault(l => l.LowerBounds.AsSpan().SequenceEqual(date.LowerBounds.AsSpan()))
                ?? throw new BenchException("a synthetic layout is not among the generator's families")).ToMetricLayout(false);

        /// <summary>What every aggregate of the window answers: per build date and version, every metric's total.</summary>
        public List<(string Key, DateOnly Date, MetricTotals Totals)> Answers()
        {
            var dates = SampleOf(0).Dates.Select(d => d.BuildDate).ToList();
            var answers = new List<(string, DateOnly, MetricTotals)>();
            long version = 1;
            for (int d = 0; d < dates.Count; d++)
            {
                for (int v = 0; v < VersionsPerDate; v++)
                {
                    var metrics = ImmutableArray.CreateBuilder<MetricTotal>(Metrics.Length);
                    for (int m = 0; m < Metrics.Length; m++)
                    {
                        var date = SampleOf(m)[d];
                        // The first version holds 3/4 of the date, the second the rest.
                        var counts = date.Counts.Select(c => v == 0 ? c - c / 4 : c / 4).ToImmutableArray();
                        metrics.Add(new MetricTotal { Metric = Metrics[m], Layout = LayoutOf(date), Counts = counts, Instances = v == 0 ? date.Pings - date.Pings / 4 : date.Pings / 4 });
                    }
                    string key = AggregateFamily.GrainKey(AggregateFamily.BuildId, "nightly", (60 + v).ToString(CultureInfo.InvariantCulture), MetricSeries.FormatBuildDate(dates[d]));
                    answers.Add((key, dates[d], new MetricTotals { DataVersion = version++, Pings = 1000, Metrics = metrics.MoveToImmutable() }));
                }
            }
            return answers;
        }

        /// <summary>The content of one aggregate: every metric split over <paramref name="seriesPerMetric"/> dimension combinations.</summary>
        public (Dictionary<SeriesKey, HistogramAccumulator> Series, Dictionary<string, MetricLayout> Layouts) AggregateContent(int seriesPerMetric)
        {
            var series = new Dictionary<SeriesKey, HistogramAccumulator>();
            var layouts = new Dictionary<string, MetricLayout>(StringComparer.Ordinal);
            string[] processes = ["parent", "content"], oses = ["Windows_NT", "Linux", "Darwin"];
            for (int m = 0; m < Metrics.Length; m++)
            {
                var date = SampleOf(m)[0];
                layouts[Metrics[m]] = LayoutOf(date);
                for (int s = 0; s < seriesPerMetric; s++)
                {
                    var key = new SeriesKey
                    {
                        Metric = Metrics[m],
                        Label = (s / 6).ToString(CultureInfo.InvariantCulture),
                        Process = processes[s % 2],
                        Application = "Firefox",
                        Architecture = "x86-64",
                        Os = oses[s / 2 % 3],
                        OsVersion = "10",
                    };
                    series[key] = new HistogramAccumulator { Counts = [.. date.Counts.Select(c => c / seriesPerMetric)], Count = date.Pings / seriesPerMetric };
                }
            }
            return (series, layouts);
        }
    }
}
