using System.Text.Json;

namespace Telemetry.Grains.Sentry;

/// <summary>The built-in rules (docs/sentry.md, "Rules").</summary>
public static class SentryRuleNames
{
    public const string NewIssue = "new-issue";
    public const string TopIssue = "top-issue";
    public const string Spike = "spike";
    public const string Regressed = "regressed";

    public static readonly string[] All = [NewIssue, TopIssue, Spike, Regressed];

    /// <summary>Rules that may notify the same person about the same issue again after <c>Sentry:RenotifyHours</c>; the others notify once.</summary>
    public static bool MayRenotify(string rule) => rule is Spike or Regressed;
}

/// <summary>One issue's numbers for ranking: events over the rule's days, its last event, its identity.</summary>
public sealed record IssueCount(string Project, string Fingerprint, long Events, DateTimeOffset LastSeen);

/// <summary>
/// The thresholds of the rules, defaults as the seed had them; a <c>sentry</c> subscription may override
/// each (<c>top_n</c>, <c>top_days</c>, <c>top_min_events</c>, <c>spike_factor</c>, <c>spike_floor</c>).
/// </summary>
public sealed record SentryThresholds(int TopN = 10, int TopDays = 7, long TopMinEvents = 200, double SpikeFactor = 5, long SpikeFloor = 50)
{
    /// <summary>The thresholds of a subscription's parameters (missing ones keep their defaults), or the error naming the field.</summary>
    public static (SentryThresholds? Thresholds, string? Error) FromParams(JsonElement p)
    {
        var t = new SentryThresholds();
        try
        {
            return (t with
            {
                TopN = (int)Whole(p, "top_n", t.TopN, 1, 1000),
                TopDays = (int)Whole(p, "top_days", t.TopDays, 1, 90),
                TopMinEvents = Whole(p, "top_min_events", t.TopMinEvents, 0, long.MaxValue),
                SpikeFactor = Number(p, "spike_factor", t.SpikeFactor, 1),
                SpikeFloor = Whole(p, "spike_floor", t.SpikeFloor, 1, long.MaxValue),
            }, null);
        }
        catch (FormatException e)
        {
            return (null, e.Message);
        }
    }

    private static long Whole(JsonElement p, string name, long fallback, long min, long max)
    {
        if (!p.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n) || n < min || n > max)
        {
            throw new FormatException(max == long.MaxValue
                ? $"params.{name} must be a whole number of at least {min}"
                : $"params.{name} must be a whole number from {min} to {max}");
        }
        return n;
    }

    private static double Number(JsonElement p, string name, double fallback, double min)
    {
        if (!p.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d) || d < min)
        {
            throw new FormatException($"params.{name} must be a number of at least {min}");
        }
        return d;
    }
}

/// <summary>The rules' arithmetic, separate from where the counts come from.</summary>
public static class SentryRules
{
    /// <summary>A project's issues by events over the days, most first; ties by the latest event, then by fingerprint.</summary>
    public static IReadOnlyList<IssueCount> Rank(IEnumerable<IssueCount> issues) =>
        issues.OrderByDescending(i => i.Events).ThenByDescending(i => i.LastSeen).ThenBy(i => i.Fingerprint, StringComparer.Ordinal).ToList();

    /// <summary><c>top-issue</c>: among the project's top N by events over the days, with strictly more than the minimum events.</summary>
    public static bool IsTopIssue(IReadOnlyList<IssueCount> ranked, string fingerprint, SentryThresholds t)
    {
        for (int i = 0; i < ranked.Count && i < t.TopN; i++)
        {
            if (ranked[i].Fingerprint == fingerprint)
            {
                return ranked[i].Events > t.TopMinEvents;
            }
        }
        return false;
    }

    /// <summary>
    /// <c>spike</c>: the events of the last 60 minutes are at least the factor times the hourly mean of the
    /// 168 hours before them, and at least the floor (a quiet issue's handful of events is no spike).
    /// </summary>
    public static bool IsSpike(long lastHour, long week, SentryThresholds t) =>
        lastHour >= t.SpikeFloor && lastHour >= t.SpikeFactor * (week / 168.0);
}
