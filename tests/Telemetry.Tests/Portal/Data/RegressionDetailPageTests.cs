using System.Collections.Immutable;
using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Portal.Components.Pages.Regressions;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal.Data;

public sealed class RegressionDetailPageTests : PortalPageContext
{
    private readonly RegressionsPageTests.FakeRegressions _source = new();

    public RegressionDetailPageTests()
    {
        Services.AddSingleton<IRegressionsSource>(_source);
        _source.Detail = new RegressionDetail(
            RegressionsPageTests.Row(12, "GC_MS", "20261120", 0.21, "new", "higher", "gc@example.org"),
            ["0", "1", "2", "5"], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1],
            "Time spent running JS GC (ms)", [new RegressionHistoryEntry(DateTimeOffset.Parse("2026-11-22T08:00:00Z"), "system", "detected", "new", null, null)]);
        var (bounds, counts, sum) = BucketPercentilesTests.RealHistogram("CYCLE_COLLECTOR");
        _source.Evolution =
        [
            new BuildDatePoint("20261119", [.. bounds], [.. counts], sum),
            new BuildDatePoint("20261120", [.. bounds], [.. counts.Select(c => c * 2)], sum * 2),
        ];
    }

    [Fact]
    public void Shows_the_distributions_the_definition_the_evolution_and_the_history()
    {
        SignIn("ana@example.org", "session-ana");

        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        Assert.Equal("new", Text(page, "state"));
        Assert.Contains("nightly · build date 20261120 · default detector · score 0.210", Text(page, "summary"));
        Assert.Contains("compared with 20261110, 20261111", Text(page, "summary"));
        var distributions = page.Find("[data-testid=distributions]");
        Assert.Contains("candidate 20261120", distributions.TextContent);
        Assert.Contains("reference", distributions.TextContent);
        Assert.NotEmpty(distributions.QuerySelectorAll("svg"));
        Assert.Contains("Time spent running JS GC (ms)", Text(page, "definition"));
        Assert.Equal("gc@example.org", Text(page, "owners"));
        var evolution = page.Find("[data-testid=evolution]");
        Assert.Contains("20261120 ◆", evolution.TextContent);
        Assert.Contains("median", evolution.TextContent);
        Assert.Single(page.FindAll("[data-testid=history-row]"));
        Assert.Empty(page.FindAll("[data-testid=suspects]")); // sure of its date: no range to show
    }

    [Fact]
    public void A_finding_unsure_of_its_date_names_its_suspect_build_dates()
    {
        SignIn("ana@example.org", "session-ana");
        _source.Detail = _source.Detail! with { Row = _source.Detail.Row with { SuspectFrom = "20261119", SuspectTo = "20261121" } };

        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        Assert.Contains("build date 20261120", Text(page, "summary"));
        Assert.Equal("· began between build dates 20261119–20261121 (95 %)", Text(page, "suspects"));
    }

    [Theory]
    [InlineData("acknowledge", "acknowledged")]
    [InlineData("invalid", "invalid")]
    public void A_triage_button_posts_its_action_with_the_persons_session_and_shows_who_did_it(string action, string state)
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        page.Find($"[data-testid=act-{action}]").Click();

        var (id, posted, bearer) = Assert.Single(_source.Actions);
        Assert.Equal((12L, action, "session-ana"), (id, posted.Action, bearer));
        Assert.Equal(state, Text(page, "state"));
        Assert.Contains($"Recorded: {action} by ana@example.org", Text(page, "action-message"));
        var last = page.FindAll("[data-testid=history-row]")[^1].QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList();
        Assert.Equal(["2026-11-23 10:00", "ana@example.org", action, state], last.Take(4));
    }

    [Fact]
    public void Resolve_carries_the_comment_and_the_bug_link()
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        Input(page, "comment").Change("Fixed by the GC scheduling patch");
        Type(page, "bug", "https://bugzilla.mozilla.org/show_bug.cgi?id=1234");
        page.Find("[data-testid=act-resolve]").Click();

        var posted = Assert.Single(_source.Actions).Action;
        Assert.Equal(new RegressionAction("resolve", "Fixed by the GC scheduling patch", "https://bugzilla.mozilla.org/show_bug.cgi?id=1234"), posted);
        Assert.Equal("https://bugzilla.mozilla.org/show_bug.cgi?id=1234",
            page.FindAll("[data-testid=history-row]")[^1].QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public void Snooze_asks_for_the_chosen_number_of_days_from_now()
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        var before = DateTimeOffset.UtcNow;
        page.Find("[data-testid=act-snooze]").Click();

        var posted = Assert.Single(_source.Actions).Action;
        Assert.Equal("snooze", posted.Action);
        Assert.InRange(posted.Until!.Value, before.AddDays(7), DateTimeOffset.UtcNow.AddDays(7));
    }

    [Fact]
    public void An_action_the_state_does_not_allow_is_explained()
    {
        SignIn("ana@example.org", "session-ana");
        _source.ActFailure = new SiloApiException(HttpStatusCode.Conflict, "acknowledge is not allowed in state resolved");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        page.Find("[data-testid=act-acknowledge]").Click();

        Assert.Contains("Not recorded", Text(page, "action-message"));
        Assert.Contains("acknowledge is not allowed in state resolved", Text(page, "action-message"));
        Assert.Equal("new", Text(page, "state"));
    }

    [Fact]
    public void Subscribe_creates_a_regression_subscription_for_the_channel_and_metric()
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        page.Find("[data-testid=subscribe]").Click();

        Assert.Equal(("nightly", "GC_MS", "session-ana"), Assert.Single(_source.Subscriptions));
        Assert.Contains("Subscribed (subscription 42)", Text(page, "action-message"));
    }

    [Fact]
    public void Without_a_session_there_are_no_triage_buttons()
    {
        SignedOut();
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        Assert.Contains("Sign in to triage.", Text(page, "triage"));
        Assert.Empty(page.FindAll("[data-testid=act-acknowledge]"));
        Assert.Empty(page.FindAll("[data-testid=subscribe]"));
    }

    [Fact]
    public void An_unknown_id_says_so()
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<RegressionDetailPage>("/regressions/99", p => p.Add(x => x.Id, 99L));

        Assert.Contains("No such regression", Text(page, "not-found"));
    }

    [Fact]
    public void A_failed_evolution_read_leaves_the_rest_of_the_page()
    {
        SignIn("ana@example.org", "session-ana");
        _source.EvolutionFailure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached");
        var page = Open<RegressionDetailPage>("/regressions/12", p => p.Add(x => x.Id, 12L));

        Assert.Contains("cannot be reached", Text(page, "evolution-error-message"));
        Assert.Equal("new", Text(page, "state"));
    }
}
