namespace Telemetry.Grains.Alerts;

/// <summary>
/// The notification core's entry point for detectors (docs/alerts.md): records the alert and queues its
/// notifications in one step. Safe to call again with the same draft (after a crash, from another silo):
/// the key makes it a no-op. Registered in the silo's services; grains take it by injection.
/// </summary>
public interface IAlertPublisher
{
    Task<PublishResult> PublishAsync(AlertDraft draft, CancellationToken ct);
}

/// <summary>The read side of the alerts, for the APIs and detectors.</summary>
public interface IAlertReader
{
    Task<AlertRecord?> GetAsync(long id, CancellationToken ct);

    Task<AlertRecord?> GetByKeyAsync(string key, CancellationToken ct);

    /// <summary>Matching alerts, newest <see cref="AlertTarget.OccurredOn"/> first, then newest id.</summary>
    Task<IReadOnlyList<AlertRecord>> ListAsync(AlertQuery query, CancellationToken ct);
}
