using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Alerts;

/// <summary>
/// The alert stores, memory and PostgreSQL alike: an alert is recorded once with its mails, a resolved
/// one reopens as regressed and mails again, a group fires one at a time, muted and snoozed alerts mail
/// nobody; on PostgreSQL many publishers at once still record one alert and one mail per person, and
/// digests are taken once.
/// </summary>
[Collection("postgres")]
public sealed class AlertStoreTests(PostgresFixture fixture)
{
    private static readonly string[] Owners = ["owner@example.org", "second@example.org"];

    private sealed record Stores(IAlertStore Alerts, IOutboxStore Outbox, ISubscriptionStore Subscriptions) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var s in new object[] { Alerts, Outbox, Subscriptions })
            {
                if (s is IAsyncDisposable d)
                {
                    await d.DisposeAsync();
                }
            }
        }
    }

    private async Task<Stores> OpenAsync(bool postgres, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (!postgres)
        {
            var outbox = new MemoryOutboxStore(time);
            return new Stores(new MemoryAlertStore(outbox, time), outbox, new MemorySubscriptionStore(time));
        }
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        var pgOutbox = new PostgresOutboxStore(cs, time);
        return new Stores(new PostgresAlertStore(cs, pgOutbox, time), pgOutbox, new PostgresSubscriptionStore(cs, time));
    }

    private static AlertPublisher Publisher(Stores s) =>
        new(s.Alerts, s.Subscriptions, new AlertMail("https://portal.test", new FixedLinks()), NullLogger<AlertPublisher>.Instance);

    private sealed class FixedLinks : IUnsubscribeLinks
    {
        public string ForSubscription(long subscriptionId) => $"https://silo.test/unsubscribe?token=s{subscriptionId}";
        public string ForOwner(string email, string probe) => $"https://silo.test/unsubscribe?token=o-{probe}";
    }

    private static AlertDraft Draft(string metric = "GC_MS", string? group = null, bool notify = true) =>
        new(AlertKinds.Regression, $"regression:nightly:{metric}:20261120:default", $"{metric} regressed on nightly 20261120",
            $"{metric} moved to higher values.", new AlertTarget("nightly", metric, "default", new DateOnly(2026, 11, 20), 0.4), Owners,
            """{"direction":"higher"}""", notify, group);

    private static async Task<List<OutboxRow>> RowsAsync(IOutboxStore outbox) =>
        (await outbox.ListAsync(null, 500, null, default)).Rows.OrderBy(r => r.Id).ToList();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_alert_is_recorded_once_with_one_mail_per_person(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var publisher = Publisher(s);
        var first = await publisher.PublishAsync(Draft(), default);
        var second = await publisher.PublishAsync(Draft(), default);

        Assert.True(first.Created);
        Assert.Equal(2, first.MailsQueued);
        Assert.False(second.Created);
        Assert.Equal(0, second.MailsQueued);
        Assert.Equal(first.Alert.Id, second.Alert.Id);
        var rows = await RowsAsync(s.Outbox);
        Assert.Equal(["owner@example.org", "second@example.org"], rows.Select(r => r.Recipient).Order());
        Assert.All(rows, r => Assert.Equal($"alert:{first.Alert.Id}", r.AlertKey));
        Assert.All(rows, r => Assert.Contains($"https://portal.test/alerts/{first.Alert.Id}", r.TextBody, StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Equal("https://silo.test/unsubscribe?token=o-GC_MS", r.UnsubscribeUrl));

        var stored = await s.Alerts.GetAsync(first.Alert.Id, default);
        Assert.NotNull(stored);
        Assert.Equal((AlertState.New, "GC_MS", new DateOnly(2026, 11, 20), 0.4), (stored.State, stored.Target.Subject, stored.Target.OccurredOn, stored.Target.Score));
        Assert.Equal("""{"direction": "higher"}""".Replace(" ", ""), stored.DetailsJson.Replace(" ", ""));
        Assert.Equal(AlertActions.Created, Assert.Single(stored.History).Action);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_resolved_alert_that_fires_again_reopens_as_regressed_and_is_mailed_again(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var publisher = Publisher(s);
        var first = await publisher.PublishAsync(Draft(), default);
        await s.Alerts.UpdateAsync(first.Alert.Id, a => AlertLifecycle.Apply(a, AlertActions.Resolve, "ann@example.org", "fixed", null, null, DateTimeOffset.UtcNow), default);

        var again = await publisher.PublishAsync(Draft(), default);
        Assert.True(again.Reopened);
        Assert.Equal(AlertState.Regressed, again.Alert.State);
        Assert.Equal(2, again.MailsQueued);
        var rows = await RowsAsync(s.Outbox);
        Assert.Equal(4, rows.Count);
        Assert.Equal(2, rows.Count(r => r.AlertKey == $"alert:{first.Alert.Id}:2" && r.Subject.StartsWith("[regressed] ", StringComparison.Ordinal)));
        var history = (await s.Alerts.GetAsync(first.Alert.Id, default))!.History.Select(h => (h.Action, h.By)).ToList();
        Assert.Equal([("created", "system"), ("resolve", "ann@example.org"), ("regressed", "system")], history);

        // Still open: firing once more changes nothing.
        Assert.Equal(0, (await publisher.PublishAsync(Draft(), default)).MailsQueued);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Muted_snoozed_and_ignored_alerts_mail_nobody(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var publisher = Publisher(s);
        var ignored = await publisher.PublishAsync(Draft("IGNORED_MS", notify: false), default);
        Assert.True(ignored.Created);
        Assert.Equal(0, ignored.MailsQueued);

        var muted = await publisher.PublishAsync(Draft("MUTED_MS"), default);
        await s.Alerts.UpdateAsync(muted.Alert.Id, a => AlertLifecycle.Apply(a, AlertActions.Mute, "x@example.org", null, null, null, DateTimeOffset.UtcNow), default);
        await s.Alerts.UpdateAsync(muted.Alert.Id, a => AlertLifecycle.Apply(a, AlertActions.Resolve, "x@example.org", null, null, null, DateTimeOffset.UtcNow), default);
        var refired = await publisher.PublishAsync(Draft("MUTED_MS"), default);
        Assert.True(refired.Reopened);
        Assert.Equal(0, refired.MailsQueued);

        Assert.DoesNotContain(await RowsAsync(s.Outbox), r => r.AlertKey == $"alert:{ignored.Alert.Id}" || r.AlertKey.StartsWith($"alert:{muted.Alert.Id}:", StringComparison.Ordinal));
        var listed = await s.Alerts.ListAsync(new AlertQuery(Kind: AlertKinds.Regression), default);
        Assert.Equal(2, listed.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_group_fires_again_only_after_its_open_alert_was_resolved(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var publisher = Publisher(s);
        var day1 = await publisher.PublishAsync(Draft("DAY1", group: "crash-rule-1"), default);
        var day2 = await publisher.PublishAsync(Draft("DAY2", group: "crash-rule-1"), default);
        Assert.False(day2.Created);
        Assert.Equal(day1.Alert.Id, day2.Alert.Id);
        await s.Alerts.UpdateAsync(day1.Alert.Id, a => AlertLifecycle.Apply(a, AlertActions.Resolve, "x@example.org", null, null, null, DateTimeOffset.UtcNow), default);
        var day3 = await publisher.PublishAsync(Draft("DAY3", group: "crash-rule-1"), default);
        Assert.True(day3.Created);
        Assert.NotEqual(day1.Alert.Id, day3.Alert.Id);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Subscribers_get_their_delivery_and_a_paused_subscription_gets_nothing(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var now = DateTimeOffset.UtcNow;
        var immediate = await s.Subscriptions.CreateAsync("fan@example.org", new SubscriptionInput(AlertKinds.Regression,
            new SubscriptionParams { Regression = new RegressionParams("nightly", "GC_*", 0) }, Delivery.Immediate, 8, false), default);
        await s.Subscriptions.CreateAsync("digest@example.org", new SubscriptionInput(AlertKinds.Regression,
            new SubscriptionParams { Regression = new RegressionParams("nightly", "*", 0) }, Delivery.Digest, 6, false), default);
        var paused = await s.Subscriptions.CreateAsync("paused@example.org", new SubscriptionInput(AlertKinds.Regression,
            new SubscriptionParams { Regression = new RegressionParams("nightly", "*", 0) }, Delivery.Immediate, 8, false), default);
        Assert.True(await s.Subscriptions.PauseAsync(paused.Id, default));
        await s.Subscriptions.OptOutAsync("Second@example.org", "GC_MS", default);

        await Publisher(s).PublishAsync(Draft(), default);
        var rows = await RowsAsync(s.Outbox);
        Assert.Equal(["digest@example.org", "fan@example.org", "owner@example.org"], rows.Select(r => r.Recipient).Order());
        Assert.Equal(OutboxState.Folded, rows.Single(r => r.Recipient == "digest@example.org").State);
        Assert.Equal(OutboxState.Pending, rows.Single(r => r.Recipient == "fan@example.org").State);
        Assert.Equal($"https://silo.test/unsubscribe?token=s{immediate.Id}", rows.Single(r => r.Recipient == "fan@example.org").UnsubscribeUrl);
        Assert.True(now <= rows[0].CreatedAt);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task One_person_cannot_read_change_or_delete_anothers_subscription(bool postgres)
    {
        await using var s = await OpenAsync(postgres);
        var input = new SubscriptionInput(AlertKinds.Expiry, new SubscriptionParams { Expiry = new ExpiryParams(null, true) }, Delivery.Immediate, 8, false);
        var ann = await s.Subscriptions.CreateAsync("ann@example.org", input, default);
        Assert.Null(await s.Subscriptions.GetAsync("bob@example.org", ann.Id, default));
        Assert.Null(await s.Subscriptions.UpdateAsync("bob@example.org", ann.Id, input with { Paused = true }, default));
        Assert.False(await s.Subscriptions.DeleteAsync("bob@example.org", ann.Id, default));
        Assert.Empty(await s.Subscriptions.ListForAsync("bob@example.org", default));
        Assert.False((await s.Subscriptions.GetAsync("ANN@example.org", ann.Id, default))!.Paused);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Digests_list_everything_folded_before_the_digest_hour_once(bool postgres)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 5, 0, 0, TimeSpan.Zero));
        await using var s = await OpenAsync(postgres, time);
        await s.Subscriptions.CreateAsync("digest@example.org", new SubscriptionInput(AlertKinds.Regression,
            new SubscriptionParams { Regression = new RegressionParams("nightly", "*", 0) }, Delivery.Digest, 6, false), default);
        var publisher = Publisher(s);
        await publisher.PublishAsync(Draft("GC_MS"), default);
        await publisher.PublishAsync(Draft("CC_MS"), default);
        var mail = new AlertMail("https://portal.test", new FixedLinks());
        var runner = new DigestRunner(s.Outbox, s.Subscriptions, mail, Microsoft.Extensions.Options.Options.Create(new AlertOptions()), time, NullLogger<DigestRunner>.Instance);

        Assert.Equal(0, await runner.RunOnceAsync(default)); // 05:00, the digest hour is 06
        time.Advance(TimeSpan.FromHours(1));
        await publisher.PublishAsync(Draft("LATE_MS"), default); // folded at 06:00: tomorrow's digest
        Assert.Equal(1, await runner.RunOnceAsync(default));
        Assert.Equal(0, await runner.RunOnceAsync(default));

        var rows = await RowsAsync(s.Outbox);
        var digest = Assert.Single(rows, r => r.Kind == MailKinds.Digest);
        Assert.Equal("digest@example.org", digest.Recipient);
        Assert.StartsWith("Telemetry digest: 2 alerts", digest.Subject, StringComparison.Ordinal);
        Assert.Contains("Histogram regressions (2)", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("GC_MS regressed", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("CC_MS regressed", digest.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("LATE_MS", digest.TextBody, StringComparison.Ordinal);
        Assert.Equal(2, rows.Count(r => r.State == OutboxState.Digested));
        Assert.Single(rows, r => r.State == OutboxState.Folded && r.Subject.StartsWith("LATE_MS", StringComparison.Ordinal));

        time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await runner.RunOnceAsync(default));
        Assert.Equal(2, (await RowsAsync(s.Outbox)).Count(r => r.Kind == MailKinds.Digest));
    }

    [Fact]
    public async Task Many_silos_publishing_the_same_alerts_at_once_record_each_once_with_one_mail_per_person()
    {
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        var silos = Enumerable.Range(0, 4).Select(_ =>
        {
            var outbox = new PostgresOutboxStore(cs, TimeProvider.System);
            return new Stores(new PostgresAlertStore(cs, outbox, TimeProvider.System), outbox, new PostgresSubscriptionStore(cs, TimeProvider.System));
        }).ToList();
        try
        {
            var metrics = Enumerable.Range(0, 10).Select(i => $"M{i}_MS").ToList();
            var results = await Task.WhenAll(silos.SelectMany(s => metrics.Select(m => Publisher(s).PublishAsync(Draft(m), default))));
            Assert.Equal(10, results.Count(r => r.Created));
            Assert.Equal(20, results.Sum(r => r.MailsQueued));
            var rows = await RowsAsync(silos[0].Outbox);
            Assert.Equal(20, rows.Count);
            Assert.Equal(10, (await silos[0].Alerts.ListAsync(new AlertQuery(), default)).Count);
        }
        finally
        {
            foreach (var s in silos)
            {
                await s.DisposeAsync();
            }
        }
    }
}
