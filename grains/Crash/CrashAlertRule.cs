using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Crash;

/// <summary>
/// A <c>crash_rate</c> subscription as the evaluator uses it: which crashes, where, and the rule
/// (docs/crash-alerts.md, "Subscriptions").
/// </summary>
public sealed record CrashAlertRule
{
    public const string Absolute = "absolute";
    public const string Relative = "relative";

    /// <summary>Longest window a subscription may ask for, in days.</summary>
    public const int MaxDays = 90;

    public required long SubscriptionId { get; init; }
    public required string Channel { get; init; }

    /// <summary>Only this build version; null: every version (absolute) or the newest one (relative).</summary>
    public string? Version { get; init; }

    /// <summary>Dimension filters, all must match; values as stored (non-ASCII characters as <c>?</c>).</summary>
    public required ImmutableSortedDictionary<string, string> Filters { get; init; }

    public required CrashRateRule Rule { get; init; }

    /// <summary>Activity days (absolute) or days since release (relative).</summary>
    public required int Days { get; init; }

    /// <summary><see cref="Absolute"/> or <see cref="Relative"/>.</summary>
    public string Detector => Rule.Threshold is not null ? Absolute : Relative;

    /// <summary>
    /// The rule of a subscription, or null with the problem when it cannot be evaluated (the notification
    /// core validates parameters when they are saved; this is the evaluator's own guard).
    /// </summary>
    public static CrashAlertRule? From(Subscription subscription, out string? problem)
    {
        problem = null;
        if (subscription.Params.CrashRate is not { } p)
        {
            problem = "the subscription has no crash_rate parameters";
            return null;
        }
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(p.Channel))
        {
            problems.Add("channel is empty");
        }
        if (p.Days < 1 || p.Days > MaxDays)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"days must be between 1 and {MaxDays} (is {p.Days})"));
        }
        var unknown = p.Filters.Keys.Where(k => !CrashDimensions.Names.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            problems.Add($"filters name no crash dimension: {string.Join(", ", unknown)}");
        }
        var rule = new CrashRateRule
        {
            Measure = p.Content ? CrashMeasure.Content : CrashMeasure.Main,
            Threshold = p.Threshold,
            RelativeIncreasePct = p.RelativeIncreasePct,
            MinUsageHours = p.MinUsageHours,
        };
        problems.AddRange(rule.Validate());
        if (problems.Count > 0)
        {
            problem = string.Join("; ", problems);
            return null;
        }
        return new CrashAlertRule
        {
            SubscriptionId = subscription.Id,
            Channel = p.Channel,
            Version = string.IsNullOrWhiteSpace(p.Version) ? null : p.Version.Trim(),
            // Stored dimension values went through the same replacement, so a filter written with an accent still matches.
            Filters = p.Filters.ToImmutableSortedDictionary(kv => kv.Key, kv => CrashDimensions.ToAscii(kv.Value) ?? "", StringComparer.Ordinal),
            Rule = rule,
            Days = p.Days,
        };
    }
}
