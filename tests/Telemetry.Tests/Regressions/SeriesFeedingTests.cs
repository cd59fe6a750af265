using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Aggregates;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Regressions;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// How a series is fed from the build-date aggregates (docs/regressions.md, "Feeding the series"): totals summed
/// over every other dimension, versions of one date summed, parts replaced and never added to, lost parts sent again.
/// </summary>
public sealed class SeriesFeedingTests
{
    private static readonly MetricLayout Linear10 = new() { Kind = (int)HistogramKind.Linear, Low = 1, High = 9, BucketCount = 10 };
    private static readonly ImmutableArray<long> Linear10Bounds = BucketLayout.Linear(1, 9, 10).LowerBounds;
    private static readonly DateOnly D1 = new(2026, 3, 1);

    private static string Key(string version, DateOnly date) =>
        AggregateFamily.GrainKey(AggregateFamily.BuildId, "nightly", version, MetricSeries.FormatBuildDate(date));

    private static MetricTotals Totals(long dataVersion, long pings, params (string Metric, long[] Counts, long Instances)[] metrics) => new()
    {
        DataVersion = dataVersion,
        Pings = pings,
        Metrics = [.. metrics.Select(m => new MetricTotal { Metric = m.Metric, Layout = Linear10, Counts = [.. m.Counts], Instances = m.Instances })],
    };

    private static long[] Counts(params (int Bucket, long Count)[] entries)
    {
        var c = new long[10];
        foreach (var (b, n) in entries)
        {
            c[b] += n;
        }
        return c;
    }

    [Fact]
    public void An_aggregates_totals_sum_every_label_process_and_os_of_a_metric()
    {
        SeriesKey Series(string metric, string label, string process, string os) => new()
        {
            Metric = metric, Label = label, Process = process, Application = "Firefox", Architecture = "x86-64", Os = os, OsVersion = "10",
        };
        var layouts = new Dictionary<string, MetricLayout> { ["GC_MS"] = Linear10, ["OTHER"] = Linear10 };
        var series = new Dictionary<SeriesKey, HistogramAccumulator>
        {
            [Series("GC_MS", "", "parent", "Windows_NT")] = new() { Counts = Counts((1, 5), (2, 1)), Count = 2 },
            [Series("GC_MS", "", "content", "Windows_NT")] = new() { Counts = Counts((1, 3)), Count = 1 },
            [Series("GC_MS", "a", "parent", "Linux")] = new() { Counts = Counts((9, 7)), Count = 4 },
            // Another bucket count than the metric's layout: an aggregate skips such series when adding, so does the sum.
            [Series("GC_MS", "b", "parent", "Linux")] = new() { Counts = new long[3] { 100, 100, 100 }, Count = 9 },
            [Series("OTHER", "", "parent", "Linux")] = new() { Counts = Counts((0, 1)), Count = 1 },
        };

        var totals = MetricTotalsBuilder.Sum(series, layouts);

        Assert.Equal(["GC_MS", "OTHER"], totals.Select(t => t.Metric));
        Assert.Equal(Counts((1, 8), (2, 1), (9, 7)), totals[0].Counts.ToArray());
        Assert.Equal(7, totals[0].Instances);
        Assert.Equal(Linear10, totals[0].Layout);
    }

    [Fact]
    public void A_build_date_is_the_sum_of_its_major_versions()
    {
        var totals = new ChannelTotals();
        totals.Apply(Key("57", D1), D1, Totals(11, 40, ("GC_MS", Counts((1, 30), (2, 10)), 40)));
        totals.Apply(Key("58", D1), D1, Totals(21, 5, ("GC_MS", Counts((2, 4), (3, 1)), 5)));
        totals.Apply(Key("58", D1.AddDays(1)), D1.AddDays(1), Totals(31, 7, ("GC_MS", Counts((4, 7)), 7)));
        var book = new SeriesBook([]);

        var request = totals.RequestFor("GC_MS", ["default"]);
        Assert.Empty(book.Sync(request.Manifest, request.Parts));
        var series = book.Build("nightly", "GC_MS");

        Assert.Equal([D1, D1.AddDays(1)], series.Dates.Select(d => d.BuildDate));
        Assert.Equal(Counts((1, 30), (2, 14), (3, 1)), series[0].Counts.ToArray());
        Assert.Equal(45, series[0].Pings);
        Assert.Equal(Linear10Bounds.ToArray(), series[0].LowerBounds.ToArray());
        Assert.Equal(new Dictionary<DateOnly, long> { [D1] = 45, [D1.AddDays(1)] = 7 }, totals.PingsByDate());
    }

