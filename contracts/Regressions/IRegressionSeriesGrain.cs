namespace Telemetry.Contracts.Regressions;

/// <summary>
/// The evolution of one (channel, metric) by build date (key: <see cref="RegressionKeys.Series"/>), fed by its
/// channel's <see cref="IRegressionChannelGrain"/> with totals read from the build-date aggregates.
/// </summary>
public interface IRegressionSeriesGrain : IGrainWithStringKey
{
    /// <summary>
    /// Brings the series to the request's manifest, runs the detectors and records every finding not recorded
    /// yet as an alert; reports the parts it lacks instead when it cannot.
    /// </summary>
    Task<SeriesDetectionResult> Detect(SeriesDetectionRequest request);
}
