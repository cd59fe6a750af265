namespace Telemetry.Bench.Detectors;

/// <summary>
/// The random draws the generator needs, from one seeded <see cref="Random"/> (whose seeded
/// sequence is fixed across .NET versions and machines), so a seed always gives the same series.
/// </summary>
public sealed class SeededSampler(int seed)
{
    private readonly Random random = new(seed);
    private double spareGaussian;
    private bool hasSpare;

    public double Uniform() => random.NextDouble();

    public double Uniform(double low, double high) => low + (high - low) * random.NextDouble();

    /// <summary>An integer in [low, high], both included.</summary>
    public int Integer(int low, int high) => random.Next(low, high + 1);

    public bool Coin() => random.Next(2) == 0;

    /// <summary>Standard normal, Marsaglia's polar method (two values per acceptance, one kept for the next call).</summary>
    public double Gaussian()
    {
        if (hasSpare)
        {
            hasSpare = false;
            return spareGaussian;
        }
        double u, v, s;
        do
        {
            u = 2 * random.NextDouble() - 1;
            v = 2 * random.NextDouble() - 1;
            s = u * u + v * v;
        }
        while (s >= 1 || s == 0);
        double factor = Math.Sqrt(-2 * Math.Log(s) / s);
        spareGaussian = v * factor;
        hasSpare = true;
        return u * factor;
    }

    public double Exponential(double mean) => -mean * Math.Log(1 - random.NextDouble());

    /// <summary>Poisson by multiplying uniforms (Knuth); the generator only asks for small means (capped at 50).</summary>
    public int Poisson(double mean)
    {
        double limit = Math.Exp(-Math.Min(mean, 50));
        double product = random.NextDouble();
        int k = 0;
        while (product > limit)
        {
            k++;
            product *= random.NextDouble();
        }
        return k;
    }
}