    [Fact]
    public void Reading_an_aggregate_again_replaces_its_part_so_nothing_is_counted_twice()
    {
        var totals = new ChannelTotals();
        var book = new SeriesBook([]);
        string key = Key("57", D1);
        totals.Apply(key, D1, Totals(1, 10, ("GC_MS", Counts((1, 10)), 10)));
        Feed(totals, book);
        // The aggregate took more pings; the next read answers its whole content again.
        totals.Apply(key, D1, Totals(2, 25, ("GC_MS", Counts((1, 20), (5, 5)), 25)));
        Feed(totals, book);
        // The same version read twice (a retry after a lost answer) and sent twice.
        totals.Apply(key, D1, Totals(2, 25, ("GC_MS", Counts((1, 20), (5, 5)), 25)));
        var again = new SeriesDetectionRequest { Manifest = totals.RequestFor("GC_MS", []).Manifest, Parts = totals.PartsFor("GC_MS", [key]), Detectors = [] };
        Assert.Empty(book.Sync(again.Manifest, again.Parts));
        Assert.Empty(book.Sync(again.Manifest, again.Parts));

        var date = Assert.Single(book.Build("nightly", "GC_MS").Dates);
        Assert.Equal(Counts((1, 20), (5, 5)), date.Counts.ToArray());
        Assert.Equal(25, date.Pings);
    }

    [Fact]
    public void Only_parts_that_changed_are_sent_and_an_unchanged_answer_keeps_the_last_read()
    {
        var totals = new ChannelTotals();
        string a = Key("57", D1), b = Key("57", D1.AddDays(1));
        totals.Apply(a, D1, Totals(1, 10, ("GC_MS", Counts((1, 10)), 10)));
        totals.Apply(b, D1.AddDays(1), Totals(5, 10, ("GC_MS", Counts((1, 10)), 10)));
        var book = new SeriesBook([]);
        Feed(totals, book);

        Assert.Equal(5, totals.KnownVersion(b));
        totals.Apply(b, D1.AddDays(1), new MetricTotals { DataVersion = 5, Unchanged = true, Pings = 10 });
        totals.Apply(a, D1, Totals(2, 12, ("GC_MS", Counts((1, 12)), 12)));
        var request = totals.RequestFor("GC_MS", []);

        Assert.Equal([a, b], request.Manifest.Select(s => s.AggregateKey));
        Assert.Equal([a], request.Parts.Select(p => p.AggregateKey));
        Assert.Empty(book.Sync(request.Manifest, request.Parts));
        Assert.Equal([12L, 10L], book.Build("nightly", "GC_MS").Dates.Select(d => d.Total));
    }

    [Fact]
    public void A_series_that_lost_its_parts_names_them_and_is_whole_again_once_they_are_sent()
    {
        var totals = new ChannelTotals();
        string a = Key("57", D1), b = Key("57", D1.AddDays(1));
        totals.Apply(a, D1, Totals(1, 10, ("GC_MS", Counts((1, 10)), 10)));
        totals.Apply(b, D1.AddDays(1), Totals(2, 10, ("GC_MS", Counts((2, 10)), 10)));
        Feed(totals, new SeriesBook([]));
        var restarted = new SeriesBook([]); // activated again without its state

        var request = totals.RequestFor("GC_MS", []);
        Assert.Empty(request.Parts); // the coordinator believes it sent everything
        var missing = restarted.Sync(request.Manifest, request.Parts);
        Assert.Equal([a, b], missing.ToArray());
        Assert.Empty(restarted.Sync(request.Manifest, totals.PartsFor("GC_MS", missing)));

        Assert.Equal([D1, D1.AddDays(1)], restarted.Build("nightly", "GC_MS").Dates.Select(d => d.BuildDate));
    }

