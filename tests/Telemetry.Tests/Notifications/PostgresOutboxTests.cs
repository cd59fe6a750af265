using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Notifications.OutboxTestKit;

namespace Telemetry.Tests.Notifications;

/// <summary>
/// The PostgreSQL outbox on a real server: two dispatchers share the work without sending a row twice,
/// the (alert, recipient) pair stays unique across restarts and concurrent writers, enqueue joins the
/// alert writer's transaction, and a dead dispatcher's claim is taken over.
/// </summary>
[Collection("postgres")]
public sealed class PostgresOutboxTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private async Task<string> NewDatabaseAsync()
    {
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        return cs;
    }

    [Fact]
    public async Task Two_dispatchers_on_one_database_send_each_of_200_rows_exactly_once()
    {
        var cs = await NewDatabaseAsync();
        await using var smtp = await MaildevServer.StartAsync();
        await using var storeA = new PostgresOutboxStore(cs, TimeProvider.System);
        await using var storeB = new PostgresOutboxStore(cs, TimeProvider.System);
        var mails = Enumerable.Range(0, 200).Select(i => Mail($"regression:{i / 20}", $"person{i % 20}@example.org")).ToList();
        Assert.All(await storeA.EnqueueAsync(mails, default), r => Assert.False(r.AlreadyQueued));

        var (options, smtpOptions) = Fast("127.0.0.1", smtp.SmtpPort, batchSize: 5, maxPerHour: 1000);
        var senderA = new CountingSender(new SmtpMailSender(smtpOptions, NullLogger<SmtpMailSender>.Instance));
        var senderB = new CountingSender(new SmtpMailSender(smtpOptions, NullLogger<SmtpMailSender>.Instance));
        var a = Dispatcher(storeA, senderA, TimeProvider.System, options, smtpOptions, "silo-a");
        var b = Dispatcher(storeB, senderB, TimeProvider.System, options, smtpOptions, "silo-b");
        await Task.WhenAll(a.StartAsync(default), b.StartAsync(default));
        try
        {
            Assert.True(await TestPaths.EventuallyAsync(async () => await CountAsync(cs, "state = 'sent'") == 200, Wait),
                $"sent: {await CountAsync(cs, "state = 'sent'")} of 200");
        }
        finally
        {
            await Task.WhenAll(a.StopAsync(default), b.StopAsync(default));
        }

        var caught = await smtp.WaitForMailsAsync(200, Wait);
        await Task.Delay(300);
        caught = await smtp.GetMailsAsync();
        Assert.Equal(200, caught.Count);
        Assert.Equal(200, caught.Select(m => (string.Join(",", m.To), m.Subject)).Distinct().Count());
        Assert.Equal(200, senderA.Count + senderB.Count);
        Assert.True(senderA.Count > 0 && senderB.Count > 0, $"both dispatchers should have sent some ({senderA.Count} + {senderB.Count})");
        Assert.Equal(200, await CountAsync(cs, "state = 'sent' AND attempts = 1 AND claimed_by IS NULL AND sent_at IS NOT NULL"));
    }

    [Fact]
    public async Task The_same_alert_for_the_same_person_is_stored_once_across_a_restart_and_concurrent_writers()
    {
        var cs = await NewDatabaseAsync();
        long id;
        var sender = new FakeMailSender();
        await using (var before = new PostgresOutboxStore(cs, TimeProvider.System))
        {
            var first = await before.EnqueueAsync(Mail("regression:5", "Erin@Example.org"), default);
            Assert.False(first.AlreadyQueued);
            Assert.Equal(first with { AlreadyQueued = true }, await before.EnqueueAsync(Mail("regression:5", "erin@example.org"), default));
            id = first.Id;
            // It is mailed before the "restart".
            Assert.Equal(1, await Dispatcher(before, sender, TimeProvider.System).RunOnceAsync(default));
        }

        // A restart: migrations run again, a new store, and the alert writer enqueues the same pair again.
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        await using var after = new PostgresOutboxStore(cs, TimeProvider.System);
        Assert.Equal(new EnqueueResult(id, AlreadyQueued: true), await after.EnqueueAsync(Mail("regression:5", "erin@example.org"), default));
        Assert.Equal(0, await Dispatcher(after, sender, TimeProvider.System).RunOnceAsync(default));
        Assert.Single(sender.Attempted);

        // Eight writers at once (two silos' worth of connections) on a new pair: one row, one "queued".
        await using var other = new PostgresOutboxStore(cs, TimeProvider.System);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? after : other).EnqueueAsync([Mail("regression:6", "erin@example.org"), Mail($"regression:6-{i}", "erin@example.org")], default)));
        var pairResults = results.Select(r => r[0]).ToList();
        Assert.Single(pairResults, r => !r.AlreadyQueued);
        Assert.Single(pairResults.Select(r => r.Id).Distinct());
        Assert.Equal(1, await CountAsync(cs, "alert_key = 'regression:6'"));
        Assert.Equal(1 + 1 + 8, await CountAsync(cs, "true"));
    }

    [Fact]
    public async Task Enqueue_joins_the_alert_writers_transaction()
    {
        var cs = await NewDatabaseAsync();
        await using var store = new PostgresOutboxStore(cs, TimeProvider.System);
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE writer_alerts (id bigint PRIMARY KEY)", conn))
        {
            await create.ExecuteNonQueryAsync();
        }

        // Rolled back: neither the alert nor its mail.
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await InsertAlertAsync(conn, tx, 1);
            await store.EnqueueAsync(tx, [Mail("regression:1", "frank@example.org")], default);
            await tx.RollbackAsync();
        }
        Assert.Equal(0, await CountAsync(cs, "true"));

        // Committed: both. A second writer of the same pair waits for the first and finds its row.
        await using var tx2 = await conn.BeginTransactionAsync();
        await InsertAlertAsync(conn, tx2, 1);
        var mine = (await store.EnqueueAsync(tx2, [Mail("regression:1", "frank@example.org")], default))[0];
        var concurrent = store.EnqueueAsync(Mail("regression:1", "frank@example.org"), default);
        await Task.Delay(300);
        Assert.False(concurrent.IsCompleted); // blocked on the uncommitted row, not duplicating it
        Assert.Equal(0, await CountAsync(cs, "true")); // invisible until the alert commits
        await tx2.CommitAsync();
        Assert.Equal(new EnqueueResult(mine.Id, AlreadyQueued: true), await concurrent.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, await CountAsync(cs, "true"));
    }

    [Fact]
    public async Task A_claim_held_by_a_dispatcher_that_died_is_taken_over_when_it_expires_and_the_mail_is_sent_once()
    {
        var cs = await NewDatabaseAsync();
        await using var smtp = await MaildevServer.StartAsync();
        await using var store = new PostgresOutboxStore(cs, TimeProvider.System);
        long id = (await store.EnqueueAsync(Mail("crash_rate:nightly", "gina@example.org", MailKinds.CrashRate), default)).Id;
        // A dispatcher claims the row for 2 s and dies before sending it.
        var dead = Assert.Single(await store.ClaimDueAsync("dead-silo", 10, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(2), default));

        var (options, smtpOptions) = Fast("127.0.0.1", smtp.SmtpPort);
        var alive = Dispatcher(store, new SmtpMailSender(smtpOptions, NullLogger<SmtpMailSender>.Instance), TimeProvider.System, options, smtpOptions, "alive-silo");
        await alive.StartAsync(default);
        try
        {
            await Task.Delay(500);
            Assert.Empty(await smtp.GetMailsAsync()); // the claim still holds
            Assert.Equal(1, await CountAsync(cs, $"id = {id} AND state = 'sending' AND claimed_by = 'dead-silo'"));

            var mail = Assert.Single(await smtp.WaitForMailsAsync(1, Wait));
            Assert.Equal(["gina@example.org"], mail.To);
            Assert.True(await TestPaths.EventuallyAsync(async () => await CountAsync(cs, $"id = {id} AND state = 'sent'") == 1, Wait));
        }
        finally
        {
            await alive.StopAsync(default);
        }
        // The dead dispatcher's late outcome changes nothing.
        Assert.False(await store.CompleteAsync("dead-silo", OutboxTransitions.AttemptFailed(dead, "late", DateTimeOffset.UtcNow, new RetrySchedule(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 8)), default));
        var row = await store.GetAsync(id, default);
        Assert.Equal(OutboxState.Sent, row!.State);
        Assert.Equal(2, row.Attempts);
        Assert.Single(await smtp.GetMailsAsync());
    }

    [Fact]
    public async Task Admin_operations_on_the_PostgreSQL_store_list_newest_first_and_retry_only_failed_rows()
    {
        var cs = await NewDatabaseAsync();
        await using var store = new PostgresOutboxStore(cs, TimeProvider.System);
        var sender = new FakeMailSender { OnSend = _ => throw new MailSendException("550 unknown user", permanent: true, serviceDown: false) };
        for (int i = 0; i < 3; i++)
        {
            await store.EnqueueAsync(Mail($"expiry:{i}", "hal@example.org", MailKinds.Expiry), default);
        }
        await Dispatcher(store, sender, TimeProvider.System).RunOnceAsync(default);

        var page = await store.ListAsync(OutboxState.Failed, 2, null, default);
        Assert.Equal(["expiry:2", "expiry:1"], page.Rows.Select(r => r.AlertKey));
        Assert.Equal(["expiry:0"], (await store.ListAsync(OutboxState.Failed, 2, page.NextBefore, default)).Rows.Select(r => r.AlertKey));
        Assert.Equal("550 unknown user", page.Rows[0].LastError);
        Assert.Equal(new OutboxCounts(0, 3), await store.CountAsync(default));

        long id = page.Rows[0].Id;
        Assert.Equal(OutboxRetryResult.Retried, await store.RetryFailedAsync(id, DateTimeOffset.UtcNow, default));
        Assert.Equal(OutboxRetryResult.NotFailed, await store.RetryFailedAsync(id, DateTimeOffset.UtcNow, default));
        Assert.Equal(OutboxRetryResult.NotFound, await store.RetryFailedAsync(id + 100, DateTimeOffset.UtcNow, default));
        Assert.Equal(new OutboxCounts(1, 2), await store.CountAsync(default));
        sender.OnSend = _ => Task.CompletedTask;
        await Dispatcher(store, sender, TimeProvider.System).RunOnceAsync(default);
        Assert.Equal(OutboxState.Sent, (await store.GetAsync(id, default))!.State);
    }

    private static async Task InsertAlertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO writer_alerts (id) VALUES (@id)", conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<long> CountAsync(string cs, string where)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM outbox WHERE {where}", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>A real sender that counts what it sent (which dispatcher did the work).</summary>
    private sealed class CountingSender(IMailSender inner) : IMailSender
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);

        public async Task SendAsync(OutboxRow mail, CancellationToken ct)
        {
            await inner.SendAsync(mail, ct);
            Interlocked.Increment(ref _count);
        }

        public Task EndBatchAsync(CancellationToken ct) => inner.EndBatchAsync(ct);
    }
}
