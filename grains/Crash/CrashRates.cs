using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Crash rates (crashes per 1,000 usage hours) and their 95 % confidence intervals from summed
/// crash stats (<c>/api/crash-rates</c>). All three values are null when there are no
/// usage hours.
/// </summary>
/// <remarks>
/// <para><b>Model.</b> A rate is R = C / U with C the summed crashes and U the summed usage hours.
/// Its interval is a <i>scaled-Poisson (quasi-Poisson) Garwood interval</i>, i.e. the gamma
/// interval of Fay &amp; Feuer (1997) for a count whose variance is estimated from the data:</para>
/// <list type="number">
/// <item>Estimate V, the variance of C given the exposure U, including the sampling error of U
/// (delta method for a ratio): V = Var(C) + R²·Var(U).</item>
/// <item>Dispersion φ = max(1, V / C) (never narrower than a pure Poisson count; 1 when C = 0) and
/// effective count k = C / φ.</item>
/// <item>Exact Poisson (Garwood) limits for k, scaled back by φ:
/// low = φ·χ²(0.025; 2k)/2 (0 when C = 0), high = φ·χ²(0.975; 2k + 2)/2, then × 1000 / U.
/// For large counts this tends to R ± 1.96·√V / U (the delta-method normal interval); for small
/// counts it stays asymmetric and never goes below 0, and with no crashes the upper limit is the
/// usual 3.69 / U.</item>
/// </list>
/// <para>Var(U) is estimated from <c>usage_hours_squared</c> over n = <c>ping_count</c> main pings:
/// Var(ΣU) ≈ n/(n−1)·(Σu² − (Σu)²/n) (0 when n &lt; 2).</para>
/// <para><b>Main crashes</b> come from crash pings, which carry no usage and are a different
/// sample than the main pings; each contributes exactly 1, so <c>main_crashes_squared</c> equals
/// <c>main_crashes</c> and holds no information about over-dispersion. C is therefore taken as
/// Poisson, Var(C) = C, and V = C + R²·Var(U).</para>
/// <para><b>Content (and plugin, gmplugin, gpu, content-shutdown) crashes</b> come from the same
/// main pings as the usage, so R is a ratio estimator and the delta method gives
/// V ≈ n/(n−1)·Σ(cᵢ − R·uᵢ)² = n/(n−1)·(S_cc − 2R·S_cu + R²·S_uu), with S the centred sums of
/// squares and products. Σ(c·u) is not kept, so S_cu is taken as 0. Under the natural model
/// (crashes Poisson in usage time) c and u are positively correlated, so this over-estimates V,
/// i.e. the interval is conservative; the excess is 2R·S_cu ≈ 2R²·S_uu, negligible when the
/// crash rate per ping is small (as it is: at most a few per thousand hours).</para>
/// <para>χ² quantiles (non-integer degrees of freedom when φ &gt; 1) are computed here, without a
/// numerics library: by inverting the regularized incomplete gamma function (Newton from a
/// Wilson–Hilferty start), and by Wilson–Hilferty alone above 2,000 degrees of freedom where it is
/// accurate to better than 10⁻⁵.</para>
/// </remarks>
public static class CrashRates
{
    /// <summary>The two-sided confidence level of the intervals.</summary>
    public const double Confidence = 0.95;

    /// <summary>The standard normal quantile at 0.975.</summary>
    public const double Z = 1.959963984540054;

    private const double LowerP = (1 - Confidence) / 2;
    private const double UpperP = 1 - LowerP;

    /// <summary>Main crashes (crash pings) per 1,000 usage hours.</summary>
    public static (double? Rate, double? Low, double? High) MainCrashRate(CrashStats stats) => For(stats, 2);

    /// <summary>Content crashes (main pings' SUBPROCESS_CRASHES_WITH_DUMP/content) per 1,000 usage hours.</summary>
    public static (double? Rate, double? Low, double? High) ContentCrashRate(CrashStats stats) => For(stats, 3);

    /// <summary>The rate of any crash stat (index into <see cref="CrashStatNames.Base"/>, 2..7).</summary>
    public static (double? Rate, double? Low, double? High) For(CrashStats stats, int statIndex) =>
        For(stats.Values, statIndex);

