using Microsoft.Extensions.Time.Testing;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Storage;
using static Telemetry.Tests.Notifications.OutboxTestKit;

namespace Telemetry.Tests.Notifications;

/// <summary>
/// The dispatcher's state machine on the memory store with a fake sender and a fake clock: retries
/// with backoff, giving up, refusals, flood control, leases, the off mode.
/// </summary>
public sealed class OutboxDispatcherTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(T0);
    private readonly MemoryOutboxStore _store;

    public OutboxDispatcherTests() => _store = new MemoryOutboxStore(_time);

    private static SmtpOptions Smtp(int maxAttempts = 8) => new()
    {
        MaxAttempts = maxAttempts,
        RetryBase = TimeSpan.FromMinutes(1),
        RetryMax = TimeSpan.FromHours(1),
        Timeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task A_queued_mail_is_sent_once_and_marked_sent()
    {
        var sender = new FakeMailSender();
        var dispatcher = Dispatcher(_store, sender, _time);
        var queued = await _store.EnqueueAsync(Mail("regression:1"), default);

        Assert.Equal(1, await dispatcher.RunOnceAsync(default));
        Assert.Equal(0, await dispatcher.RunOnceAsync(default));

        Assert.Single(sender.Attempted);
        var row = await _store.GetAsync(queued.Id, default);
        Assert.Equal(OutboxState.Sent, row!.State);
        Assert.Equal(1, row.Attempts);
        Assert.Equal(T0, row.SentAt);
        Assert.Null(row.ClaimedBy);
    }

    [Fact]
    public async Task A_failing_mail_is_retried_with_exponential_backoff_then_marked_failed_and_an_admin_retry_sends_it()
    {
        var sender = new FakeMailSender { OnSend = _ => throw new MailSendException("451 try later", permanent: false, serviceDown: false) };
        var dispatcher = Dispatcher(_store, sender, _time, new NotificationOptions { Mode = "console" }, Smtp(maxAttempts: 4));
        var id = (await _store.EnqueueAsync(Mail("regression:2"), default)).Id;

        // Attempts at 0, +1 min, +2 min, +4 min (waits 1, 2, 4 minutes); the 4th fails it for good.
        TimeSpan[] waits = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(4)];
        Assert.Equal(1, await dispatcher.RunOnceAsync(default));
        foreach (var wait in waits)
        {
            var row = await _store.GetAsync(id, default);
            Assert.Equal(OutboxState.Pending, row!.State);
            Assert.Equal(_time.GetUtcNow() + wait, row.NextAttemptAt);
            Assert.Equal("451 try later", row.LastError);

            _time.Advance(wait - TimeSpan.FromSeconds(1));
            Assert.Equal(0, await dispatcher.RunOnceAsync(default)); // not due yet
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(1, await dispatcher.RunOnceAsync(default));
        }
        var failed = await _store.GetAsync(id, default);
        Assert.Equal(OutboxState.Failed, failed!.State);
        Assert.Equal(4, failed.Attempts);
        Assert.Equal(4, sender.Attempted.Count);
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await dispatcher.RunOnceAsync(default)); // failed rows wait for an admin

        sender.OnSend = _ => Task.CompletedTask;
        Assert.Equal(OutboxRetryResult.Retried, await _store.RetryFailedAsync(id, _time.GetUtcNow(), default));
        Assert.Equal(OutboxRetryResult.NotFailed, await _store.RetryFailedAsync(id, _time.GetUtcNow(), default));
        Assert.Equal(OutboxRetryResult.NotFound, await _store.RetryFailedAsync(id + 1000, _time.GetUtcNow(), default));
        Assert.Equal(0, (await _store.GetAsync(id, default))!.Attempts);
        Assert.Equal(1, await dispatcher.RunOnceAsync(default));
        var sent = await _store.GetAsync(id, default);
        Assert.Equal(OutboxState.Sent, sent!.State);
        Assert.Equal(1, sent.Attempts);
        Assert.Equal(5, sender.Attempted.Count);
    }

    [Fact]
    public async Task A_mail_refused_for_good_fails_at_once()
    {
        var sender = new FakeMailSender { OnSend = _ => throw new MailSendException("550 no such mailbox", permanent: true, serviceDown: false) };
        var dispatcher = Dispatcher(_store, sender, _time, smtp: Smtp());
        var id = (await _store.EnqueueAsync(Mail("regression:3"), default)).Id;

        await dispatcher.RunOnceAsync(default);

        var row = await _store.GetAsync(id, default);
        Assert.Equal(OutboxState.Failed, row!.State);
        Assert.Equal("550 no such mailbox", row.LastError);
        Assert.Equal(1, row.Attempts);
    }

    [Fact]
    public async Task When_the_server_is_down_the_rest_of_the_batch_is_not_tried_but_every_row_counts_an_attempt()
    {
        var sender = new FakeMailSender { OnSend = _ => throw new MailSendException("connection refused", permanent: false, serviceDown: true) };
        var dispatcher = Dispatcher(_store, sender, _time, smtp: Smtp());
        for (int i = 0; i < 3; i++)
        {
            await _store.EnqueueAsync(Mail($"regression:{i}", $"p{i}@example.org"), default);
        }

        Assert.Equal(3, await dispatcher.RunOnceAsync(default));

        Assert.Single(sender.Attempted);
        var rows = (await _store.ListAsync(null, 10, null, default)).Rows;
        Assert.All(rows, r =>
        {
            Assert.Equal(OutboxState.Pending, r.State);
            Assert.Equal(1, r.Attempts);
            Assert.Equal("connection refused", r.LastError);
            Assert.Equal(T0 + TimeSpan.FromMinutes(1), r.NextAttemptAt);
        });
    }

    [Fact]
    public async Task Flood_control_folds_alerts_beyond_the_hourly_limit_but_never_digests_and_the_limit_slides_with_the_hour()
    {
        var sender = new FakeMailSender();
        var dispatcher = Dispatcher(_store, sender, _time, new NotificationOptions { Mode = "console", MaxPerRecipientPerHour = 3, BatchSize = 2 });
        for (int i = 0; i < 5; i++)
        {
            await _store.EnqueueAsync(Mail($"regression:{i}", "alice@example.org"), default);
        }
        await _store.EnqueueAsync(Mail("regression:0", "bob@example.org"), default);
        await _store.EnqueueAsync(Mail("digest:2026-11-30", "alice@example.org", MailKinds.Digest), default);

        while (await dispatcher.RunOnceAsync(default) > 0)
        {
        }

        var sentTo = sender.Attempted.Select(r => (r.Recipient, r.AlertKey)).ToList();
        Assert.Equal(
            [("alice@example.org", "regression:0"), ("alice@example.org", "regression:1"), ("alice@example.org", "regression:2"),
             ("bob@example.org", "regression:0"), ("alice@example.org", "digest:2026-11-30")],
            sentTo);
        var folded = await _store.ListFoldedAsync("Alice@Example.org", 10, default);
        Assert.Equal(["regression:3", "regression:4"], folded.Select(r => r.AlertKey));

        // Within the hour a new alert folds too; an hour after the first three were sent it is mailed.
        await _store.EnqueueAsync(Mail("regression:5", "alice@example.org"), default);
        _time.Advance(TimeSpan.FromMinutes(59));
        await dispatcher.RunOnceAsync(default);
        Assert.Equal(3, (await _store.ListFoldedAsync("alice@example.org", 10, default)).Count);
        await _store.EnqueueAsync(Mail("regression:6", "alice@example.org"), default);
        _time.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.RunOnceAsync(default);
        Assert.Equal("regression:6", sender.Attempted[^1].AlertKey);
    }

    [Fact]
    public async Task A_claim_held_by_a_dispatcher_that_died_is_taken_over_when_it_runs_out_and_the_dead_claimers_late_outcome_is_ignored()
    {
        var options = new NotificationOptions { Mode = "console", ClaimDuration = TimeSpan.FromMinutes(10) };
        var id = (await _store.EnqueueAsync(Mail("regression:7"), default)).Id;
        var dead = await _store.ClaimDueAsync("dead-dispatcher", 10, _time.GetUtcNow(), options.ClaimDuration, default);
        Assert.Single(dead);

        var sender = new FakeMailSender();
        var alive = Dispatcher(_store, sender, _time, options, claimer: "alive");
        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        Assert.Equal(0, await alive.RunOnceAsync(default));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await alive.RunOnceAsync(default));

        Assert.Single(sender.Attempted);
        Assert.False(await _store.CompleteAsync("dead-dispatcher", OutboxTransitions.Sent(dead[0], _time.GetUtcNow()), default));
        var row = await _store.GetAsync(id, default);
        Assert.Equal(OutboxState.Sent, row!.State);
        Assert.Equal(2, row.Attempts); // the dead claim used one
    }

    [Fact]
    public async Task A_batch_whose_claim_runs_short_gives_the_rest_back_unattempted()
    {
        // Each send takes 40 s of a 60 s claim; a send may start only with a full Smtp:Timeout (30 s) left.
        var options = new NotificationOptions { Mode = "console", ClaimDuration = TimeSpan.FromSeconds(60) };
        var sender = new FakeMailSender();
        sender.OnSend = _ =>
        {
            _time.Advance(TimeSpan.FromSeconds(40));
            return Task.CompletedTask;
        };
        var dispatcher = Dispatcher(_store, sender, _time, options, Smtp());
        for (int i = 0; i < 3; i++)
        {
            await _store.EnqueueAsync(Mail($"regression:{i}"), default);
        }

        await dispatcher.RunOnceAsync(default);

        Assert.Single(sender.Attempted);
        var rows = (await _store.ListAsync(null, 10, null, default)).Rows.OrderBy(r => r.Id).ToList();
        Assert.Equal([OutboxState.Sent, OutboxState.Pending, OutboxState.Pending], rows.Select(r => r.State));
        Assert.Equal([1, 0, 0], rows.Select(r => r.Attempts));
        Assert.Equal(2, await dispatcher.RunOnceAsync(default));
    }

    [Fact]
    public async Task An_outcome_the_store_could_not_take_is_recorded_before_the_next_claim_so_the_mail_is_not_sent_again()
    {
        var store = new FlakyCompleteStore(_store);
        var sender = new FakeMailSender();
        var dispatcher = Dispatcher(store, sender, _time);
        var id = (await store.EnqueueAsync(Mail("regression:8"), default)).Id;
        store.FailNextComplete = true;

        await Assert.ThrowsAsync<TimeoutException>(() => dispatcher.RunOnceAsync(default));
        Assert.Equal(OutboxState.Sending, (await store.GetAsync(id, default))!.State);
        _time.Advance(TimeSpan.FromHours(1)); // even past the claim: the outcome is ours and it is recorded first
        Assert.Equal(0, await dispatcher.RunOnceAsync(default));

        Assert.Single(sender.Attempted);
        Assert.Equal(OutboxState.Sent, (await store.GetAsync(id, default))!.State);
    }

    [Fact]
    public async Task In_off_mode_rows_are_discarded_without_sending()
    {
        var dispatcher = Dispatcher(_store, sender: null, _time, new NotificationOptions { Mode = "off" });
        var id = (await _store.EnqueueAsync(Mail("regression:9"), default)).Id;

        Assert.Equal(NotificationMode.Off, dispatcher.Mode);
        Assert.Equal(1, await dispatcher.RunOnceAsync(default));

        Assert.Equal(OutboxState.Discarded, (await _store.GetAsync(id, default))!.State);
        Assert.Equal(new OutboxCounts(0, 0), await _store.CountAsync(default));
    }

    [Fact]
    public async Task Enqueuing_the_same_alert_for_the_same_person_twice_keeps_one_row()
    {
        var first = await _store.EnqueueAsync(Mail("regression:10", "Carol@Example.org"), default);
        var again = await _store.EnqueueAsync(Mail("regression:10", " carol@example.ORG "), default);
        var other = await _store.EnqueueAsync(Mail("regression:10", "dave@example.org"), default);
        var batch = await _store.EnqueueAsync([Mail("regression:11", "carol@example.org"), Mail("regression:11", "carol@example.org")], default);

        Assert.False(first.AlreadyQueued);
        Assert.Equal(new EnqueueResult(first.Id, AlreadyQueued: true), again);
        Assert.NotEqual(first.Id, other.Id);
        Assert.False(batch[0].AlreadyQueued);
        Assert.Equal(new EnqueueResult(batch[0].Id, AlreadyQueued: true), batch[1]);
        Assert.Equal(3, (await _store.ListAsync(null, 10, null, default)).Rows.Count);
    }

    [Fact]
    public async Task The_listing_pages_newest_first()
    {
        for (int i = 0; i < 5; i++)
        {
            await _store.EnqueueAsync(Mail($"regression:{i}"), default);
        }
        var first = await _store.ListAsync(OutboxState.Pending, 2, null, default);
        var second = await _store.ListAsync(OutboxState.Pending, 2, first.NextBefore, default);
        var last = await _store.ListAsync(OutboxState.Pending, 2, second.NextBefore, default);

        Assert.Equal([5L, 4L], first.Rows.Select(r => r.Id));
        Assert.Equal([3L, 2L], second.Rows.Select(r => r.Id));
        Assert.Equal([1L], last.Rows.Select(r => r.Id));
        Assert.Null(last.NextBefore);
        Assert.Empty((await _store.ListAsync(OutboxState.Failed, 2, null, default)).Rows);
    }

    /// <summary>A store whose CompleteAsync fails once, as during a short database outage.</summary>
    private sealed class FlakyCompleteStore(IOutboxStore inner) : IOutboxStore
    {
        public bool FailNextComplete { get; set; }
        public bool IsDurable => inner.IsDurable;
        public Task<EnqueueResult> EnqueueAsync(OutboxMail mail, CancellationToken ct) => inner.EnqueueAsync(mail, ct);
        public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<OutboxMail> mails, CancellationToken ct) => inner.EnqueueAsync(mails, ct);
        public Task<IReadOnlyList<OutboxRow>> ClaimDueAsync(string claimer, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken ct) => inner.ClaimDueAsync(claimer, limit, now, lease, ct);

        public Task<bool> CompleteAsync(string claimer, OutboxCompletion completion, CancellationToken ct)
        {
            if (FailNextComplete)
            {
                FailNextComplete = false;
                throw new TimeoutException("database unreachable");
            }
            return inner.CompleteAsync(claimer, completion, ct);
        }

        public Task<int> ReleaseAsync(string claimer, IReadOnlyList<long> ids, DateTimeOffset now, CancellationToken ct) => inner.ReleaseAsync(claimer, ids, now, ct);
        public Task<IReadOnlyDictionary<string, int>> CountSentSinceAsync(IReadOnlyCollection<string> recipients, DateTimeOffset since, CancellationToken ct) => inner.CountSentSinceAsync(recipients, since, ct);
        public Task<OutboxPage> ListAsync(OutboxState? state, int limit, long? beforeId, CancellationToken ct) => inner.ListAsync(state, limit, beforeId, ct);
        public Task<OutboxRow?> GetAsync(long id, CancellationToken ct) => inner.GetAsync(id, ct);
        public Task<OutboxRetryResult> RetryFailedAsync(long id, DateTimeOffset now, CancellationToken ct) => inner.RetryFailedAsync(id, now, ct);
        public Task<IReadOnlyList<OutboxRow>> ListFoldedAsync(string recipient, int limit, CancellationToken ct) => inner.ListFoldedAsync(recipient, limit, ct);
        public Task<IReadOnlyList<string>> ListFoldedRecipientsAsync(CancellationToken ct) => inner.ListFoldedRecipientsAsync(ct);
        public Task<IReadOnlyList<OutboxRow>> ListForRecipientAsync(string recipient, int limit, CancellationToken ct) => inner.ListForRecipientAsync(recipient, limit, ct);
        public Task<DigestTaken?> TakeDigestAsync(string recipient, DateTimeOffset cutoff, Func<IReadOnlyList<OutboxRow>, OutboxMail> compose, CancellationToken ct) =>
            inner.TakeDigestAsync(recipient, cutoff, compose, ct);
        public Task<OutboxCounts> CountAsync(CancellationToken ct) => inner.CountAsync(ct);
    }
}
