using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;

namespace Telemetry.Tests.Crash;

/// <summary>Crash-rate rules: absolute thresholds, relative increases guarded by the 95 % interval, and the volume floor.</summary>
public sealed class CrashRateRuleTests
{
    /// <summary>Stats of <paramref name="pings"/> main pings of <paramref name="hoursEach"/> hours, with crash pings and content crashes (at most one per ping).</summary>
    private static CrashStats Stats(long pings, double hoursEach, long mainCrashes, long contentCrashes = 0)
    {
        var stats = new CrashStats();
        long seconds = (long)(hoursEach * 3600);
        const int sq = CrashStatNames.Count;
        stats.Values[0] = pings;
        stats.Values[sq] = pings;
        stats.Values[CrashStatNames.UsageHours] = pings * seconds;
        stats.Values[CrashStatNames.UsageHours + sq] = pings * seconds * seconds;
        stats.Values[2] = mainCrashes;
        stats.Values[2 + sq] = mainCrashes;
        stats.Values[3] = contentCrashes;
        stats.Values[3 + sq] = contentCrashes;
        return stats;
    }

    [Theory]
    [InlineData(10, true)]   // 5 per 1,000 h
    [InlineData(8, false)]   // exactly 4: not above
    [InlineData(3, false)]
    public void An_absolute_rule_fires_above_its_threshold(long crashes, bool fires)
    {
        var rule = new CrashRateRule { Threshold = 4 };
        var verdict = CrashRateRuleEvaluator.Absolute(rule, Stats(1000, 2, crashes)); // 2,000 h

        Assert.Equal(fires, verdict.Fires);
        Assert.Equal(crashes / 2.0, verdict.Rate!.Value, precision: 9);
        Assert.Equal(2000, verdict.UsageHours, precision: 6);
    }

    [Fact]
    public void Nothing_fires_below_the_minimum_usage_hours()
    {
        var rule = new CrashRateRule { Threshold = 1, MinUsageHours = 1000 };
        var thin = CrashRateRuleEvaluator.Absolute(rule, Stats(250, 2, 50)); // 500 h at 100 per 1,000 h
        Assert.False(thin.Fires);
        Assert.Contains("below the minimum of 1000", thin.Reason);

        var relative = new CrashRateRule { RelativeIncreasePct = 10, MinUsageHours = 1000 };
        Assert.False(CrashRateRuleEvaluator.Relative(relative, Stats(50_000, 2, 500), Stats(400, 2, 1)).Fires);
    }

    [Fact]
    public void A_relative_rule_fires_on_a_clear_increase_of_the_newer_version()
    {
        var rule = new CrashRateRule { RelativeIncreasePct = 20 };
        var older = Stats(50_000, 2, 100);   // 1.0 per 1,000 h over 100,000 h
        var newer = Stats(25_000, 2, 100);   // 2.0 per 1,000 h over 50,000 h

        var verdict = CrashRateRuleEvaluator.Relative(rule, newer, older);

        Assert.True(verdict.Fires, verdict.Reason);
        Assert.Equal(1.0, verdict.BaselineRate!.Value, precision: 9);
        Assert.True(verdict.Low > 1.0);
        Assert.Contains("+100 %", verdict.Reason);
    }

    [Fact]
    public void A_small_noisy_sample_never_fires_even_when_its_rate_is_far_higher()
    {
        var rule = new CrashRateRule { RelativeIncreasePct = 20 };
        var older = Stats(50_000, 2, 100);  // 1.0 per 1,000 h
        var newer = Stats(600, 2, 3);       // 2.5 per 1,000 h over 1,200 h: interval reaches below 1.0

        var verdict = CrashRateRuleEvaluator.Relative(rule, newer, older);

        Assert.False(verdict.Fires);
        Assert.True(verdict.Rate > 2 * verdict.BaselineRate);
        Assert.Contains("not conclusive", verdict.Reason);
    }

    [Fact]
    public void An_increase_within_the_percentage_does_not_fire_however_much_data()
    {
        var rule = new CrashRateRule { RelativeIncreasePct = 20 };
        var verdict = CrashRateRuleEvaluator.Relative(rule, Stats(5_000_000, 2, 11_000), Stats(5_000_000, 2, 10_000));
        Assert.False(verdict.Fires);
        Assert.Contains("not more than 20 % higher", verdict.Reason);
    }

    [Fact]
    public void Content_crash_rules_watch_content_crashes()
    {
        var rule = new CrashRateRule { Threshold = 4, Measure = CrashMeasure.Content };
        Assert.True(CrashRateRuleEvaluator.Absolute(rule, Stats(1000, 2, mainCrashes: 0, contentCrashes: 20)).Fires);
        Assert.False(CrashRateRuleEvaluator.Absolute(rule, Stats(1000, 2, mainCrashes: 20, contentCrashes: 0)).Fires);
    }

    [Fact]
    public void A_rule_names_exactly_one_kind_and_sane_numbers()
    {
        Assert.Empty(new CrashRateRule { Threshold = 3 }.Validate());
        Assert.Empty(new CrashRateRule { RelativeIncreasePct = 15, MinUsageHours = 0 }.Validate());
        Assert.Contains("exactly one", Assert.Single(new CrashRateRule().Validate()));
        Assert.Contains("exactly one", Assert.Single(new CrashRateRule { Threshold = 3, RelativeIncreasePct = 10 }.Validate()));
        Assert.Contains("threshold", Assert.Single(new CrashRateRule { Threshold = -1 }.Validate()));
        Assert.Contains("min_usage_hours", Assert.Single(new CrashRateRule { Threshold = 1, MinUsageHours = double.NaN }.Validate()));
    }
}
