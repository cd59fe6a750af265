using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;

namespace Telemetry.Tests.Crash;

/// <summary>Crash rates per 1,000 usage hours and their 95 % intervals (/api/crash-rates).</summary>
public sealed class CrashRatesTests
{
    private const int Sq = CrashStatNames.Count;

    /// <summary>Sums per-ping (usage seconds, content crashes) of main pings plus <paramref name="crashPings"/> crash pings.</summary>
    private static CrashStats Stats(IEnumerable<(long Usage, long Content)> mainPings, long crashPings = 0)
    {
        var s = new CrashStats();
        foreach (var (u, c) in mainPings)
        {
            s.Values[0] += 1;
            s.Values[Sq] += 1;
            s.Values[1] += u;
            s.Values[1 + Sq] += u * u;
            s.Values[3] += c;
            s.Values[3 + Sq] += c * c;
        }
        s.Values[2] += crashPings;
        s.Values[2 + Sq] += crashPings;
        return s;
    }

    private static IEnumerable<(long, long)> Hours(int pings, long seconds = 3600) => Enumerable.Repeat((seconds, 0L), pings);

    [Fact]
    public void Main_crash_rate_with_exact_usage_is_the_garwood_interval()
    {
        // 10 crashes in 1,000 hours (1,000 pings of exactly one hour: no usage variance).
        var (rate, low, high) = CrashRates.MainCrashRate(Stats(Hours(1000), crashPings: 10));
        Assert.Equal(10.0, rate!.Value, 12);
        // Exact Poisson 95 % limits for 10 events: 4.7954, 18.3904 (per 1,000 hours here).
        Assert.Equal(4.7954, low!.Value, 0.001);
        Assert.Equal(18.3904, high!.Value, 0.001);
    }

    [Theory]
    [InlineData(1, 0.0253, 5.5716)]
    [InlineData(2, 0.2422, 7.2247)]
    [InlineData(5, 1.6235, 11.6683)]
    [InlineData(30, 20.2409, 42.8269)]
    [InlineData(100, 81.3640, 121.6268)]
    public void Poisson_limits_match_tables(long crashes, double exactLow, double exactHigh)
    {
        // 1,000 hours: the rate per 1,000 hours is the count.
        var (rate, low, high) = CrashRates.MainCrashRate(Stats(Hours(1000), crashPings: crashes));
        Assert.Equal(crashes, rate!.Value, 9);
        Assert.Equal(exactLow, low!.Value, exactLow * 1e-3);
        Assert.Equal(exactHigh, high!.Value, exactHigh * 1e-3);
    }

    [Fact]
    public void No_crashes_gives_zero_with_the_rule_of_three_point_seven()
    {
        var (rate, low, high) = CrashRates.MainCrashRate(Stats(Hours(2000)));
        Assert.Equal(0, rate);
        Assert.Equal(0, low);
        Assert.Equal(-Math.Log(0.025) * 1000 / 2000, high!.Value, 12); // 3.689 events over 2,000 hours
        var content = CrashRates.ContentCrashRate(Stats(Hours(2000)));
        Assert.Equal((rate, low, high), content);
    }

    [Fact]
    public void Rates_are_null_without_usage()
    {
        Assert.Equal((null, null, null), CrashRates.MainCrashRate(Stats([], crashPings: 5)));
        Assert.Equal((null, null, null), CrashRates.ContentCrashRate(Stats([], crashPings: 5)));
        Assert.Equal((null, null, null), CrashRates.MainCrashRate(Stats([(0, 3), (0, 0)], crashPings: 5)));
        Assert.Equal((null, null, null), CrashRates.ContentCrashRate(new CrashStats()));
    }

