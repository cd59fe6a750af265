using Telemetry.Grains.Notifications;

namespace Telemetry.Grains.Expiry;

/// <summary>What the ledger holds: the last evaluated day and every notice ever sent.</summary>
public sealed record ExpiryLedgerState(DateOnly? LastRunDate, IReadOnlySet<NoticeKey> Sent);

/// <summary>A notice as recorded: its key, the expiry date it announced and the run day that sent it.</summary>
public sealed record SentNotice(NoticeKey Key, DateOnly ExpiryDate, DateOnly AsOf);

/// <summary>
/// What one run writes in one step: the notices it sends, their mails and the day it evaluated
/// (kept as the last run day unless a later one is recorded), plus what to report to the caller.
/// </summary>
public sealed record ExpiryLedgerWrite<TResult>(
    DateOnly AsOf,
    IReadOnlyList<SentNotice> Notices,
    IReadOnlyList<OutboxMail> Mails,
    TResult Result);

/// <summary>
/// The once-only record of expiry notices (docs/expiry.md, "Once-only across restarts and silos").
/// <see cref="RecordAsync{TResult}"/> runs the caller's plan against the ledger as it stands, with every
/// other run held off, and records the notices, queues their mails in the outbox and moves the last run
/// day in one step: all of it or none. PostgreSQL: one transaction holding a row lock; memory: a lock.
/// </summary>
public interface IExpiryLedger
{
    /// <summary>True when the record survives a restart.</summary>
    bool IsDurable { get; }

    /// <summary>The ledger as it stands, for previews (no lock held).</summary>
    Task<ExpiryLedgerState> ReadAsync(CancellationToken ct);

    /// <summary>
    /// Reads the ledger under the lock, calls <paramref name="plan"/> with it and writes what it returns.
    /// A plan that throws writes nothing. Recording a notice twice is an error (the whole step fails).
    /// </summary>
    Task<TResult> RecordAsync<TResult>(Func<ExpiryLedgerState, CancellationToken, Task<ExpiryLedgerWrite<TResult>>> plan, CancellationToken ct);
}
