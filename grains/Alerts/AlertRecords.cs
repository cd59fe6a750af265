namespace Telemetry.Grains.Alerts;

/// <summary>Helpers shared by the alert stores.</summary>
public static class AlertRecords
{
    /// <summary>A new alert from its draft: state new, one "created" history entry.</summary>
    public static AlertRecord New(long id, AlertDraft d, DateTimeOffset now) => new()
    {
        Id = id,
        Kind = d.Kind,
        Key = d.Key,
        GroupKey = d.GroupKey,
        Title = d.Title,
        Summary = d.Summary,
        Target = d.Target,
        Owners = d.Owners.Select(o => o.Trim().ToLowerInvariant()).Where(o => o.Length > 0).Distinct().ToList(),
        DetailsJson = string.IsNullOrWhiteSpace(d.DetailsJson) ? "{}" : d.DetailsJson,
        Notify = d.Notify,
        State = AlertState.New,
        CreatedAt = now,
        UpdatedAt = now,
        History = [new AlertEvent(now, "system", AlertActions.Created, AlertState.New, null, null)],
    };

    /// <summary>Whether <paramref name="a"/> passes the filters of <paramref name="q"/> (the memory store's query; PostgreSQL does the same in SQL).</summary>
    public static bool Matches(AlertRecord a, AlertQuery q) =>
        (q.Kind is null || a.Kind == q.Kind)
        && (q.State is null || a.State == q.State)
        && (q.Channel is null || string.Equals(a.Target.Channel, q.Channel, StringComparison.OrdinalIgnoreCase))
        && (q.Subject is null || string.Equals(a.Target.Subject, q.Subject, StringComparison.Ordinal))
        && (q.Detector is null || a.Target.Detector == q.Detector)
        && (q.From is null || (a.Target.OccurredOn is { } d1 && d1 >= q.From))
        && (q.To is null || (a.Target.OccurredOn is { } d2 && d2 <= q.To));
}