    [Fact]
    public void Dates_that_leave_the_window_leave_the_series()
    {
        var catalog = Enumerable.Range(0, 10)
            .Select(i => new DateVersion { Date = MetricSeries.FormatBuildDate(D1.AddDays(i)), Version = "57" })
            .Append(new DateVersion { Date = MetricSeries.FormatBuildDate(D1.AddDays(9)), Version = "58" })
            .Append(new DateVersion { Date = "20991231", Version = "58" }) // a build id from a wrong clock
            .Append(new DateVersion { Date = "garbage1", Version = "58" });
        var today = D1.AddDays(9);

        var (dates, aggregates) = ChannelTotals.SelectWindow("nightly", catalog, today, size: 4);

        Assert.Equal(Enumerable.Range(6, 4).Select(i => D1.AddDays(i)), dates);
        Assert.Equal(5, aggregates.Length);
        Assert.Contains((Key("58", D1.AddDays(9)), D1.AddDays(9)), aggregates);

        var totals = new ChannelTotals();
        foreach (var i in Enumerable.Range(5, 5))
        {
            totals.Apply(Key("57", D1.AddDays(i)), D1.AddDays(i), Totals(i + 1, 10, ("GC_MS", Counts((1, 10)), 10)));
        }
        var book = new SeriesBook([]);
        Feed(totals, book);
        Assert.Equal(5, book.Build("nightly", "GC_MS").Count);

        totals.Retain(dates, aggregates.Select(a => a.Key));
        Feed(totals, book);
        Assert.Equal(dates, book.Build("nightly", "GC_MS").Dates.Select(d => d.BuildDate));
    }

    [Fact]
    public void When_versions_of_one_date_disagree_on_the_layout_the_layout_with_most_samples_is_kept()
    {
        var wide = new MetricLayout { Kind = (int)HistogramKind.Linear, Low = 1, High = 99, BucketCount = 10 };
        var book = new SeriesBook([]);
        SeriesPart Part(string version, MetricLayout layout, long[] counts) => new()
        {
            AggregateKey = Key(version, D1), BuildDate = D1, DataVersion = 1, Layout = layout, Counts = [.. counts], Instances = counts.Sum(),
        };
        var parts = ImmutableArray.Create(Part("57", Linear10, Counts((1, 3))), Part("58", wide, Counts((1, 50))));

        Assert.Empty(book.Sync([.. parts.Select(p => new PartStamp { AggregateKey = p.AggregateKey, DataVersion = 1 })], parts));
        var date = Assert.Single(book.Build("nightly", "GC_MS").Dates);

        Assert.Equal(BucketLayout.Linear(1, 99, 10).LowerBounds.ToArray(), date.LowerBounds.ToArray());
        Assert.Equal(50, date.Total);
    }

    [Fact]
    public void A_shift_fed_through_the_parts_is_found_at_its_build_date()
    {
        // 16 build dates (the default detector measures day-to-day noise on at least 10 pairs of dates
        // before a candidate), two major versions each; from the 13th date on, a third of the samples move up a bucket.
        var totals = new ChannelTotals();
        for (int i = 0; i < 16; i++)
        {
            var date = D1.AddDays(i);
            bool shifted = i >= 12;
            long[] a = shifted ? Counts((3, 2000), (4, 3000), (5, 4000), (6, 1000)) : Counts((3, 3000), (4, 4000), (5, 2000), (6, 1000));
            totals.Apply(Key("57", date), date, Totals(i + 1, 60, ("GC_MS", a, 60)));
            totals.Apply(Key("58", date), date, Totals(i + 100, 40, ("GC_MS", [.. a.Select(c => c / 2)], 40)));
        }
        var book = new SeriesBook([]);
        Feed(totals, book);

        var findings = RegressionDetectors.Get("default").Detect(book.Build("nightly", "GC_MS"));

        var finding = Assert.Single(findings);
        Assert.Equal(D1.AddDays(12), finding.BuildDate);
        Assert.Equal(RegressionDirection.Higher, finding.Direction);
        Assert.Equal(15_000, book.Build("nightly", "GC_MS")[12].Total);
    }

    private static void Feed(ChannelTotals totals, SeriesBook book)
    {
        var request = totals.RequestFor("GC_MS", []);
        Assert.Empty(book.Sync(request.Manifest, request.Parts));
        totals.Sent("GC_MS", request.Manifest);
    }
}
