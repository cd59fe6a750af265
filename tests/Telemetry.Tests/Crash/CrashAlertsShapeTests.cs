using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Crash;
using Telemetry.Silo.Crash;
using Telemetry.Silo.Extensions;

namespace Telemetry.Tests.Crash;

/// <summary>What <c>GET /api/crash-alerts</c> shows of an alert the evaluator published, and the <c>CrashAlerts</c> settings.</summary>
public sealed class CrashAlertsShapeTests
{
    private static readonly DateTimeOffset Detected = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_absolute_alert_lists_its_rule_window_figures_and_state()
    {
        var rule = Rule(threshold: 4, pct: null, version: "47.0a1");
        var finding = new CrashAlertFinding(rule, new CrashWindow("47.0a1", new(2026, 11, 20), new(2026, 11, 22), Stats(2000, 10)),
            CrashRateRuleEvaluator.Absolute(rule.Rule, Stats(2000, 10)));

        var json = CrashAlertsApi.ToJson(Record(CrashAlertDrafts.Draft(finding), AlertState.Acknowledged));

        Assert.Equal(
            new[] { "id", "subscription_id", "channel", "version", "filters", "rule", "measure", "days", "window_start", "window_end", "rate", "ci95",
             "usage_hours", "crashes", "threshold", "min_usage_hours", "title", "reason", "state", "detected_at", "updated_at" },
            json.Select(p => p.Key));
        Assert.Equal(41, (long)json["id"]!);
        Assert.Equal(7, (long)json["subscription_id"]!);
        Assert.Equal("nightly", (string)json["channel"]!);
        Assert.Equal("47.0a1", (string)json["version"]!);
        Assert.Equal("Windows_NT", (string)json["filters"]!["os_name"]!);
        Assert.Equal("absolute", (string)json["rule"]!);
        Assert.Equal("2026-11-20", (string)json["window_start"]!);
        Assert.Equal("2026-11-22", (string)json["window_end"]!);
        Assert.Equal(5.0, (double)json["rate"]!, 9);
        Assert.Equal(2000, (double)json["usage_hours"]!, 9);
        Assert.Equal(10, (long)json["crashes"]!);
        Assert.Equal(4, (double)json["threshold"]!);
        Assert.Equal("acknowledged", (string)json["state"]!);
        Assert.Equal(Detected, (DateTimeOffset)json["detected_at"]!);
    }

    [Fact]
    public void A_relative_alert_lists_the_percentages_and_the_previous_version_instead_of_a_threshold()
    {
        var rule = Rule(threshold: null, pct: 20, version: null);
        var newer = Stats(50_000, 100);
        var older = Stats(100_000, 100);
        var finding = new CrashAlertFinding(rule,
            new CrashWindow("47.0a1", new(2026, 11, 17), new(2026, 11, 19), newer, new(2026, 11, 17)),
            CrashRateRuleEvaluator.Relative(rule.Rule, newer, older),
            new CrashWindow("46.0a1", new(2026, 10, 20), new(2026, 10, 22), older, new(2026, 10, 20)));

        var json = CrashAlertsApi.ToJson(Record(CrashAlertDrafts.Draft(finding), AlertState.New));

        Assert.False(json.ContainsKey("threshold"));
        Assert.Equal(20, (double)json["relative_increase_pct"]!);
        Assert.Equal(100, (double)json["increase_pct"]!, 9);
        Assert.Equal("46.0a1", (string)json["baseline"]!["version"]!);
        Assert.Equal(1.0, (double)json["baseline"]!["rate"]!, 9);
        Assert.Equal("relative", (string)json["rule"]!);
        Assert.Equal("new", (string)json["state"]!);
    }

    [Theory]
    [InlineData("PeriodMinutes", 0, "CrashAlerts:PeriodMinutes must be between 1 and 1440 (is 0).")]
    [InlineData("LagDays", 8, "CrashAlerts:LagDays must be between 0 and 7 (is 8).")]
    [InlineData("VersionLookbackDays", 7, "CrashAlerts:VersionLookbackDays must be between 14 and 400 (is 7).")]
    public void Settings_out_of_range_stop_the_silo_naming_the_key(string name, int value, string message)
    {
        var options = new CrashAlertOptions();
        typeof(CrashAlertOptions).GetProperty(name)!.SetValue(options, value);

        var result = new CrashAlertOptionsValidator().Validate(null, options);

        Assert.Equal(message, Assert.Single(result.Failures!));
        Assert.True(new CrashAlertOptionsValidator().Validate(null, new CrashAlertOptions()).Succeeded);
    }

    private static CrashAlertRule Rule(double? threshold, double? pct, string? version) => new()
    {
        SubscriptionId = 7,
        Channel = "nightly",
        Version = version,
        Filters = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string> { ["os_name"] = "Windows_NT" }),
        Rule = new CrashRateRule { Threshold = threshold, RelativeIncreasePct = pct },
        Days = 3,
    };

    private static CrashStats Stats(long hours, long crashes)
    {
        var s = new CrashStats();
        s.Values[0] = s.Values[CrashStatNames.Count] = hours;
        s.Values[CrashStatNames.UsageHours] = hours * 3600;
        s.Values[CrashStatNames.UsageHours + CrashStatNames.Count] = hours * 3600 * 3600;
        s.Values[2] = s.Values[2 + CrashStatNames.Count] = crashes;
        return s;
    }

    private static AlertRecord Record(AlertDraft draft, AlertState state) => new()
    {
        Id = 41,
        Kind = draft.Kind,
        Key = draft.Key,
        GroupKey = draft.GroupKey,
        Title = draft.Title,
        Summary = draft.Summary,
        Target = draft.Target,
        Owners = draft.Owners,
        DetailsJson = draft.DetailsJson,
        Notify = draft.Notify,
        State = state,
        CreatedAt = Detected,
        UpdatedAt = Detected.AddHours(1),
    };
}
