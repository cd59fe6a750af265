namespace Telemetry.Grains.Regressions;

/// <summary>
/// The Kolmogorov distribution: the limit law of <c>sqrt(n) · D</c> for the Kolmogorov–Smirnov
/// distance <c>D</c> between two samples of the same distribution (docs/regressions.md, "Significance").
/// </summary>
public static class KolmogorovDistribution
{
    /// <summary>
    /// <c>P(K &gt; λ) = 2 Σ_{j≥1} (-1)^(j-1) exp(-2 j² λ²)</c>. That alternating series converges
    /// slowly for small λ, where the equivalent theta-function form
    /// <c>1 - sqrt(2π)/λ · Σ_{j≥1} exp(-(2j-1)² π² / (8 λ²))</c> converges fast instead.
    /// </summary>
    public static double Survival(double lambda)
    {
        if (double.IsNaN(lambda))
        {
            return double.NaN;
        }
        if (lambda <= 0.04)
        {
            return 1; // the CDF is below 1e-300 here
        }
        double sum = 0;
        if (lambda < 1.18)
        {
            double factor = -Math.PI * Math.PI / (8 * lambda * lambda);
            for (int j = 1; j <= 20; j++)
            {
                double odd = 2 * j - 1;
                double term = Math.Exp(odd * odd * factor);
                sum += term;
                if (term < 1e-17 * sum)
                {
                    break;
                }
            }
            return Math.Clamp(1 - Math.Sqrt(2 * Math.PI) / lambda * sum, 0, 1);
        }
        double sign = 1;
        for (int j = 1; j <= 100; j++)
        {
            double term = Math.Exp(-2.0 * j * j * lambda * lambda);
            sum += sign * term;
            sign = -sign;
            if (term < 1e-17)
            {
                break;
            }
        }
        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>
    /// The p-value of a Kolmogorov–Smirnov distance <paramref name="distance"/> between two
    /// samples whose effective size is <paramref name="effectiveSize"/> (<c>n m / (n + m)</c>), with
    /// Stephens' small-sample correction <c>λ = (√n + 0.12 + 0.11/√n) · D</c>.
    /// </summary>
    public static double PValue(double distance, double effectiveSize)
    {
        if (!(effectiveSize > 0))
        {
            return 1;
        }
        double root = Math.Sqrt(effectiveSize);
        return Survival((root + 0.12 + 0.11 / root) * distance);
    }
}
