namespace Telemetry.Grains.Notifications;

/// <summary>
/// The outbox's state machine for a claimed row (docs/notifications.md, "States"):
/// <code>
/// pending ──claim──► sending ──sent────────────► sent
///    ▲                  │ ├──refused for good──► failed ──admin retry──► pending
///    │                  │ ├──last attempt fails► failed
///    └──backoff─────────┘ ├──flood control─────► folded (→ the next digest)
///    └──claim ran out─────┘ └──mode off──────────► discarded
/// </code>
/// A claim counts as an attempt when it is taken (<see cref="IOutboxStore.ClaimDueAsync"/>), so a
/// row whose dispatcher keeps dying mid-send still ends up failed instead of looping for ever.
/// </summary>
public static class OutboxTransitions
{
    /// <summary>Longest error text kept on a row.</summary>
    public const int MaxErrorLength = 1000;

    public static OutboxCompletion Sent(OutboxRow row, DateTimeOffset now) =>
        new(row.Id, OutboxState.Sent, row.Attempts, now, row.LastError, now);

    /// <summary>A failed attempt: pending again after the backoff, or failed when the attempts are used up.</summary>
    public static OutboxCompletion AttemptFailed(OutboxRow row, string error, DateTimeOffset now, RetrySchedule schedule) =>
        schedule.IsExhausted(row.Attempts)
            ? new(row.Id, OutboxState.Failed, row.Attempts, now, Trim(error), null)
            : new(row.Id, OutboxState.Pending, row.Attempts, now + schedule.DelayAfter(row.Attempts), Trim(error), null);

    /// <summary>The server refused the mail for good (e.g. 550 no such mailbox): retrying cannot help.</summary>
    public static OutboxCompletion Refused(OutboxRow row, string error, DateTimeOffset now) =>
        new(row.Id, OutboxState.Failed, row.Attempts, now, Trim(error), null);

    public static OutboxCompletion Folded(OutboxRow row, DateTimeOffset now) =>
        new(row.Id, OutboxState.Folded, row.Attempts, now, row.LastError, null);

    public static OutboxCompletion Discarded(OutboxRow row, DateTimeOffset now) =>
        new(row.Id, OutboxState.Discarded, row.Attempts, now, row.LastError, null);

    private static string Trim(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];
}
