using System.Text.Json;

namespace Telemetry.Grains.Alerts;

/// <summary>Which subscriptions an alert concerns (docs/alerts.md, "Who hears about an alert").</summary>
public static class SubscriptionMatcher
{
    public static bool Matches(Subscription s, AlertDraft alert)
    {
        if (s.Paused || !string.Equals(s.Kind, alert.Kind, StringComparison.Ordinal))
        {
            return false;
        }
        var t = alert.Target;
        // An alert raised for one subscription (a crash-rate rule) concerns that subscription only.
        if (t.SubscriptionId is { } only)
        {
            return s.Id == only;
        }
        switch (s.Kind)
        {
            case AlertKinds.Regression when s.Params.Regression is { } r:
                return t.Channel is not null && string.Equals(r.Channel, t.Channel, StringComparison.OrdinalIgnoreCase)
                    && t.Subject is not null && Glob.Matches(r.Metric, t.Subject)
                    && (t.Score ?? 0) >= r.MinScore;
            case AlertKinds.Expiry when s.Params.Expiry is { } e:
                return t.Subject is not null && (e.Mine
                    ? alert.Owners.Contains(s.Email, StringComparer.OrdinalIgnoreCase)
                    : e.Metric is not null && Glob.Matches(e.Metric, t.Subject));
            case AlertKinds.Sentry when s.Params.SentryJson is { } json:
                return t.Subject is not null && SentryProject(json) is { } project && Glob.Matches(project, t.Subject);
            default:
                return false;
        }
    }

    // Sentry alerts are decided per subscription by the Sentry evaluator (its rules and thresholds,
    // docs/sentry.md) and carry that subscription's id; this match by project covers a Sentry alert
    // published without one.
    private static string? SentryProject(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.TryGetProperty("project", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
    }
}
