using Telemetry.Grains.Alerts;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// The notification core (docs/alerts.md): decides who hears about an alert (owners minus opt-outs, and
/// matching subscriptions), then records the alert and queues their mails in one step through the store.
/// </summary>
public sealed partial class AlertPublisher(
    IAlertStore store,
    ISubscriptionStore subscriptions,
    AlertMail mail,
    ILogger<AlertPublisher> logger) : IAlertPublisher
{
    public async Task<PublishResult> PublishAsync(AlertDraft draft, CancellationToken ct)
    {
        if (!AlertKinds.IsKnown(draft.Kind))
        {
            throw new ArgumentException($"unknown alert kind '{draft.Kind}'", nameof(draft));
        }
        // Read before the write: a subscription created in between hears of the next alert, not this one.
        IReadOnlyList<PlannedRecipient> recipients = [];
        if (draft.Notify)
        {
            var subs = await subscriptions.ListActiveAsync(draft.Kind, ct);
            IReadOnlySet<string> optedOut = draft.Target.Subject is { } probe && draft.Owners.Count > 0
                ? await subscriptions.OptedOutAsync(probe, draft.Owners, ct)
                : new HashSet<string>();
            recipients = RecipientPlanner.Plan(draft, subs, optedOut);
        }
        var result = await store.RecordAsync(draft, alert => recipients.Select(r => mail.Compose(alert, r)).ToList(), ct);
        if (result.Created || result.Reopened)
        {
            LogRecorded(logger, result.Alert.Id, draft.Key, result.Reopened ? "reopened as regressed" : "new", result.MailsQueued);
        }
        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Id} ({Key}) {What}; {Mails} mails queued")]
    private static partial void LogRecorded(ILogger logger, long id, string key, string what, int mails);
}
