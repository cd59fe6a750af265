using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Probes;

namespace Telemetry.Tests.Expiry;

/// <summary>The embedded mode's ledger: notices and their mails recorded together or not at all.</summary>
public sealed class MemoryExpiryLedgerTests
{
    private static readonly DateOnly Day = new(2030, 1, 1);
    private static readonly SentNotice Notice = new(new NoticeKey("GC_MS", "101.0a1", NoticeStage.First), new DateOnly(2030, 2, 12), Day);

    private static OutboxMail Mail(string to, string subject = "First notice") =>
        new("expiry:first:2030-01-01:0123456789abcdef", to, MailKinds.Expiry, subject, "body");

    private static Func<ExpiryLedgerState, CancellationToken, Task<ExpiryLedgerWrite<int>>> Write(IReadOnlyList<SentNotice> notices, params OutboxMail[] mails) =>
        (_, _) => Task.FromResult(new ExpiryLedgerWrite<int>(Day, notices, mails, mails.Length));

    [Fact]
    public async Task Notices_and_mails_are_recorded_together_and_the_next_run_sees_them()
    {
        var outbox = new MemoryOutboxStore(TimeProvider.System);
        using var ledger = new MemoryExpiryLedger(outbox);

        Assert.Equal(2, await ledger.RecordAsync(Write([Notice], Mail("a@x.org"), Mail("list@x.org")), default));

        var state = await ledger.ReadAsync(default);
        Assert.Equal(Day, state.LastRunDate);
        Seq.Equal([Notice.Key], state.Sent);
        Assert.Equal(2, (await outbox.CountAsync(default)).Pending);
    }

    [Fact]
    public async Task A_mail_the_outbox_refuses_records_no_notice_so_it_stays_due()
    {
        var outbox = new MemoryOutboxStore(TimeProvider.System);
        using var ledger = new MemoryExpiryLedger(outbox);

        await Assert.ThrowsAsync<ArgumentException>(() => ledger.RecordAsync(Write([Notice], Mail("a@x.org"), Mail("list@x.org", "two\nlines")), default));

        var state = await ledger.ReadAsync(default);
        Assert.Null(state.LastRunDate);
        Assert.Empty(state.Sent);
        Assert.Equal(0, (await outbox.CountAsync(default)).Pending);
    }

    [Fact]
    public async Task Recording_a_notice_twice_fails_and_queues_nothing()
    {
        var outbox = new MemoryOutboxStore(TimeProvider.System);
        using var ledger = new MemoryExpiryLedger(outbox);
        await ledger.RecordAsync(Write([Notice], Mail("a@x.org")), default);

        await Assert.ThrowsAsync<InvalidOperationException>(() => ledger.RecordAsync(Write([Notice], Mail("b@x.org")), default));

        Assert.Equal(1, (await outbox.CountAsync(default)).Pending);
    }

    [Fact]
    public async Task The_last_run_day_never_moves_back()
    {
        using var ledger = new MemoryExpiryLedger(new MemoryOutboxStore(TimeProvider.System));
        await ledger.RecordAsync((_, _) => Task.FromResult(new ExpiryLedgerWrite<int>(Day, [], [], 0)), default);
        await ledger.RecordAsync((_, _) => Task.FromResult(new ExpiryLedgerWrite<int>(Day.AddDays(-30), [], [], 0)), default);

        Assert.Equal(Day, (await ledger.ReadAsync(default)).LastRunDate);
    }
}