    /// <summary>
    /// The rate of any crash stat from summed raw values (8 base values then 8 squared values,
    /// in <see cref="CrashStatNames.Base"/> order; usage in seconds and seconds²).
    /// </summary>
    public static (double? Rate, double? Low, double? High) For(ReadOnlySpan<long> values, int statIndex)
    {
        if (values.Length < CrashStatNames.Count * 2)
        {
            throw new ArgumentException($"expected {CrashStatNames.Count * 2} values", nameof(values));
        }
        if (statIndex < 2 || statIndex >= CrashStatNames.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(statIndex), "not a crash stat");
        }
        const int sq = CrashStatNames.Count;
        return Compute(values[0], values[statIndex], values[statIndex + sq], values[CrashStatNames.UsageHours],
            values[CrashStatNames.UsageHours + sq], crashesFromMainPings: statIndex != 2);
    }

    /// <summary>
    /// The rate per 1,000 hours and its 95 % interval.
    /// </summary>
    /// <param name="pingCount">n, the number of main pings (the usage sample).</param>
    /// <param name="crashes">Σc.</param>
    /// <param name="crashesSquared">Σc² (ignored when <paramref name="crashesFromMainPings"/> is false).</param>
    /// <param name="usageSeconds">Σu in seconds.</param>
    /// <param name="usageSecondsSquared">Σu² in seconds².</param>
    /// <param name="crashesFromMainPings">True when the crashes were counted in the same main pings as the usage.</param>
    public static (double? Rate, double? Low, double? High) Compute(long pingCount, long crashes, long crashesSquared,
        long usageSeconds, long usageSecondsSquared, bool crashesFromMainPings)
    {
        if (usageSeconds <= 0)
        {
            return (null, null, null);
        }
        double hours = usageSeconds / 3600.0;
        double c = Math.Max(0, crashes);
        double r = c / hours; // per hour
        double varU = VarianceOfSum(pingCount, usageSeconds, usageSecondsSquared) / (3600.0 * 3600.0);
        double varC = crashesFromMainPings ? VarianceOfSum(pingCount, crashes, crashesSquared) : c;
        double v = varC + r * r * varU;
        double phi = c > 0 ? Math.Max(1, v / c) : 1;
        double k = c / phi;
        double low = c > 0 ? phi * ChiSquareQuantile(LowerP, -Z, 2 * k) / 2 : 0;
        double high = phi * ChiSquareQuantile(UpperP, Z, 2 * k + 2) / 2;
        double scale = 1000 / hours;
        // The rounding of the last bit must not put the rate outside its own interval.
        double rate = r * 1000;
        return (rate, Math.Min(low * scale, rate), Math.Max(high * scale, rate));
    }

    /// <summary>
    /// The estimated variance of Σx over n independent draws, n/(n−1)·(Σx² − (Σx)²/n), computed
    /// exactly in 128-bit integers before the final division; 0 when n &lt; 2 or the input is inconsistent.
    /// </summary>
    internal static double VarianceOfSum(long n, long sum, long sumOfSquares)
    {
        if (n < 2)
        {
            return 0;
        }
        Int128 centred = (Int128)n * sumOfSquares - (Int128)sum * sum; // n·Σ(x − x̄)²
        return centred <= 0 ? 0 : (double)centred / (n - 1);
    }

    /// <summary>
    /// The <paramref name="p"/> quantile of χ² with <paramref name="dof"/> degrees of freedom
    /// (<paramref name="z"/> = the normal quantile at p). Closed form for 2 degrees of freedom;
    /// up to <see cref="ExactChiSquareMaxDof"/> the regularized incomplete gamma function is
    /// inverted by safeguarded Newton steps started from Wilson–Hilferty; above it Wilson–Hilferty
    /// alone (its relative error is then below 10⁻⁵).
    /// </summary>
    internal static double ChiSquareQuantile(double p, double z, double dof)
    {
        if (dof <= 0 || p <= 0)
        {
            return 0;
        }
        if (dof == 2)
        {
            return -2 * Math.Log(1 - p);
        }
        double guess = WilsonHilferty(z, dof);
        return dof > ExactChiSquareMaxDof ? guess : 2 * GammaQuantile(p, dof / 2, guess / 2);
    }

    internal const double ExactChiSquareMaxDof = 2000;

    internal static double WilsonHilferty(double z, double dof)
    {
        double a = 2 / (9 * dof);
        double t = 1 - a + z * Math.Sqrt(a);
        return t <= 0 ? 0 : dof * t * t * t;
    }

    // x with P(a, x) = p, P the regularized lower incomplete gamma function.
    private static double GammaQuantile(double p, double a, double guess)
    {
        double lo = 0, hi = Math.Max(guess, a) * 2 + 10;
        while (RegularizedGammaP(a, hi) < p)
        {
            lo = hi;
            hi *= 2;
        }
        double x = guess > lo && guess < hi ? guess : (lo + hi) / 2;
        double logGammaA = LogGamma(a);
        for (int i = 0; i < 200; i++)
        {
            double f = RegularizedGammaP(a, x) - p;
            if (f < 0) lo = x; else hi = x;
            double density = x > 0 ? Math.Exp((a - 1) * Math.Log(x) - x - logGammaA) : 0;
            double next = density > 0 ? x - f / density : double.NaN;
            if (!(next > lo && next < hi))
            {
                next = (lo + hi) / 2; // bisection when Newton leaves the bracket
            }
            if (Math.Abs(next - x) <= 1e-13 * Math.Max(1, x))
            {
                return next;
            }
            x = next;
        }
        return x;
    }

    /// <summary>P(a, x): series for x &lt; a + 1, continued fraction (modified Lentz) otherwise.</summary>
    internal static double RegularizedGammaP(double a, double x)
    {
        if (x <= 0)
        {
            return 0;
        }
        double logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1 / a, sum = term;
            for (int n = 1; n < 100_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (term < sum * 1e-16) break;
            }
            return Math.Min(1, sum * Math.Exp(logPrefix));
        }
        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int n = 1; n < 100_000; n++)
        {
            double an = -n * (n - a);
            b += 2;
            d = an * d + b;
            if (Math.Abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Max(0, 1 - Math.Exp(logPrefix) * h);
    }

    // Lanczos approximation (g = 7, 9 coefficients), relative error about 1e-15 for x > 0.
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    internal static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }
        x -= 1;
        double sum = Lanczos[0];
        double t = x + 7.5;
        for (int i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (x + i);
        }
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
