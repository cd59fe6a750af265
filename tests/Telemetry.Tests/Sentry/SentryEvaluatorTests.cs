using System.Collections.Immutable;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Serialization;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Sentry;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Alerts;
using static Telemetry.Tests.Sentry.SentryIssueTests;

namespace Telemetry.Tests.Sentry;

/// <summary>
/// Evaluation rounds of the Sentry rules over the real memory store and notification core: who is told what,
/// once, and what a dry run, a mute or a snooze change.
/// </summary>
public sealed class SentryEvaluatorTests
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly MemorySentryStore _store = new(Serializer);
    private readonly InMemoryAlertCore _core;
    private readonly StoreIssues _issues;
    private long _marker;

    public SentryEvaluatorTests()
    {
        _core = new InMemoryAlertCore(_time);
        _issues = new StoreIssues(_store);
    }

    /// <summary>What the issue grain does, over the same store, for plain tests.</summary>
    private sealed class StoreIssues(MemorySentryStore store) : ISentryIssueAccess
    {
        public async Task<SentryIssue> LoadAsync(string project, string fingerprint)
        {
            return SentryIssue.FromStored(await store.LoadAsync(project, fingerprint, default), project, fingerprint, 1000, 91);
        }

        public async Task SaveAsync(SentryIssue issue)
        {
            await store.SaveAsync(issue.Header, issue.DirtyDays, issue.DroppedDays, default);
            issue.ClearDirty();
        }

        public async Task<SentryIssueFacts?> FactsAsync(string project, string fingerprint, DateTimeOffset now, ImmutableArray<int> eventDays)
        {
            var issue = await LoadAsync(project, fingerprint);
            return issue.Exists ? issue.Facts(now, eventDays) : null;
        }

        public async Task RecordNoticesAsync(string project, string fingerprint, ImmutableArray<SentryNotice> notices)
        {
            var issue = await LoadAsync(project, fingerprint);
            issue.AddNotices(notices);
            await SaveAsync(issue);
        }
    }

    private async Task RecordAsync(string fingerprint, int events, string project = "default", DateTimeOffset? at = null)
    {
        var issue = await _issues.LoadAsync(project, fingerprint);
        int start = issue.Header.RecentIds.Count;
        for (int i = 0; i < events; i++)
        {
            issue.Record(Event($"{fingerprint}-{start + i}", at ?? _time.GetUtcNow(), fingerprint: fingerprint, project: project), _time.GetUtcNow());
        }
        await _issues.SaveAsync(issue);
    }

    private async Task ActAsync(string fingerprint, string action, DateTimeOffset? until = null)
    {
        var issue = await _issues.LoadAsync("default", fingerprint);
        Assert.Null(issue.Act(new SentryIssueAction { Action = action, Until = until, By = "ann@example.org" }, _time.GetUtcNow()));
        await _issues.SaveAsync(issue);
    }

    private async Task<Subscription> SubscribeAsync(string email, object parameters, bool paused = false)
    {
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(parameters));
        return await _core.Subscriptions.CreateAsync(email, new SubscriptionInput(AlertKinds.Sentry,
            new SubscriptionParams { SentryJson = doc.RootElement.GetRawText() }, Delivery.Immediate, 0, paused), default);
    }

    private SentryEvaluator Evaluator(SentryOptions? options = null) =>
        new(_store, _issues, _core, options ?? new SentryOptions(), "https://portal.test");

    /// <summary>One round as the evaluator grain runs it: from the last completed marker; a dry run leaves it.</summary>
    private async Task<IReadOnlyList<SentryFiredAlert>> RoundAsync(bool dryRun = false, SentryOptions? options = null)
    {
        var subs = await _core.Subscriptions.ListActiveAsync(AlertKinds.Sentry, default);
        var outcome = await Evaluator(options).EvaluateAsync(subs, _marker, _time.GetUtcNow(), dryRun, default);
        if (!dryRun)
        {
            _marker = outcome.Marker;
        }
        return outcome.Alerts;
    }

    /// <summary>Every mail queued, oldest first, as "recipient subject".</summary>
    private IReadOnlyList<string> Mails() =>
        [.. _core.Outbox.ListAsync(null, 1000, null, default).GetAwaiter().GetResult().Rows.AsEnumerable().Reverse().Select(m => $"{m.Recipient} {m.Subject}")];

    [Fact]
    public async Task A_top_issue_with_exactly_200_events_does_not_fire_201_fires_once_and_not_again()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "top-issue" } });
        await RecordAsync("busy", 200);
        await RecordAsync("quiet", 3);
        Assert.Empty(await RoundAsync());

        await RecordAsync("busy", 1);
        var fired = Assert.Single(await RoundAsync());
        Assert.Equal(("top-issue", "busy", 201L), (fired.Rule, fired.Fingerprint, fired.Events));
        Assert.Equal(["ann@example.org"], fired.Recipients.AsEnumerable());

        await RecordAsync("busy", 50);
        Assert.Empty(await RoundAsync());
        Assert.Equal(["ann@example.org [Errors] Top issue: TypeError: x is undefined"], Mails());
    }

    [Fact]
    public async Task Three_issues_rank_by_events_and_only_the_top_n_fire()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "top-issue" }, top_n = 2, top_min_events = 4 });
        await RecordAsync("ten", 10);
        await RecordAsync("twenty", 20);
        await RecordAsync("five", 5);
        var fired = await RoundAsync();
        Assert.Equal(["ten", "twenty"], fired.Select(f => f.Fingerprint).Order(StringComparer.Ordinal));
        var top = await _store.ListAsync("default", SentryIssue.Today(_time.GetUtcNow()).AddDays(-6), SentryIssue.Today(_time.GetUtcNow()), SentrySorts.Events, 10, default);
        Assert.Equal([("twenty", 20L), ("ten", 10L), ("five", 5L)], top.Select(r => (r.Fingerprint, r.Events)));
    }

    [Fact]
    public async Task A_new_issue_is_told_once_to_each_subscriber_and_not_to_those_who_subscribed_after_it()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "new-issue" } });
        await SubscribeAsync("ann@example.org", new { project = "*", rules = new[] { "new-issue" } }); // the same person twice
        await SubscribeAsync("bob@example.org", new { project = "other", rules = new[] { "new-issue" } });
        await RecordAsync("fresh", 1);
        var fired = Assert.Single(await RoundAsync());
        Assert.Equal(("new-issue", "ann@example.org"), (fired.Rule, string.Join(",", fired.Recipients)));

        _time.Advance(TimeSpan.FromMinutes(5));
        await SubscribeAsync("carl@example.org", new { project = "default" });
        await RecordAsync("fresh", 1);
        Assert.Empty(await RoundAsync());
        Assert.Single(Mails());
    }

    [Fact]
    public async Task A_muted_or_snoozed_issue_notifies_no_one_and_a_paused_subscription_hears_nothing()
    {
        await SubscribeAsync("ann@example.org", new { project = "default" });
        await SubscribeAsync("paused@example.org", new { project = "default" }, paused: true);
        await RecordAsync("muted", 1);
        await ActAsync("muted", "mute");
        await RecordAsync("snoozed", 1);
        await ActAsync("snoozed", "snooze", _time.GetUtcNow().AddHours(1));
        Assert.Empty(await RoundAsync());
        Assert.Empty(Mails());

        // When the snooze ends, the next change is evaluated as usual.
        _time.Advance(TimeSpan.FromHours(2));
        await RecordAsync("snoozed", 1);
        var fired = Assert.Single(await RoundAsync());
        Assert.Equal(("new-issue", "snoozed"), (fired.Rule, fired.Fingerprint));
    }

    [Fact]
    public async Task A_dry_run_shows_what_would_be_sent_and_records_and_sends_nothing()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "new-issue" } });
        await RecordAsync("fresh", 1);
        var dry = Assert.Single(await RoundAsync(dryRun: true));
        Assert.Equal(["ann@example.org"], dry.Recipients.AsEnumerable());
        Assert.Empty(_core.Alerts);
        Assert.Empty(Mails());
        Assert.Empty((await _issues.LoadAsync("default", "fresh")).Header.Alerts);

        // The real round still finds it: the dry run moved nothing.
        Assert.Single(await RoundAsync());
        Assert.Single(Mails());
        Assert.Equal("new-issue", Assert.Single((await _issues.LoadAsync("default", "fresh")).Header.Alerts).Rule);
    }

    [Fact]
    public async Task A_spike_fires_at_the_factor_and_the_floor_and_again_only_after_the_renotify_hours()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "spike" }, spike_factor = 5, spike_floor = 50 });
        var now = _time.GetUtcNow();
        await RecordAsync("wave", 168, at: now.AddHours(-50)); // one an hour on average over the week before
        Assert.Empty(await RoundAsync());
        await RecordAsync("wave", 49);                         // below the floor
        Assert.Empty(await RoundAsync());
        await RecordAsync("wave", 1);                          // 50 in the hour >= 5 x 1 and >= 50
        Assert.Equal("spike", Assert.Single(await RoundAsync()).Rule);

        _time.Advance(TimeSpan.FromMinutes(30));
        await RecordAsync("wave", 60);
        Assert.Empty(await RoundAsync());                      // still spiking, told 30 minutes ago

        _time.Advance(TimeSpan.FromHours(24));
        await RecordAsync("wave", 60);
        Assert.Equal("spike", Assert.Single(await RoundAsync()).Rule);
        Assert.Equal(2, Mails().Count);
    }

    [Fact]
    public async Task A_regressed_issue_is_told_when_an_event_arrives_after_resolving_it()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "regressed" } });
        await RecordAsync("back", 1);
        Assert.Empty(await RoundAsync());
        await ActAsync("back", "resolve");
        await RecordAsync("back", 1);
        var fired = Assert.Single(await RoundAsync());
        Assert.Equal("regressed", fired.Rule);

        // Resolved and back again within the renotify hours: recorded on the issue, nobody told twice.
        await ActAsync("back", "resolve");
        _time.Advance(TimeSpan.FromHours(1));
        await RecordAsync("back", 1);
        Assert.Empty(await RoundAsync());
        await ActAsync("back", "resolve");
        _time.Advance(TimeSpan.FromHours(24));
        await RecordAsync("back", 1);
        Assert.Single(await RoundAsync());
        Assert.Equal(["ann@example.org [Errors] Regressed issue: TypeError: x is undefined", "ann@example.org [Errors] Regressed issue: TypeError: x is undefined"], Mails());
    }

    [Fact]
    public async Task Console_mode_records_the_alert_and_mails_nobody()
    {
        await SubscribeAsync("ann@example.org", new { project = "default", rules = new[] { "new-issue" } });
        await RecordAsync("fresh", 1);
        Assert.Single(await RoundAsync(options: new SentryOptions { Console = true }));
        var alert = Assert.Single(_core.Alerts);
        Assert.False(alert.Notify);
        Assert.Empty(Mails());
    }

    [Fact]
    public void The_mail_names_the_rule_the_stack_innermost_first_the_counts_and_both_links()
    {
        var evaluator = Evaluator(new SentryOptions { IssueUrlTemplate = "https://sentry.example.org/org/proj/issues/{groupId}/" });
        var facts = new SentryIssueFacts
        {
            Project = "default",
            Fingerprint = "a:b/c",
            Message = "TypeError: x is undefined",
            GroupId = "42",
            Frames = [new SentryFrame("outer", "app.js", 10, 1), new SentryFrame("inner", "lib.js", 20, 2), new SentryFrame(null, null, null, null)],
            State = SentryIssueStates.Unresolved,
            FirstSeen = _time.GetUtcNow().AddDays(-2),
            LastSeen = _time.GetUtcNow(),
            RecordedAt = _time.GetUtcNow().AddDays(-2),
            LastHourEvents = 3,
            WeekBeforeEvents = 0,
            EventsToday = 5,
            UsersToday = 2,
            Events7Days = 12,
            Users7Days = 4,
            EventsOverDays = ImmutableDictionary<int, long>.Empty,
            Notices = [],
        };
        var draft = evaluator.Draft(new SentryDecision("spike", facts, "ann@example.org", 7, 0), SentryIssue.Today(_time.GetUtcNow()), notify: true);
        Assert.Equal("[Errors] Spike: TypeError: x is undefined", draft.Title);
        Assert.Contains("    at ?(?:?:?)\n    at inner(lib.js:20:2)\n    at outer(app.js:10:1)\n", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("Events: 5 today, 12 in the last 7 days", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("Users: 2 today, 4 in the last 7 days", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("First seen: 2026-11-28 12:00:00 UTC", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("Portal: https://portal.test/errors/default/a%3Ab%2Fc", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("Sentry: https://sentry.example.org/org/proj/issues/42/", draft.Summary, StringComparison.Ordinal);
        Assert.Equal(7, draft.Target.SubscriptionId);
        Assert.EndsWith(":ann@example.org:1", draft.Key, StringComparison.Ordinal);
    }
}
