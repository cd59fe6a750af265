using Telemetry.Grains.Notifications;

namespace Telemetry.Grains.Alerts;

/// <summary>
/// Where alerts live (memory, or PostgreSQL with the outbox in the same database). Recording an alert
/// and queuing its mails is one step: <see cref="RecordAsync"/> calls <c>mails</c> with the stored alert
/// and queues what it returns in the same transaction.
/// </summary>
public interface IAlertStore : IAlertReader
{
    /// <summary>
    /// Records <paramref name="draft"/> unless its key exists (a resolved alert is reopened as regressed
    /// instead) or its group has an open alert; for a new or reopened alert that is neither muted nor
    /// snoozed and has <see cref="AlertDraft.Notify"/>, queues <paramref name="mails"/>(alert) in the same step.
    /// </summary>
    Task<PublishResult> RecordAsync(AlertDraft draft, Func<AlertRecord, IReadOnlyList<OutboxMail>> mails, CancellationToken ct);

    /// <summary>Applies <paramref name="change"/> to the alert under a row lock; null when the id is unknown.</summary>
    Task<AlertActionResult?> UpdateAsync(long id, Func<AlertRecord, AlertActionResult> change, CancellationToken ct);
}
