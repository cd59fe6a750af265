using System.Collections.Immutable;

namespace Telemetry.Contracts.Regressions;

/// <summary>
/// Histogram-regression detection for one channel (key: the channel name): reads the build-date aggregates,
/// feeds the series grains, and runs detection daily and when a new build date has gathered enough data.
/// </summary>
public interface IRegressionChannelGrain : IGrainWithStringKey
{
    /// <summary>Registers the channel's reminder (idempotent; the silo calls it at start).</summary>
    Task Start();

    /// <summary>Reads the aggregates of the window that changed since the last read; returns the metrics they hold, sorted.</summary>
    Task<ImmutableArray<string>> Refresh();

    /// <summary>
    /// Runs <paramref name="detectors"/> on the series of <paramref name="metrics"/> as last read (metrics the window does not
    /// hold are skipped). Callers with many metrics pass them in slices, each call well inside the grain call timeout.
    /// </summary>
    Task<ChannelDetectionResult> Detect(ImmutableArray<string> metrics, ImmutableArray<string> detectors);

    /// <summary>When detection last ran and why.</summary>
    Task<ChannelDetectionStatus> GetStatus();
}
