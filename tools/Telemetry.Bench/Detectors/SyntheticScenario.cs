namespace Telemetry.Bench.Detectors;

/// <summary>
/// One row of the benchmark: a kind of change and its size parameter (a shift in standard
/// deviations of the metric's log-values, or the share of pings that move).
/// </summary>
/// <param name="Name">The row's name in the table.</param>
/// <param name="Size">Kind-specific: mean shift and drift in standard deviations, tail growth and bimodal split as a share of pings.</param>
/// <param name="IsRegression">Whether a detector should report it (a labelled change).</param>
public sealed record SyntheticScenario(string Name, ScenarioKind Kind, double Size, bool IsRegression);
