using System.Collections.Immutable;
using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Portal.Components.Pages.Regressions;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal.Data;

public sealed class RegressionsPageTests : PortalPageContext
{
    private readonly FakeRegressions _source = new();

    public RegressionsPageTests()
    {
        Services.AddSingleton<IRegressionsSource>(_source);
        SignIn("ana@example.org", "session-ana");
    }

    [Fact]
    public void Lists_regressions_newest_build_date_first_with_every_column()
    {
        var page = Open<RegressionsPage>("/regressions");

        Assert.Equal(["GC_MS", "CYCLE_COLLECTOR", "FX_TAB_SWITCH_MS"], Column(page, "regression-row", 1));
        var first = page.FindAll("[data-testid=regression-row]")[0].QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal(["nightly", "GC_MS", "20261120", "default", "0.210", "↑ higher", "new", "gc@example.org, js@example.org"], first);
        Assert.Equal("/regressions/12", page.Find("[data-testid=regression-link]").GetAttribute("href"));
        Assert.Equal(new RegressionListQuery(null, null, null, null, null, null), _source.LastQuery);
    }

    [Fact]
    public void A_regression_unsure_of_its_build_date_names_its_suspect_dates_under_it()
    {
        _source.Rows = [_source.Rows[0] with { SuspectFrom = "20261119", SuspectTo = "20261121" }, _source.Rows[1]];

        var page = Open<RegressionsPage>("/regressions");

        var rows = page.FindAll("[data-testid=regression-row]");
        Assert.Equal("suspects 20261119–20261121", rows[0].QuerySelector("[data-testid=suspects]")!.TextContent.Trim());
        Assert.Null(rows[1].QuerySelector("[data-testid=suspects]"));
    }

    [Fact]
    public void Sorts_by_the_column_in_the_url_and_links_each_header_to_its_order()
    {
        var page = Open<RegressionsPage>("/regressions?sort=score");

        Assert.Equal(["0.410", "0.210", "0.080"], Column(page, "regression-row", 4));
        Assert.Contains("sort=score&dir=asc", page.Find("[data-testid=sort-score]").GetAttribute("href"));
        Assert.Contains("sort=metric", page.Find("[data-testid=sort-metric]").GetAttribute("href"));

        var ascending = Open<RegressionsPage>("/regressions?sort=metric&dir=asc");
        Assert.Equal(["CYCLE_COLLECTOR", "FX_TAB_SWITCH_MS", "GC_MS"], Column(ascending, "regression-row", 1));
    }

    [Fact]
    public void Filters_from_the_url_go_to_the_silo_and_the_form_writes_them_back()
    {
        var page = Open<RegressionsPage>("/regressions?channel=nightly&state=new&from=20261101");

        Assert.Equal(new RegressionListQuery("nightly", null, "new", null, "20261101", null), _source.LastQuery);

        Type(page, "filter-metric", "GC_*");
        ClickUntil(page, "apply", () => Assert.Equal(
            new Dictionary<string, string> { ["channel"] = "nightly", ["metric"] = "GC_*", ["state"] = "new", ["from"] = "20261101" }, QueryOf(CurrentUrl)));

        Assert.StartsWith("/regressions?", CurrentUrl);
        Assert.Equal(new RegressionListQuery("nightly", "GC_*", "new", null, "20261101", null), _source.LastQuery);
    }

    [Fact]
    public void Says_so_when_nothing_matches()
    {
        _source.Rows = [];

        var page = Open<RegressionsPage>("/regressions?metric=NOPE");

        Assert.Contains("No regression matches", Text(page, "empty"));
        Assert.Empty(page.FindAll("[data-testid=regression-row]"));
    }

    [Fact]
    public void Says_plainly_when_the_silo_is_unreachable()
    {
        _source.Failure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");

        var page = Open<RegressionsPage>("/regressions");

        Assert.Contains("Silo unreachable", Text(page, "load-error"));
        Assert.Contains("cannot be reached", Text(page, "load-error-message"));
    }

    [Fact]
    public void An_unexpected_failure_shows_no_exception_text()
    {
        _source.Failure = Thrown(new InvalidOperationException("Password=hunter2"));

        var page = Open<RegressionsPage>("/regressions");

        Assert.Contains("portal's log", Text(page, "load-error-message"));
        Assert.DoesNotContain("hunter2", page.Markup);
        Assert.DoesNotContain("InvalidOperationException", page.Markup);
    }

    internal static RegressionRow Row(long id, string metric, string buildDate, double score, string state = "new", string direction = "higher", params string[] owners) =>
        new(id, "nightly", metric, buildDate, "default", score, direction, state, [.. owners], ["20261110", "20261111"], null, DateTimeOffset.Parse("2026-11-22T08:00:00Z"));

    internal sealed class FakeRegressions : IRegressionsSource
    {
        public ImmutableArray<RegressionRow> Rows { get; set; } =
        [
            Row(12, "GC_MS", "20261120", 0.21, "new", "higher", "gc@example.org", "js@example.org"),
            Row(9, "CYCLE_COLLECTOR", "20261115", 0.41, "acknowledged", "lower"),
            Row(7, "FX_TAB_SWITCH_MS", "20261101", 0.08, "resolved", "changed"),
        ];

        public Exception? Failure { get; set; }
        public RegressionListQuery? LastQuery { get; private set; }
        public RegressionDetail? Detail { get; set; }
        public ImmutableArray<BuildDatePoint> Evolution { get; set; } = [];
        public Exception? EvolutionFailure { get; set; }
        public Exception? ActFailure { get; set; }
        public List<(long Id, RegressionAction Action, string Bearer)> Actions { get; } = [];
        public List<(string Channel, string Metric, string Bearer)> Subscriptions { get; } = [];

        public Task<ImmutableArray<RegressionRow>> ListAsync(RegressionListQuery query, CancellationToken cancellationToken)
        {
            LastQuery = query;
            return Failure is null ? Task.FromResult(Rows) : Task.FromException<ImmutableArray<RegressionRow>>(Failure);
        }

        public Task<RegressionDetail?> GetAsync(long id, CancellationToken cancellationToken) =>
            Failure is null ? Task.FromResult(Detail?.Row.Id == id ? Detail : null) : Task.FromException<RegressionDetail?>(Failure);

        public Task ActAsync(long id, RegressionAction action, string bearer, CancellationToken cancellationToken)
        {
            if (ActFailure is not null)
            {
                return Task.FromException(ActFailure);
            }
            Actions.Add((id, action, bearer));
            var state = action.Action switch { "acknowledge" => "acknowledged", "resolve" => "resolved", "invalid" => "invalid", _ => Detail!.Row.State };
            Detail = Detail! with
            {
                Row = Detail.Row with { State = state },
                History = Detail.History.Add(new RegressionHistoryEntry(DateTimeOffset.Parse("2026-11-23T10:00:00Z"), "ana@example.org", action.Action, state, action.Comment, action.Bug)),
            };
            return Task.CompletedTask;
        }

        public Task<long> SubscribeAsync(string channel, string metric, string bearer, CancellationToken cancellationToken)
        {
            Subscriptions.Add((channel, metric, bearer));
            return Task.FromResult(41L + Subscriptions.Count);
        }

        public Task<ImmutableArray<BuildDatePoint>> EvolutionAsync(string channel, string metric, string buildDate, int days, CancellationToken cancellationToken) =>
            EvolutionFailure is null ? Task.FromResult(Evolution) : Task.FromException<ImmutableArray<BuildDatePoint>>(EvolutionFailure);
    }
}
