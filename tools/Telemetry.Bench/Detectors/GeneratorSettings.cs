namespace Telemetry.Bench.Detectors;

/// <summary>
/// The generator's assumptions about volume and noise (docs/regressions.md, "The generator"):
/// the series' typical pings per build date, log-uniform between <paramref name="MinimumBasePings"/>
/// and <paramref name="MaximumBasePings"/>; a ping holds 1 + Poisson(λ) samples with λ exponential
/// of mean <paramref name="ExtraSamplesPerPing"/>; the clients' own levels scatter by
/// <paramref name="BetweenPingsShare"/> of the log-value's standard deviation (samples of one ping
/// correlate by its square); the population's mean moves by N(0, <paramref name="DayToDayWobble"/>)
/// standard deviations from build date to build date without any code change.
/// </summary>
public sealed record GeneratorSettings(double MinimumBasePings, double MaximumBasePings, double ExtraSamplesPerPing, double BetweenPingsShare, double DayToDayWobble)
{
    /// <summary>The benchmark's generator: 50–50,000 pings, 4 samples a ping on average, correlation 0.36 within a ping, a 3 % wobble.</summary>
    public static readonly GeneratorSettings Default = new(50, 50_000, 3, 0.6, 0.03);

    /// <summary>
    /// A held-out variant, fixed before it was ever run: lower volumes (20–20,000 pings), bigger
    /// pings (6 samples on average), samples of one ping more alike (correlation 0.49), twice the
    /// day-to-day wobble. Noisier than the default in every way the detectors must allow for.
    /// </summary>
    public static readonly GeneratorSettings Heavier = new(20, 20_000, 5, 0.7, 0.06);

    /// <summary>The settings a <c>--variant</c> name selects.</summary>
    public static GeneratorSettings Named(string name) => name switch
    {
        "default" => Default,
        "heavier" => Heavier,
        _ => throw new BenchException($"unknown generator variant {name} (default, heavier)"),
    };
}
