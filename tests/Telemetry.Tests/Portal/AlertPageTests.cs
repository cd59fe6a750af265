using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Telemetry.Portal.Components.Pages.Alerts;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class AlertPageTests : PortalPageTestKit
{
    private readonly FakeAlertsSource _source = new();

    public AlertPageTests() => Services.AddSingleton<IAlertsSource>(_source);

    private static AlertDetail Sentry(string state = "new", params AlertHistoryEntry[] history) => new(
        17, "sentry", "sentry:spike:abc:ann@example.org:1", "[Errors] Spike: TypeError: cart", "Events in the last hour: 240 (5x the weekly mean)",
        null, "web", "spike", "2026-11-20", null, 3, state, false, null, true, [], Now.AddHours(-2), Now.AddHours(-1),
        """{"project":"web","fingerprint":"checkout:TypeError","last_hour_events":240}""", history);

    private IRenderedComponent<AlertPage> RenderAlert(long id = 17) => Render<AlertPage>(p => p.Add(x => x.Id, id));

    [Fact]
    public void Shows_what_fired_when_the_data_behind_it_and_who_did_what()
    {
        _source.Alert = Sentry("acknowledged", new AlertHistoryEntry(Now.AddMinutes(-50), "bob@example.org", "acknowledge", "acknowledged", "looking", null));

        var page = RenderAlert();

        page.WaitForAssertion(() => Assert.Equal("[Errors] Spike: TypeError: cart", page.Find("[data-testid=alert-title]").TextContent.Trim()), Wait);
        Assert.Equal("acknowledged", page.Find("[data-testid=alert-state]").TextContent.Trim());
        Assert.Contains("Fired 2026-11-20 12:30 UTC (2 h ago)", page.Find("[data-testid=alert-fired]").TextContent, StringComparison.Ordinal);
        Assert.Equal("Events in the last hour: 240 (5x the weekly mean)", page.Find("[data-testid=alert-summary]").TextContent.Trim());
        var facts = page.FindAll("[data-testid=alert-fact]").Select(r => (r.QuerySelector("th")!.TextContent.Trim(), r.QuerySelector("td")!.TextContent.Trim())).ToList();
        Assert.Contains(("Project", "web"), facts);
        Assert.Contains(("Rule", "spike"), facts);
        Assert.Contains(("Subscription", "#3"), facts);
        Assert.Contains("\"last_hour_events\": 240", page.Find("[data-testid=alert-details]").TextContent, StringComparison.Ordinal);
        Assert.Equal("/errors/web/checkout%3ATypeError", page.Find("[data-testid=alert-issue-link]").GetAttribute("href"));
        Assert.Equal("bob@example.org", page.Find("[data-testid=history-by]").TextContent.Trim());
        Assert.Equal("looking", page.Find("[data-testid=history-comment]").TextContent.Trim());
        Assert.Equal([17L], _source.Gets);
        // Not signed in: a way to sign in, no buttons.
        Assert.NotEmpty(page.FindAll("[data-testid=triage-sign-in]"));
        Assert.Empty(page.FindAll("[data-testid=action-resolve]"));
    }

    [Fact]
    public void An_unknown_alert_and_an_unreachable_silo_each_say_what_happened()
    {
        var missing = RenderAlert(404);
        missing.WaitForAssertion(() => Assert.Contains("No alert 404", missing.Find("[data-testid=alert-not-found]").TextContent, StringComparison.Ordinal), Wait);

        _source.Failure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");
        var failing = RenderAlert();
        failing.WaitForAssertion(() => Assert.Contains("Silo unreachable", failing.Find("[data-testid=alert-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(failing.FindAll("[data-testid=alert-title]"));
    }

    [Fact]
    public void A_signed_in_person_acknowledges_then_resolves_with_a_bug_link_and_the_page_follows()
    {
        SignIn();
        _source.Alert = Sentry();

        var page = RenderAlert();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=action-acknowledge]")), Wait);
        Assert.True(page.Find("[data-testid=action-comment]").HasAttribute("disabled"));
        page.Find("[data-testid=action-acknowledge]").Click();

        page.WaitForAssertion(() => Assert.Equal("acknowledged", page.Find("[data-testid=alert-state]").TextContent.Trim()), Wait);
        Assert.Equal((17L, "acknowledge", Token), (_source.Actions[0].Id, _source.Actions[0].Action.Action, _source.Actions[0].Bearer));
        // Acknowledged: no second acknowledge, resolve still there.
        Assert.Empty(page.FindAll("[data-testid=action-acknowledge]"));

        page.Find("[data-testid=triage] input").Change("https://bugzilla.mozilla.org/show_bug.cgi?id=1890001");
        page.Find("[data-testid=action-resolve]").Click();
        page.WaitForAssertion(() => Assert.Equal("resolved", page.Find("[data-testid=alert-state]").TextContent.Trim()), Wait);
        var resolve = _source.Actions[1].Action;
        Assert.Equal(("resolve", "https://bugzilla.mozilla.org/show_bug.cgi?id=1890001"), (resolve.Action, resolve.Bug));
        Assert.Equal(["resolve", "acknowledge"], page.FindAll("[data-testid=history-action]").Select(e => e.TextContent.Trim()));
        Assert.Equal(["ann@example.org", "ann@example.org"], page.FindAll("[data-testid=history-by]").Select(e => e.TextContent.Trim()));
        Assert.NotEmpty(page.FindAll("[data-testid=action-reopen]"));
    }

    [Fact]
    public void Snooze_invalid_and_comment_post_their_actions_and_a_refusal_is_shown()
    {
        SignIn();
        _source.Alert = Sentry();

        var page = RenderAlert();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=action-snooze]")), Wait);
        page.InvokeAsync(() => page.FindComponent<MudSelect<TimeSpan>>().Instance.ValueChanged.InvokeAsync(TimeSpan.FromDays(7)));
        page.Find("[data-testid=action-snooze]").Click();
        page.WaitForAssertion(() => Assert.Single(_source.Actions), Wait);
        Assert.Equal(("snooze", (DateTimeOffset?)Now.AddDays(7)), (_source.Actions[0].Action.Action, _source.Actions[0].Action.Until));
        Assert.Contains("Snoozed until 2026-11-27 14:30 UTC", page.Find("[data-testid=triage-message]").TextContent, StringComparison.Ordinal);

        page.Find("[data-testid=triage] textarea").Change("a test build, not a real regression");
        page.Find("[data-testid=action-comment]").Click();
        page.WaitForAssertion(() => Assert.Equal(2, _source.Actions.Count), Wait);
        Assert.Equal(("comment", "a test build, not a real regression"), (_source.Actions[1].Action.Action, _source.Actions[1].Action.Comment));

        _source.ActFailure = new SiloApiException(HttpStatusCode.Conflict, "cannot invalid an alert that is invalid");
        page.Find("[data-testid=action-invalid]").Click();
        page.WaitForAssertion(() => Assert.Equal("Cannot invalid an alert that is invalid.", page.Find("[data-testid=triage-message]").TextContent.Trim()), Wait);
        Assert.Equal("invalid", _source.Actions[2].Action.Action);
    }
}

/// <summary>One alert held in memory; actions append to its history as the silo would.</summary>
internal sealed class FakeAlertsSource : IAlertsSource
{
    public AlertDetail? Alert { get; set; }
    public Exception? Failure { get; set; }
    public Exception? ActFailure { get; set; }
    public List<long> Gets { get; } = [];
    public List<(long Id, AlertAction Action, string Bearer)> Actions { get; } = [];

    public Task<AlertDetail?> GetAsync(long id, CancellationToken ct)
    {
        Gets.Add(id);
        return Failure is not null ? Task.FromException<AlertDetail?>(Failure) : Task.FromResult(Alert?.Id == id ? Alert : null);
    }

    public Task<AlertDetail> ActAsync(long id, AlertAction action, string bearer, CancellationToken ct)
    {
        Actions.Add((id, action, bearer));
        if (ActFailure is not null)
        {
            return Task.FromException<AlertDetail>(ActFailure);
        }
        string state = action.Action switch
        {
            "acknowledge" => "acknowledged",
            "resolve" => "resolved",
            "invalid" => "invalid",
            "reopen" => "new",
            _ => Alert!.State,
        };
        Alert = Alert! with
        {
            State = state,
            SnoozedUntil = action.Until ?? Alert.SnoozedUntil,
            History = [.. Alert.History, new AlertHistoryEntry(DateTimeOffset.UnixEpoch, "ann@example.org", action.Action, state, action.Comment, action.Bug)],
        };
        return Task.FromResult(Alert);
    }
}
