using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>Which crash rate a rule watches.</summary>
public enum CrashMeasure
{
    /// <summary>Main-process crashes (crash pings) per 1,000 usage hours.</summary>
    Main,

    /// <summary>Content-process crashes (main pings) per 1,000 usage hours.</summary>
    Content,
}

/// <summary>
/// A crash-rate alert rule: an absolute threshold in crashes per 1,000 usage hours, or a relative
/// increase of the newest version against the previous one over the same days since release, never
/// on less usage than <see cref="MinUsageHours"/> (docs/crash-alerts.md).
/// </summary>
public sealed record CrashRateRule
{
    public CrashMeasure Measure { get; init; } = CrashMeasure.Main;

    /// <summary>Fires when the rate is above this (crashes per 1,000 usage hours); null for a relative rule.</summary>
    public double? Threshold { get; init; }

    /// <summary>Fires when the newer version's rate exceeds the older one's by more than this many percent; null for an absolute rule.</summary>
    public double? RelativeIncreasePct { get; init; }

    /// <summary>Nothing fires on fewer usage hours than this (in each version compared).</summary>
    public double MinUsageHours { get; init; } = 1000;

    /// <summary>The problems with this rule, empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Threshold is null == RelativeIncreasePct is null)
        {
            problems.Add("give exactly one of threshold and relative_increase_pct");
        }
        if (Threshold is { } t && (!double.IsFinite(t) || t <= 0))
        {
            problems.Add("threshold must be a positive number of crashes per 1,000 usage hours");
        }
        if (RelativeIncreasePct is { } p && (!double.IsFinite(p) || p <= 0))
        {
            problems.Add("relative_increase_pct must be a positive percentage");
        }
        if (!double.IsFinite(MinUsageHours) || MinUsageHours < 0)
        {
            problems.Add("min_usage_hours must be zero or more");
        }
        return problems;
    }
}

/// <summary>The outcome of evaluating a rule: whether it fires, the figures it used, and why.</summary>
public sealed record CrashRateVerdict(
    bool Fires,
    string Reason,
    double UsageHours,
    double? Rate,
    double? Low,
    double? High,
    double? BaselineRate = null,
    double? BaselineUsageHours = null);

/// <summary>Evaluates <see cref="CrashRateRule"/>s on summed crash stats (plain logic; the crash grains supply the sums).</summary>
public static class CrashRateRuleEvaluator
{
    /// <summary>An absolute rule on the stats of its window (e.g. the last 3 activity days).</summary>
    public static CrashRateVerdict Absolute(CrashRateRule rule, CrashStats window)
    {
        double threshold = rule.Threshold ?? throw new ArgumentException("not an absolute rule", nameof(rule));
        double hours = window.Get(CrashStatNames.UsageHours);
        var (rate, low, high) = Rate(rule.Measure, window);
        if (hours < rule.MinUsageHours || rate is null)
        {
            return new(false, $"{hours:0} usage hours, below the minimum of {rule.MinUsageHours:0}", hours, rate, low, high);
        }
        return rate > threshold
            ? new(true, $"{rate:0.##} crashes per 1,000 h, above the threshold of {threshold:0.##}", hours, rate, low, high)
            : new(false, $"{rate:0.##} crashes per 1,000 h, at or below the threshold of {threshold:0.##}", hours, rate, low, high);
    }

    /// <summary>
    /// A relative rule: <paramref name="newer"/> and <paramref name="older"/> are each version's stats over
    /// its first D days since release. Fires when the newer rate exceeds the older one by more than the
    /// percentage <b>and</b> the lower bound of the newer rate's 95 % interval is above the older rate, so a
    /// small, noisy sample never fires.
    /// </summary>
    public static CrashRateVerdict Relative(CrashRateRule rule, CrashStats newer, CrashStats older)
    {
        double pct = rule.RelativeIncreasePct ?? throw new ArgumentException("not a relative rule", nameof(rule));
        double hours = newer.Get(CrashStatNames.UsageHours);
        double baseHours = older.Get(CrashStatNames.UsageHours);
        var (rate, low, high) = Rate(rule.Measure, newer);
        var (baseRate, _, _) = Rate(rule.Measure, older);
        CrashRateVerdict Verdict(bool fires, string reason) => new(fires, reason, hours, rate, low, high, baseRate, baseHours);
        if (hours < rule.MinUsageHours || baseHours < rule.MinUsageHours || rate is null || baseRate is null)
        {
            return Verdict(false, $"{hours:0} and {baseHours:0} usage hours; each version needs {rule.MinUsageHours:0}");
        }
        double limit = baseRate.Value * (1 + pct / 100);
        if (rate <= limit)
        {
            return Verdict(false, $"{rate:0.##} against {baseRate:0.##} crashes per 1,000 h: not more than {pct:0.#} % higher");
        }
        if (low <= baseRate)
        {
            return Verdict(false, $"{rate:0.##} against {baseRate:0.##} crashes per 1,000 h, but its 95 % interval reaches down to {low:0.##}: not conclusive");
        }
        double increase = baseRate > 0 ? (rate.Value / baseRate.Value - 1) * 100 : double.PositiveInfinity;
        return Verdict(true, $"{rate:0.##} against {baseRate:0.##} crashes per 1,000 h (+{increase:0} %), 95 % interval from {low:0.##}");
    }

    private static (double? Rate, double? Low, double? High) Rate(CrashMeasure measure, CrashStats stats) =>
        measure == CrashMeasure.Main ? CrashRates.MainCrashRate(stats) : CrashRates.ContentCrashRate(stats);
}
