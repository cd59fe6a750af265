using Telemetry.Contracts.Regressions;

namespace Telemetry.Grains.Regressions;

/// <summary>The persisted state of a series grain (Orleans serializer: keep ids stable).</summary>
[GenerateSerializer]
public sealed class RegressionSeriesState
{
    [Id(0)] public int SchemaVersion { get; set; } = 1;

    /// <summary>One part per build-date aggregate holding the metric (<see cref="SeriesBook"/>).</summary>
    [Id(1)] public Dictionary<string, SeriesPart> Parts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Alert keys of the findings recorded so far, with their alert ids (<see cref="RegressionRecorder"/>).</summary>
    [Id(2)] public Dictionary<string, long> Recorded { get; set; } = new(StringComparer.Ordinal);
}
