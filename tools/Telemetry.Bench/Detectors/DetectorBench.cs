using System.Diagnostics;
using System.Globalization;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// <c>detectors [--series N] [--seed S] [--dates D] [--variant default|heavier] [--list-false-alerts] [--explain I] [--cache DIR]</c>:
/// generates N labelled synthetic series (docs/regressions.md, "The benchmark"), runs every detector
/// on each, and prints one markdown table with the detectors side by side, and what each detector
/// cost per series. Deterministic for a given seed, series count, dates and variant.
/// <c>--list-false-alerts</c> also lists every false alert with where it fell relative to the
/// series' labelled change or event, for finding out why. <c>--cache DIR</c> keeps the generated
/// series in a file there and reads them back on the next run with the same seed, variant, dates
/// and series count (<see cref="SeriesCache"/>): for iterating on a detector.
/// </summary>
public static class DetectorBench
{
    public const int DefaultSeries = 960;
    public const int DefaultSeed = 1;

    public static int Run(string[] args)
    {
        int seriesCount = DefaultSeries, seed = DefaultSeed, dates = SyntheticSeriesGenerator.DefaultDates;
        bool listFalseAlerts = args.Contains("--list-false-alerts");
        args = [.. args.Where(a => a != "--list-false-alerts")];
        int explain = -1;
        var variant = "default";
        string? cache = null;
        for (int i = 1; i < args.Length; i++)
        {
            if (i + 1 >= args.Length)
            {
                throw new BenchException($"option {args[i]} needs a value");
            }
            string option = args[i], text = args[++i];
            if (option == "--variant")
            {
                variant = text;
                continue;
            }
            if (option == "--cache")
            {
                cache = text;
                continue;
            }
            int value = int.Parse(text, CultureInfo.InvariantCulture);
            switch (option)
            {
                case "--series": seriesCount = value; break;
                case "--seed": seed = value; break;
                case "--dates": dates = value; break;
                case "--explain": explain = value; break;
                default: throw new BenchException($"unknown option {option} (detectors [--series N] [--seed S] [--dates D] [--variant default|heavier] [--cache DIR])");
            }
        }
        if (seriesCount is < 1 or > 100_000 || dates is < 40 or > 400)
        {
            throw new BenchException("out of bounds: series 1..100,000, dates 40..400");
        }

        IRegressionDetector[] detectors = [new CerberusDetector(), new DefaultDetector()];
        var generator = new SyntheticSeriesGenerator(seed, dates, GeneratorSettings.Named(variant));
        if (explain >= 0)
        {
            Explain(generator.Generate(explain), detectors);
            return 0;
        }
        string? cachePath = cache is null ? null : SeriesCache.PathOf(cache, seed, variant, dates, seriesCount);
        var cached = cachePath is null ? null : SeriesCache.TryRead(cachePath);
        var series = cached ?? new LabelledSeries[seriesCount];
        var scores = new SeriesScore[seriesCount][];
        var rangeScores = new SeriesScore[seriesCount][];
        var findings = new IReadOnlyList<RegressionFinding>[seriesCount][];
        var clock = Stopwatch.StartNew();
        var detectorTicks = new long[detectors.Length];
        Parallel.For(0, seriesCount, i =>
        {
            if (cached is null)
            {
                series[i] = generator.Generate(i);
            }
            findings[i] = new IReadOnlyList<RegressionFinding>[detectors.Length];
            for (int d = 0; d < detectors.Length; d++)
            {
                long start = Stopwatch.GetTimestamp();
                findings[i][d] = detectors[d].Detect(series[i].Series);
                Interlocked.Add(ref detectorTicks[d], Stopwatch.GetTimestamp() - start);
            }
            scores[i] = [.. findings[i].Select(f => SeriesScore.Of(series[i], f))];
            rangeScores[i] = [.. findings[i].Select(f => SeriesScore.Of(series[i], f, byRange: true))];
        });

        if (cachePath is not null && cached is null)
        {
            SeriesCache.Write(cachePath, series);
        }
        Console.WriteLine(FormattableString.Invariant(
            $"Detector benchmark: seed {seed}, generator {variant}, {seriesCount} series of {dates} build dates, {series.Sum(s => s.Changes.Length)} labelled changes{(cached is null ? "" : " (read from the cache)")}; {clock.Elapsed.TotalSeconds:F0} s on {Environment.ProcessorCount} cores."));
        Console.WriteLine("Detection cost per series (time inside Detect, series run in parallel): " + string.Join(", ", detectors.Select((d, k) =>
            FormattableString.Invariant($"{d.Name} {Stopwatch.GetElapsedTime(0, detectorTicks[k]).TotalMilliseconds / seriesCount:F2} ms"))) + ".");
        Console.WriteLine();
        Console.Write(new ScoreTable([.. detectors.Select(d => d.Name)], series, scores, rangeScores).ToMarkdown());
        if (listFalseAlerts)
        {
            Console.WriteLine();
            for (int i = 0; i < seriesCount; i++)
            {
                for (int d = 0; d < detectors.Length; d++)
                {
                    foreach (var (index, finding) in SeriesScore.FalseAlertsOf(series[i], findings[i][d]))
                    {
                        Console.WriteLine(FormattableString.Invariant(
                            $"{detectors[d].Name}\tseries {i}\t{series[i].Scenario.Name}\tpings {series[i].BasePings:F0}\tevent at {series[i].EventIndex}\tfalse alert at {index} ({index - series[i].EventIndex:+0;-0;0})\tsuspects {finding.SuspectFrom.DayNumber - finding.BuildDate.DayNumber:+0;-0;0}..{finding.SuspectTo.DayNumber - finding.BuildDate.DayNumber:+0;-0;0}\tscore {finding.Score:F3}\tp {finding.PValue:G2}\t{finding.Direction.ToWireName()}"));
                    }
                }
            }
        }
        return 0;
    }

    /// <summary>One series date by date, with every detector's findings: for finding out why a detector did what it did.</summary>
    private static void Explain(LabelledSeries labelled, IRegressionDetector[] detectors)
    {
        Console.WriteLine(FormattableString.Invariant($"{labelled.Series.Metric}: {labelled.Scenario.Name}, event at {labelled.EventIndex}, {labelled.Changes.Length} labelled change(s): {string.Join(", ", labelled.Changes)}"));
        var findings = detectors.Select(d => d.Detect(labelled.Series)).ToArray();
        for (int i = 0; i < labelled.Series.Count; i++)
        {
            var date = labelled.Series[i];
            var cdf = date.Cumulative();
            int median = Array.FindIndex(cdf, f => f >= 0.5);
            var notes = detectors.Select((d, k) => findings[k].FirstOrDefault(f => f.BuildDate == date.BuildDate) is { } f
                ? FormattableString.Invariant($"{d.Name}: score {f.Score:F3} p {f.PValue:G2} {f.Direction.ToWireName()} refs {string.Join(' ', f.ReferenceDates.Select(r => labelled.Series.Dates.IndexOf(labelled.Series.Dates.First(x => x.BuildDate == r))))}")
                : "");
            Console.WriteLine(FormattableString.Invariant($"{i,3} pings {date.Pings,7} samples {date.Total,8} buckets {date.Counts.Length,3} median bucket {median,3} share below it {(median > 0 ? cdf[median - 1] : 0):F3}  {string.Join("  ", notes)}"));
        }
    }
}
