using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Telemetry.Portal.Components.Pages.Errors;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class ErrorDetailPageTests : PortalPageTestKit
{
    private readonly FakeErrorsSource _source = new();

    public ErrorDetailPageTests() => Services.AddSingleton<IErrorsSource>(_source);

    private static ErrorIssueDetail Detail(string state = "unresolved", params ErrorHistoryEntry[] history) => new(
        ErrorsPageTests.Issue("checkout:TypeError", 9, state, users: 4),
        "77",
        "app",
        [new ErrorFrame("outer", "app.js", 10, 1), new ErrorFrame("inner", "lib.js", 20, 2)],
        [.. Enumerable.Range(0, 14).Select(i => new ErrorDay(DateOnly.FromDateTime(Now.UtcDateTime).AddDays(i - 13), i == 10 ? 6 : i == 13 ? 3 : 0, i == 10 ? 3 : i == 13 ? 1 : 0))],
        [new ErrorRelease("shop@1.2.0", Now.AddDays(-5)), new ErrorRelease("shop@1.3.0", Now.AddDays(-1))],
        [new ErrorAlertSent("new-issue", Now.AddDays(-5), ["ann@example.org"])],
        history);

    private IRenderedComponent<ErrorDetailPage> RenderIssue() =>
        Render<ErrorDetailPage>(p => p.Add(x => x.Project, "web").Add(x => x.Fingerprint, "checkout:TypeError"));

    [Fact]
    public void Shows_counts_a_per_day_chart_the_stack_innermost_first_releases_and_alerts_sent()
    {
        _source.Detail = Detail();

        var page = RenderIssue();

        page.WaitForAssertion(() => Assert.Equal("Error checkout:TypeError", page.Find("[data-testid=issue-message]").TextContent.Trim()), Wait);
        Assert.Equal("9", page.Find("[data-testid=issue-events-value]").TextContent.Trim());
        Assert.Equal("4", page.Find("[data-testid=issue-users-value]").TextContent.Trim());
        Assert.Equal("30 min ago", page.Find("[data-testid=issue-last-seen-value]").TextContent.Trim());
        Assert.Equal(["at inner(lib.js:20:2)", "at outer(app.js:10:1)"], page.FindAll("[data-testid=frame]").Select(f => f.TextContent.Trim()));
        Assert.Equal(["shop@1.2.0", "shop@1.3.0"], page.FindAll("[data-testid=release] code").Select(c => c.TextContent));
        Assert.Contains("ann@example.org", page.Find("[data-testid=alert-sent]").TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.Find("[data-testid=issue-days] svg"));
        Assert.Equal("Busiest day: 2026-11-17 with 6 events from 3 users", page.Find("[data-testid=issue-days-caption]").TextContent.Trim());
        Assert.Equal([("web", "checkout:TypeError", 14)], _source.GetCalls);
        // Not signed in: a way to sign in, and no triage buttons.
        Assert.StartsWith("/signin?return=", page.Find("[data-testid=triage-sign-in]").GetAttribute("href"), StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=action-resolve]"));
    }

    [Fact]
    public void The_range_comes_from_the_query_string_and_goes_back_into_it()
    {
        _source.Detail = Detail();
        GoTo("/errors/web/checkout%3ATypeError?days=30");

        var page = RenderIssue();

        page.WaitForAssertion(() => Assert.Equal(("web", "checkout:TypeError", 30), _source.GetCalls[0]), Wait);
        var range = page.FindComponent<MudSelect<int>>();
        page.InvokeAsync(() => range.Instance.ValueChanged.InvokeAsync(7));
        Assert.EndsWith("/errors/web/checkout%3ATypeError?days=7", CurrentUri, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal(7, _source.GetCalls[^1].Days), Wait);
    }

    [Fact]
    public void A_signed_in_person_snoozes_for_the_chosen_duration_and_the_history_says_who()
    {
        SignIn();
        _source.Detail = Detail();
        _source.AfterAction = a => Detail("snoozed", new ErrorHistoryEntry(a.Action, "ann@example.org", Now, a.Comment, a.Until));

        var page = RenderIssue();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=action-snooze]")), Wait);
        var duration = page.FindComponents<MudSelect<TimeSpan>>().Single();
        page.InvokeAsync(() => duration.Instance.ValueChanged.InvokeAsync(TimeSpan.FromHours(8)));
        page.Find("[data-testid=triage] textarea").Change("waiting for the 1.3 rollout");
        page.Find("[data-testid=action-snooze]").Click();

        page.WaitForAssertion(() => Assert.Single(_source.Actions), Wait);
        var (project, fingerprint, action, bearer) = _source.Actions[0];
        Assert.Equal(("web", "checkout:TypeError", "snooze", "waiting for the 1.3 rollout", Now.AddHours(8), Token),
            (project, fingerprint, action.Action, action.Comment, action.Until, bearer));
        page.WaitForAssertion(() => Assert.Equal("ann@example.org", page.Find("[data-testid=history-by]").TextContent.Trim()), Wait);
        Assert.Equal("snooze until 2026-11-20 22:30 UTC", page.Find("[data-testid=history-action]").TextContent.Trim());
        Assert.Contains("Snoozed until 2026-11-20 22:30 UTC", page.Find("[data-testid=triage-message]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_mute_and_comment_post_their_actions_and_a_refusal_is_shown_in_words()
    {
        SignIn();
        _source.Detail = Detail();

        var page = RenderIssue();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=action-resolve]")), Wait);
        // Comment needs text first.
        Assert.True(page.Find("[data-testid=action-comment]").HasAttribute("disabled"));
        page.Find("[data-testid=action-mute]").Click();
        page.WaitForAssertion(() => Assert.Equal(["mute"], _source.Actions.Select(a => a.Action.Action)), Wait);

        page.Find("[data-testid=triage] textarea").Change("bug 1890001");
        page.Find("[data-testid=action-comment]").Click();
        page.WaitForAssertion(() => Assert.Equal(["mute", "comment"], _source.Actions.Select(a => a.Action.Action)), Wait);
        Assert.Equal("bug 1890001", _source.Actions[1].Action.Comment);
        Assert.Null(_source.Actions[1].Action.Until);

        _source.ActFailure = new SiloApiException(HttpStatusCode.Conflict, "the issue is already resolved");
        page.Find("[data-testid=action-resolve]").Click();
        page.WaitForAssertion(() => Assert.Equal("The issue is already resolved.", page.Find("[data-testid=triage-message]").TextContent.Trim()), Wait);
        Assert.Equal("resolve", _source.Actions[2].Action.Action);
    }

    [Fact]
    public void An_unknown_issue_and_a_failing_silo_each_say_what_happened()
    {
        _source.Detail = null;
        var missing = RenderIssue();
        missing.WaitForAssertion(() => Assert.Contains("No such issue", missing.Find("[data-testid=issue-not-found]").TextContent, StringComparison.Ordinal), Wait);

        _source.Failure = new SiloApiException(HttpStatusCode.GatewayTimeout, "the silo at http://127.0.0.1:8080/ did not answer in time");
        var failing = RenderIssue();
        failing.WaitForAssertion(() => Assert.Contains("did not answer in time", failing.Find("[data-testid=issue-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("Silo unreachable", failing.Find("[data-testid=issue-error]").TextContent, StringComparison.Ordinal);
    }
}
