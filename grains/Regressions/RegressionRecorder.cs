using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// Records findings as alerts, each once (docs/regressions.md, "Publishing findings"). Detectors report every
/// finding of a series on every run, so a finding seen again is the same event, not a new firing: it must not
/// be published again, because publishing the key of a resolved alert reopens it and mails its people. Known keys
/// come from the series' own memory, then from the alert store; only a key found in neither is published.
/// </summary>
public sealed class RegressionRecorder(IAlertPublisher publisher, IAlertReader reader)
{
    /// <summary>The alert id of <paramref name="key"/>, and whether this call created the alert.</summary>
    /// <param name="known">Keys this series recorded before, with their alert ids; updated.</param>
    public async Task<(long AlertId, bool Created)> RecordAsync(string key, Func<AlertDraft> draft, IDictionary<string, long> known, CancellationToken ct)
    {
        if (known.TryGetValue(key, out long id))
        {
            return (id, false);
        }
        // The series forgot (state lost or never written after a crash): the store still knows.
        if (await reader.GetByKeyAsync(key, ct) is { } existing)
        {
            known[key] = existing.Id;
            return (existing.Id, false);
        }
        var d = draft();
        if (d.Key != key)
        {
            throw new ArgumentException($"the draft's key '{d.Key}' is not '{key}'", nameof(draft));
        }
        var result = await publisher.PublishAsync(d, ct);
        known[key] = result.Alert.Id;
        return (result.Alert.Id, result.Created);
    }
}
