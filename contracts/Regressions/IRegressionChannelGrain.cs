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

    /// <summary>Reads the aggregates now and runs <paramref name="detectors"/> on every series, or on <paramref name="metric"/>'s only.</summary>
    Task<ChannelDetectionResult> Detect(string? metric, ImmutableArray<string> detectors);

    /// <summary>When detection last ran and why.</summary>
    Task<ChannelDetectionStatus> GetStatus();
}
