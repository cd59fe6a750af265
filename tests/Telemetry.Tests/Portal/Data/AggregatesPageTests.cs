using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Portal.Components.Pages.Aggregates;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal.Data;

public sealed class AggregatesPageTests : PortalPageContext
{
    private readonly FakeAggregates _source = new();

    public AggregatesPageTests() => Services.AddSingleton<IAggregatesSource>(_source);

    [Fact]
    public void Defaults_to_nightly_its_newest_version_and_dates_and_shows_mean_and_percentiles_per_date()
    {
        var page = Open<AggregatesPage>("/aggregates?metric=CYCLE_COLLECTOR");

        var query = _source.Queries.Single();
        Assert.Equal(("nightly", "147", AggregateKinds.BuildId), (query.Channel, query.Version, query.Kind));
        Assert.Equal(new[] { "20261118", "20261119", "20261120" }, query.Dates.ToArray());

        // The real CYCLE_COLLECTOR histogram (240 samples, sum 13,370) on 20261118 and twice it on 20261119;
        // 20261120 holds CYCLE_COLLECTOR_FULL. Percentiles worked out in BucketPercentilesTests.
        var rows = page.FindAll("[data-testid=evolution-row]").Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList()).ToList();
        Assert.Equal(["20261118", "240", "55.708", "0.086", "0.432", "0.863", "17", "190"], rows[0]);
        Assert.Equal(["20261119", "480", "55.708", "0.086", "0.432", "0.863", "17", "190"], rows[1]);
        Assert.Equal("20261120", rows[2][0]);
        Assert.Equal("240", rows[2][1]);
        Assert.Equal((13502.0 / 240).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture), rows[2][2]);
        Assert.Contains("960 samples", page.Find("[data-testid=histogram]").TextContent);
        Assert.NotEmpty(page.Find("[data-testid=evolution]").QuerySelectorAll("svg"));
        Assert.Empty(page.FindAll("[data-testid=evolution-single]"));

        var single = Open<AggregatesPage>("/aggregates?metric=CYCLE_COLLECTOR&dates=20261118");
        Assert.Contains("One date has data", Text(single, "evolution-single"));
        Assert.Single(single.FindAll("[data-testid=evolution-row]"));
    }

    [Fact]
    public void The_downloads_hold_exactly_the_rows_shown()
    {
        var page = Open<AggregatesPage>("/aggregates?metric=CYCLE_COLLECTOR");

        var histogramRows = page.FindAll("[data-testid=histogram-row]").Select(r => string.Join(',', r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()))).ToList();
        var histogramCsv = Download(page, "download-histogram-csv").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("bucket,count", histogramCsv[0]);
        Assert.Equal(histogramRows, histogramCsv.Skip(1));
        Assert.Equal(50, histogramRows.Count);
        Assert.Equal("0,555", histogramRows[0]); // bucket [0,1): 139 + 2 × 139 + 138 (CYCLE_COLLECTOR_FULL)

        var evolutionRows = page.FindAll("[data-testid=evolution-row]").Select(r => string.Join(',', r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()))).ToList();
        var evolutionCsv = Download(page, "download-evolution-csv").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("date,samples,mean,p5,p25,p50,p75,p95", evolutionCsv[0]);
        Assert.Equal(evolutionRows, evolutionCsv.Skip(1));

        using var json = JsonDocument.Parse(Download(page, "download-json"));
        var jsonEvolution = json.RootElement.GetProperty("evolution").EnumerateArray()
            .Select(e => string.Join(',', new[] { "date", "samples", "mean", "p5", "p25", "p50", "p75", "p95" }.Select(c => e.GetProperty(c).GetString())))
            .ToList();
        Assert.Equal(evolutionRows, jsonEvolution);
        var jsonHistogram = json.RootElement.GetProperty("histogram").EnumerateArray().Select(b => b.GetProperty("bucket").GetString() + "," + b.GetProperty("count").GetString()).ToList();
        Assert.Equal(histogramRows, jsonHistogram);
    }

    [Fact]
    public void Every_filter_is_read_from_the_url_and_a_change_is_written_back()
    {
        var page = Open<AggregatesPage>("/aggregates?kind=submission_date&channel=beta&version=146&metric=CYCLE_COLLECTOR&dates=20261101&application=Firefox&architecture=x86-64&os=Linux,3.1&process=content");

        var query = _source.Queries.Single();
        Assert.Equal(new AggregateQuery(AggregateKinds.SubmissionDate, "beta", "146", "CYCLE_COLLECTOR", default, "Firefox", "x86-64", "Linux,3.1", "content", null),
            query with { Dates = default });
        Assert.Equal(new[] { "20261101" }, query.Dates.ToArray());

        Type(page, "filter-label", "parent-label");

        Assert.Equal("/aggregates?kind=submission_date&channel=beta&version=146&metric=CYCLE_COLLECTOR&dates=20261101&application=Firefox&architecture=x86-64&os=Linux%2C3.1&process=content&label=parent-label", CurrentUrl);
        Assert.Equal("parent-label", _source.Queries[^1].Label);
    }

    [Fact]
    public void Compares_two_dates_side_by_side()
    {
        var page = Open<AggregatesPage>("/aggregates?metric=CYCLE_COLLECTOR&compare=20261118,20261119");

        var sides = page.FindAll("[data-testid=compare-side]")
            .Select(t => t.QuerySelectorAll("tr").ToDictionary(r => r.QuerySelector("th")!.TextContent.Trim(), r => r.QuerySelector("td")!.TextContent.Trim()))
            .ToList();
        Assert.Equal(2, sides.Count);
        Assert.Equal(("20261118", "240"), (sides[0]["date"], sides[0]["samples"]));
        Assert.Equal(("20261119", "480"), (sides[1]["date"], sides[1]["samples"]));
        Assert.Equal(sides[0]["p50"], sides[1]["p50"]);
    }

    [Fact]
    public void Asks_for_a_metric_and_says_when_there_is_no_data()
    {
        var choose = Open<AggregatesPage>("/aggregates");
        Assert.Contains("Choose a metric", Text(choose, "choose-metric"));
        Assert.Contains("3 known for nightly 147", Text(choose, "choose-metric"));
        Assert.Empty(_source.Queries);

        var none = Open<AggregatesPage>("/aggregates?metric=GC_MS");
        Assert.Contains("No data for this selection", Text(none, "empty"));
    }

    [Fact]
    public void A_restricted_channel_without_a_token_is_explained()
    {
        _source.Failure = new SiloApiException(HttpStatusCode.Forbidden, "this needs an administrator");

        var page = Open<AggregatesPage>("/aggregates?channel=release&metric=GC_MS");

        Assert.Contains("Portal:Silo:ReadToken", Text(page, "load-error-message"));
    }

    private static string Download(IRenderedComponent<AggregatesPage> page, string testId)
    {
        var href = page.Find($"[data-testid={testId}]").GetAttribute("href")!;
        var comma = href.IndexOf(',', StringComparison.Ordinal);
        Assert.StartsWith("data:", href);
        return Uri.UnescapeDataString(href[(comma + 1)..]);
    }

    private sealed class FakeAggregates : IAggregatesSource
    {
        private readonly (double[] Bounds, double[] Counts, double Sum) _cycle = BucketPercentilesTests.RealHistogram("CYCLE_COLLECTOR");
        private readonly (double[] Bounds, double[] Counts, double Sum) _full = BucketPercentilesTests.RealHistogram("CYCLE_COLLECTOR_FULL");

        public List<AggregateQuery> Queries { get; } = [];
        public Exception? Failure { get; set; }

        public Task<ImmutableArray<string>> ChannelsAsync(string kind, CancellationToken cancellationToken) =>
            Failure is null ? Task.FromResult<ImmutableArray<string>>(["beta", "nightly"]) : Task.FromException<ImmutableArray<string>>(Failure);

        public Task<ImmutableArray<AggregateDate>> DatesAsync(string kind, string channel, CancellationToken cancellationToken) =>
            Task.FromResult<ImmutableArray<AggregateDate>>(
                [new("20261120", "147"), new("20261119", "147"), new("20261118", "147"), new("20261101", "146")]);

        public Task<AggregateFilterOptions?> FiltersAsync(string channel, string version, CancellationToken cancellationToken) =>
            Task.FromResult<AggregateFilterOptions?>(new(["CYCLE_COLLECTOR", "CYCLE_COLLECTOR_FULL", "GC_MS"], ["Firefox"], ["x86", "x86-64"], ["Linux,3.1", "Windows_NT,6.1"], ["parent", "content"]));

        public Task<AggregateResult?> HistogramsAsync(AggregateQuery query, CancellationToken cancellationToken)
        {
            Queries.Add(query);
            if (query.Metric != "CYCLE_COLLECTOR")
            {
                return Task.FromResult<AggregateResult?>(null);
            }
            var data = query.Dates.Select(date => date switch
            {
                "20261119" => new AggregateEntry(date, "", [.. _cycle.Counts.Select(c => c * 2)], 2, _cycle.Sum * 2),
                "20261120" => new AggregateEntry(date, "", [.. _full.Counts], 1, _full.Sum),
                _ => new AggregateEntry(date, "", [.. _cycle.Counts], 1, _cycle.Sum),
            });
            return Task.FromResult<AggregateResult?>(new AggregateResult(
                [.. _cycle.Bounds.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture))], [.. _cycle.Bounds], "exponential", "Time spent in the cycle collector (ms)", [.. data]));
        }
    }
}
