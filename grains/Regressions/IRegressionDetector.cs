namespace Telemetry.Grains.Regressions;

/// <summary>
/// A histogram-regression detector: a series in, its findings out (docs/regressions.md).
/// Implementations are stateless and deterministic: running one again on the same series reports
/// the same findings, and appending dates never removes or changes a finding whose
/// <see cref="RegressionFinding.ConfirmedBy"/> date was already there.
/// </summary>
public interface IRegressionDetector
{
    /// <summary>The name findings carry and the API selects detectors by (<c>cerberus</c>, <c>default</c>).</summary>
    string Name { get; }

    /// <summary>Every regression in the series, oldest build date first.</summary>
    IReadOnlyList<RegressionFinding> Detect(MetricSeries series);
}
