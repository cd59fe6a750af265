namespace Telemetry.Grains.Notifications;

/// <summary>
/// The durable email outbox (docs/notifications.md). Alert writers enqueue (alert, recipient)
/// mails; dispatchers claim due rows with a lease, send them and record the outcome. In PostgreSQL
/// mode an alert writer enqueues in the transaction that records the alert
/// (<c>PostgresOutboxStore.EnqueueAsync(NpgsqlTransaction, ...)</c>), so a crash loses neither or both.
/// </summary>
public interface IOutboxStore
{
    /// <summary>True when queued mail survives a restart.</summary>
    bool IsDurable { get; }

    /// <summary>Queues one mail; the same (alert key, recipient) queued before is left as it is and reported <c>AlreadyQueued</c>.</summary>
    Task<EnqueueResult> EnqueueAsync(OutboxMail mail, CancellationToken ct);

    /// <summary>Queues several mails at once (all or none), with one result per mail in order.</summary>
    Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<OutboxMail> mails, CancellationToken ct);

    /// <summary>
    /// Claims up to <paramref name="limit"/> due rows (pending with a next attempt at or before
    /// <paramref name="now"/>, or sending with a claim that ran out) for <paramref name="claimer"/> until
    /// <paramref name="now"/> + <paramref name="lease"/>, counting an attempt each; oldest due first. Rows
    /// another dispatcher is claiming at the same moment are skipped, never shared.
    /// </summary>
    Task<IReadOnlyList<OutboxRow>> ClaimDueAsync(string claimer, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken ct);

    /// <summary>
    /// Records the outcome of a claimed row; false (and nothing changed) when the row is no longer
    /// claimed by <paramref name="claimer"/> (its claim ran out and another dispatcher took it).
    /// </summary>
    Task<bool> CompleteAsync(string claimer, OutboxCompletion completion, CancellationToken ct);

    /// <summary>Gives claimed rows back unattempted (pending, due now, the claim's attempt not counted); returns how many were still ours.</summary>
    Task<int> ReleaseAsync(string claimer, IReadOnlyList<long> ids, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// Per recipient, how many mails that flood control counts (<see cref="FloodControl.Counts"/>) were
    /// sent after <paramref name="since"/>; recipients with none are absent.
    /// </summary>
    Task<IReadOnlyDictionary<string, int>> CountSentSinceAsync(IReadOnlyCollection<string> recipients, DateTimeOffset since, CancellationToken ct);

    /// <summary>Rows in <paramref name="state"/> (all when null), newest first, with ids below <paramref name="beforeId"/> when given.</summary>
    Task<OutboxPage> ListAsync(OutboxState? state, int limit, long? beforeId, CancellationToken ct);

    /// <summary>One row, or null.</summary>
    Task<OutboxRow?> GetAsync(long id, CancellationToken ct);

    /// <summary>Puts a failed row back to pending, due at <paramref name="now"/>, with its attempts reset.</summary>
    Task<OutboxRetryResult> RetryFailedAsync(long id, DateTimeOffset now, CancellationToken ct);

    /// <summary>
    /// The recipient's folded rows, oldest first: the input of their next digest
    /// (<see cref="TakeDigestAsync"/> moves them on; docs/alerts.md, "Digests").
    /// </summary>
    Task<IReadOnlyList<OutboxRow>> ListFoldedAsync(string recipient, int limit, CancellationToken ct);

    /// <summary>Every recipient with folded rows (the digest runner's work list).</summary>
    Task<IReadOnlyList<string>> ListFoldedRecipientsAsync(CancellationToken ct);

    /// <summary>
    /// Folds the recipient's folded rows whose fold time (<see cref="OutboxRow.NextAttemptAt"/>) is before
    /// <paramref name="cutoff"/> into one digest: <paramref name="compose"/> builds the digest mail from them
    /// (oldest first), which is queued while the rows become <c>digested</c>, all in one step. Runs for one
    /// recipient at a time across silos; returns the digest's outbox id and the rows it lists, or null when
    /// there were none (nothing is sent for an empty period).
    /// </summary>
    Task<DigestTaken?> TakeDigestAsync(string recipient, DateTimeOffset cutoff, Func<IReadOnlyList<OutboxRow>, OutboxMail> compose, CancellationToken ct);

    /// <summary>
    /// The newest <paramref name="limit"/> rows addressed to <paramref name="recipient"/> (any state), newest
    /// first: what a person was sent or is about to be sent. Only that recipient's rows, whatever the case
    /// of the address given.
    /// </summary>
    Task<IReadOnlyList<OutboxRow>> ListForRecipientAsync(string recipient, int limit, CancellationToken ct);

    /// <summary>How many rows wait for delivery and how many failed for good (the gauges).</summary>
    Task<OutboxCounts> CountAsync(CancellationToken ct);
}
