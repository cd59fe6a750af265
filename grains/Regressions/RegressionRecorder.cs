using System.Text.Json;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// Records findings as alerts, each once (docs/regressions.md, "Publishing findings"). Detectors report every
/// finding of a series on every run, so a finding seen again is the same event, not a new firing: it must not
/// be published again, because publishing the key of a resolved alert reopens it and mails its people. Known keys
/// come from the series' own memory, then from the alert store; only a key found in neither is published.
/// A finding that continues an open alert of the same metric, detector and direction from the previous
/// <see cref="ContinuationDates"/> build dates (a drift found again as it goes on) is recorded but not mailed.
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
        if (d.Notify && await OpenPredecessorAsync(d, ct) is { } earlier)
        {
            d = d with
            {
                Notify = false,
                Summary = d.Summary.TrimEnd() + $"\n\nNot mailed: it continues alert {earlier.Id} (build date {earlier.Target.OccurredOn:yyyyMMdd}), still open, in the same direction.",
            };
        }
        var result = await publisher.PublishAsync(d, ct);
        known[key] = result.Alert.Id;
        return (result.Alert.Id, result.Created);
    }

    /// <summary>How far back (in build dates) an open alert in the same direction makes a new finding its continuation.</summary>
    public const int ContinuationDates = 14;

    private async Task<AlertRecord?> OpenPredecessorAsync(AlertDraft d, CancellationToken ct)
    {
        if (d.Target.OccurredOn is not { } date || DirectionOf(d.DetailsJson) is not { } direction)
        {
            return null;
        }
        var earlier = await reader.ListAsync(new AlertQuery(
            Kind: AlertKinds.Regression, Channel: d.Target.Channel, Subject: d.Target.Subject, Detector: d.Target.Detector,
            From: date.AddDays(-ContinuationDates), To: date.AddDays(-1)), ct);
        // Only a mailed alert counts: a chain of unmailed continuations must not outlive the alert that was mailed.
        return earlier.FirstOrDefault(a => a.Notify && AlertStates.IsOpen(a.State) && DirectionOf(a.DetailsJson) == direction);
    }

    private static string? DirectionOf(string detailsJson)
    {
        using var doc = JsonDocument.Parse(detailsJson);
        return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("direction", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;
    }
}
