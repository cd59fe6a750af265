using System.Globalization;
using System.Text;
using System.Text.Json;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Turns a finding that fires into the alert the notification core records (docs/crash-alerts.md,
/// "Alerts"): its natural key, its group, the mail's title and text, and the figures as JSON.
/// </summary>
public static class CrashAlertDrafts
{
    /// <summary>The key prefix of every crash-rate alert.</summary>
    public const string KeyPrefix = "crash_rate";

    /// <summary>Stands for "every version" in keys (an absolute rule without a version).</summary>
    public const string AllVersions = "*";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static AlertDraft Draft(CrashAlertFinding finding)
    {
        if (!finding.Fires)
        {
            throw new ArgumentException("only a finding that fires becomes an alert", nameof(finding));
        }
        var rule = finding.Rule;
        return new AlertDraft(
            Kind: AlertKinds.CrashRate,
            Key: Key(finding),
            Title: Title(finding),
            Summary: Summary(finding),
            Target: new AlertTarget(
                Channel: rule.Channel,
                Subject: finding.Version,
                Detector: rule.Detector,
                OccurredOn: finding.Window.To,
                Score: finding.Verdict.Rate,
                SubscriptionId: rule.SubscriptionId),
            Owners: [],
            DetailsJson: DetailsJson(finding),
            GroupKey: GroupKey(finding));
    }

    /// <summary>
    /// The rule (subscription and detector), channel, version and filters: one group per thing watched, so
    /// that while its alert is open a later window records nothing, and after it was resolved it fires again.
    /// </summary>
    public static string GroupKey(CrashAlertFinding finding)
    {
        var rule = finding.Rule;
        var sb = new StringBuilder(KeyPrefix)
            .Append(':').Append(rule.SubscriptionId.ToString(Inv))
            .Append(':').Append(rule.Detector)
            .Append(':').Append(Escape(rule.Channel))
            .Append(':').Append(finding.Version is null ? AllVersions : Escape(finding.Version))
            .Append(':');
        if (rule.Filters.Count == 0)
        {
            sb.Append('-');
        }
        else
        {
            // Filters are sorted ordinally (ImmutableSortedDictionary): the same filters always give the same text.
            sb.AppendJoin('&', rule.Filters.Select(f => Escape(f.Key) + "=" + Escape(f.Value)));
        }
        return sb.ToString();
    }

    /// <summary>The group key and the window's end date: names one alert for good.</summary>
    public static string Key(CrashAlertFinding finding) =>
        GroupKey(finding) + ":" + CrashDimensions.FormatDate(finding.Window.To);

    public static string Title(CrashAlertFinding finding)
    {
        var rule = finding.Rule;
        string where = Where(rule.Channel, finding.Version, rule);
        string rate = Number(finding.Verdict.Rate);
        string crashes = rule.Rule.Measure == CrashMeasure.Main ? "main crashes" : "content crashes";
        if (rule.Detector == CrashAlertRule.Absolute)
        {
            return $"Crash rate {where}: {rate} {crashes} per 1,000 usage hours (threshold {Number(rule.Rule.Threshold)})";
        }
        return $"Crash rate {where}: {rate} {crashes} per 1,000 usage hours, {Increase(finding)} over {finding.Baseline?.Version} ({Number(finding.Verdict.BaselineRate)})";
    }

    public static string Summary(CrashAlertFinding finding)
    {
        var rule = finding.Rule;
        var v = finding.Verdict;
        var w = finding.Window;
        var sb = new StringBuilder();
        sb.Append(Inv, $"Main-process crashes per 1,000 usage hours {Where(rule.Channel, finding.Version, rule)}");
        if (rule.Detector == CrashAlertRule.Absolute)
        {
            sb.Append(Inv, $", activity days {Date(w.From)} to {Date(w.To)}:\n");
            sb.Append(Inv, $"rate {Number(v.Rate)} (95 % interval {Number(v.Low)} to {Number(v.High)}), {w.MainCrashes} crashes in {Hours(v.UsageHours)} usage hours.\n");
            sb.Append(Inv, $"Rule: above {Number(rule.Rule.Threshold)} per 1,000 usage hours, on at least {Hours(rule.Rule.MinUsageHours)} usage hours.\n");
        }
        else
        {
            var b = finding.Baseline!;
            sb.Append(Inv, $", first {w.Days} day{(w.Days == 1 ? "" : "s")} since release:\n");
            sb.Append(Inv, $"{w.Version} (first seen {Date(w.From)}; days to {Date(w.To)}): rate {Number(v.Rate)} (95 % interval {Number(v.Low)} to {Number(v.High)}), {w.MainCrashes} crashes in {Hours(v.UsageHours)} usage hours.\n");
            sb.Append(Inv, $"{b.Version} (first seen {Date(b.From)}; days to {Date(b.To)}): rate {Number(v.BaselineRate)}, {b.MainCrashes} crashes in {Hours(v.BaselineUsageHours ?? 0)} usage hours.\n");
            sb.Append(Inv, $"Change: {Increase(finding)}. Rule: more than +{Number(rule.Rule.RelativeIncreasePct)} % with the interval's lower bound above the previous rate, on at least {Hours(rule.Rule.MinUsageHours)} usage hours each.\n");
        }
        sb.Append(Inv, $"Why: {v.Reason}.\n");
        sb.Append(Inv, $"Subscription {rule.SubscriptionId}.");
        return sb.ToString();
    }

    /// <summary>The figures of the finding as snake_case JSON (what <c>GET /api/crash-alerts</c> shows).</summary>
    public static string DetailsJson(CrashAlertFinding finding)
    {
        var rule = finding.Rule;
        var v = finding.Verdict;
        using var ms = new MemoryStream();
        using (var j = new Utf8JsonWriter(ms))
        {
            j.WriteStartObject();
            j.WriteNumber("subscription_id", rule.SubscriptionId);
            j.WriteString("rule", rule.Detector);
            j.WriteString("measure", rule.Rule.Measure == CrashMeasure.Main ? "main_crashes" : "content_crashes");
            j.WriteString("channel", rule.Channel);
            WriteNullable(j, "version", finding.Version);
            j.WriteStartObject("filters");
            foreach (var (name, value) in rule.Filters)
            {
                j.WriteString(name, value);
            }
            j.WriteEndObject();
            j.WriteNumber("days", rule.Days);
            j.WriteString("window_start", Date(finding.Window.From));
            j.WriteString("window_end", Date(finding.Window.To));
            WriteNumber(j, "rate", v.Rate);
            j.WriteStartArray("ci95");
            WriteNumberValue(j, v.Low);
            WriteNumberValue(j, v.High);
            j.WriteEndArray();
            j.WriteNumber("usage_hours", v.UsageHours);
            j.WriteNumber("crashes", finding.Window.MainCrashes);
            if (rule.Detector == CrashAlertRule.Absolute)
            {
                WriteNumber(j, "threshold", rule.Rule.Threshold);
            }
            else
            {
                WriteNumber(j, "relative_increase_pct", rule.Rule.RelativeIncreasePct);
                WriteNumber(j, "increase_pct", IncreasePct(finding));
                var b = finding.Baseline!;
                j.WriteStartObject("baseline");
                WriteNullable(j, "version", b.Version);
                j.WriteString("window_start", Date(b.From));
                j.WriteString("window_end", Date(b.To));
                WriteNumber(j, "rate", v.BaselineRate);
                j.WriteNumber("usage_hours", v.BaselineUsageHours ?? 0);
                j.WriteNumber("crashes", b.MainCrashes);
                j.WriteEndObject();
            }
            j.WriteNumber("min_usage_hours", rule.Rule.MinUsageHours);
            j.WriteString("reason", v.Reason);
            j.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The newer rate's increase over the baseline in percent; null without a finite one.</summary>
    public static double? IncreasePct(CrashAlertFinding finding) =>
        finding.Verdict is { Rate: { } r, BaselineRate: { } b } && b > 0 ? (r / b - 1) * 100 : null;

    private static string Increase(CrashAlertFinding finding) =>
        IncreasePct(finding) is { } pct ? "+" + pct.ToString("0", Inv) + " %" : "up from none";

    private static string Where(string channel, string? version, CrashAlertRule rule)
    {
        var sb = new StringBuilder("on ").Append(channel);
        if (version is not null)
        {
            sb.Append(' ').Append(version);
        }
        if (rule.Filters.Count > 0)
        {
            sb.Append(" (").AppendJoin(", ", rule.Filters.Select(f => f.Key + "=" + f.Value)).Append(')');
        }
        return sb.ToString();
    }

    private static string Escape(string text) => Uri.EscapeDataString(text);

    private static string Date(DateOnly d) => CrashDimensions.FormatDate(d);

    private static string Number(double? x) => x is { } v ? v.ToString("0.##", Inv) : "n/a";

    private static string Hours(double h) => h.ToString("#,0", Inv);

    private static void WriteNullable(Utf8JsonWriter j, string name, string? value)
    {
        if (value is null) j.WriteNull(name); else j.WriteString(name, value);
    }

    private static void WriteNumber(Utf8JsonWriter j, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) j.WriteNumber(name, v); else j.WriteNull(name);
    }

    private static void WriteNumberValue(Utf8JsonWriter j, double? value)
    {
        if (value is { } v && double.IsFinite(v)) j.WriteNumberValue(v); else j.WriteNullValue();
    }
}
