using System.Text.Json;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Sentry;

/// <summary>
/// What a <c>sentry</c> subscription asks for (docs/sentry.md, "Subscriptions"): a project (name or glob),
/// the rules (all four when the subscription names none) and the thresholds (defaults for those it omits).
/// The parameters were validated when the subscription was saved (<see cref="SubscriptionJson"/>).
/// </summary>
public sealed record SentryRuleSet(long SubscriptionId, string Email, string Project, IReadOnlySet<string> Rules, SentryThresholds Thresholds, DateTimeOffset CreatedAt)
{
    public static SentryRuleSet? From(Subscription s)
    {
        if (s.Params.SentryJson is not { } json)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(json);
        var p = doc.RootElement;
        string project = p.TryGetProperty("project", out var pr) && pr.ValueKind == JsonValueKind.String ? pr.GetString()! : "*";
        var rules = new HashSet<string>(StringComparer.Ordinal);
        if (p.TryGetProperty("rules", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in list.EnumerateArray())
            {
                string? name = r.ValueKind == JsonValueKind.String ? r.GetString()
                    : r.ValueKind == JsonValueKind.Object && r.TryGetProperty("rule", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                if (name is not null && Array.IndexOf(SentryRuleNames.All, name) >= 0)
                {
                    rules.Add(name);
                }
            }
        }
        else
        {
            rules.UnionWith(SentryRuleNames.All);
        }
        var thresholds = SentryThresholds.FromParams(p).Thresholds ?? new SentryThresholds();
        return new SentryRuleSet(s.Id, s.Email.Trim().ToLowerInvariant(), project, rules, thresholds, s.CreatedAt);
    }

    public bool Covers(string project) => Glob.Matches(Project, project);
}