    [Fact]
    public void Rate_is_crashes_per_thousand_usage_hours()
    {
        // A worked example: 1 main crash and 42 content crashes in 42 seconds.
        var s = new CrashStats { Values = [1, 42, 1, 42, 42, 42, 0, 0, 1, 1764, 1, 1764, 1764, 1764, 0, 0] };
        Assert.Equal(1 / (42 / 3600.0) * 1000, CrashRates.MainCrashRate(s).Rate!.Value, 6);
        Assert.Equal(42 / (42 / 3600.0) * 1000, CrashRates.ContentCrashRate(s).Rate!.Value, 6);
        Assert.Equal(CrashRates.ContentCrashRate(s), CrashRates.For(s, 4)); // plugin = content here
        Assert.Equal(CrashRates.ContentCrashRate(s), CrashRates.For(s.Values, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => CrashRates.For(s, 1));
    }

    [Fact]
    public void Evenly_spread_content_crashes_get_the_poisson_interval()
    {
        // 100 one-hour pings, 10 of them with one content crash: no more spread than Poisson.
        var pings = Enumerable.Range(0, 100).Select(i => (3600L, i < 10 ? 1L : 0L));
        var (rate, low, high) = CrashRates.ContentCrashRate(Stats(pings));
        Assert.Equal(100, rate!.Value, 9);
        Assert.Equal(47.954, low!.Value, 0.01);
        Assert.Equal(183.904, high!.Value, 0.01);
    }

    [Fact]
    public void Concentrated_content_crashes_widen_the_interval()
    {
        // Same 10 crashes in 100 hours, all in one ping: the squared stats show over-dispersion (φ = 10).
        var pings = Enumerable.Range(0, 100).Select(i => (3600L, i == 0 ? 10L : 0L));
        var (rate, low, high) = CrashRates.ContentCrashRate(Stats(pings));
        Assert.Equal(100, rate!.Value, 9);
        // φ = n/(n−1)·(Σc² − C²/n)/C = 100/99·99/10 = 10, one effective event scaled by 10:
        // [10·χ²(0.025; 2)/2, 10·χ²(0.975; 4)/2] per 100 hours = [2.53, 557.2] per 1,000 hours.
        Assert.Equal(-Math.Log(0.975) * 100, low!.Value, 6);
        Assert.Equal(557.16, high!.Value, 0.01);
    }

    [Fact]
    public void Usage_variance_widens_the_main_crash_interval()
    {
        var even = CrashRates.MainCrashRate(Stats(Hours(100), crashPings: 200));
        var uneven = CrashRates.MainCrashRate(Stats(Enumerable.Range(0, 100).Select(i => (i % 2 == 0 ? 100L : 7100L, 0L)), crashPings: 200));
        Assert.Equal(even.Rate!.Value, uneven.Rate!.Value, 9);
        Assert.True(uneven.High - uneven.Low > even.High - even.Low);
    }

    [Fact]
    public void Interval_contains_the_rate_and_narrows_with_more_data()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 300);
            var pings = Enumerable.Range(0, n).Select(_ => ((long)rng.Next(0, 90_001), rng.Next(5) == 0 ? (long)rng.Next(0, 8) : 0L)).ToArray();
            long crashPings = rng.Next(0, 50);
            var small = Stats(pings, crashPings);
            var large = Stats(Enumerable.Repeat(pings, 4).SelectMany(p => p), crashPings * 4);
            foreach (var rates in new Func<CrashStats, (double? Rate, double? Low, double? High)>[] { CrashRates.MainCrashRate, CrashRates.ContentCrashRate })
            {
                var a = rates(small);
                var b = rates(large);
                if (a.Rate is null)
                {
                    Assert.Null(b.Rate);
                    continue;
                }
                Assert.InRange(a.Rate.Value, a.Low!.Value, a.High!.Value);
                Assert.InRange(b.Rate!.Value, b.Low!.Value, b.High!.Value);
                Assert.True(a.Low >= 0);
                Assert.Equal(a.Rate.Value, b.Rate.Value, 9);
                Assert.True(b.High - b.Low < a.High - a.Low, $"trial {trial}: {a} vs {b}");
            }
        }
    }

    [Fact]
    public void Normal_limit_for_large_counts()
    {
        // 10,000 crash pings over 100,000 one-hour pings: rate 100 ± 1.96·√10000/100000·1000 ≈ ±1.96.
        var (rate, low, high) = CrashRates.MainCrashRate(Stats(Hours(100_000), crashPings: 10_000));
        Assert.Equal(100, rate!.Value, 9);
        Assert.Equal(100 - 1.96, low!.Value, 0.05);
        Assert.Equal(100 + 1.96, high!.Value, 0.05);
    }

    [Theory]
    [InlineData(1, 0.975, 5.023886)]
    [InlineData(3, 0.025, 0.2157953)]
    [InlineData(4, 0.025, 0.4844186)]
    [InlineData(4, 0.975, 11.14329)]
    [InlineData(20, 0.025, 9.590777)]
    [InlineData(22, 0.975, 36.78071)]
    [InlineData(0.5, 0.975, 3.433235)]
    [InlineData(200, 0.025, 162.728)]
    [InlineData(200, 0.975, 241.058)]
    [InlineData(5000, 0.975, 5197.884)]
    [InlineData(3000, 0.025, 2850.085)]
    [InlineData(2001, 0.025, 1878.915)]
    [InlineData(2001, 0.975, 2126.873)]
    [InlineData(1999, 0.975, 2124.811)]
    public void Chi_square_quantiles_match_tables(double dof, double p, double expected)
    {
        double z = p > 0.5 ? CrashRates.Z : -CrashRates.Z;
        Assert.Equal(expected, CrashRates.ChiSquareQuantile(p, z, dof), expected * 1e-6 + 1e-3);
    }

    [Fact]
    public void Variance_of_a_sum_is_exact_for_large_values()
    {
        // 10^9 pings of 90,000 s: Σu² = 8.1e18 fits a long; n·Σu² − (Σu)² is exactly 0.
        Assert.Equal(0, CrashRates.VarianceOfSum(1_000_000_000, 90_000L * 1_000_000_000, 8_100_000_000L * 1_000_000_000));
        Assert.Equal(4.0, CrashRates.VarianceOfSum(2, 2, 4)); // values 0 and 2: n/(n−1)·Σ(x − x̄)² = 2·2
        Assert.Equal(0, CrashRates.VarianceOfSum(1, 5, 25));
    }
}
