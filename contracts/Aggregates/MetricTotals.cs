using System.Collections.Immutable;

namespace Telemetry.Contracts.Aggregates;

/// <summary>
/// One metric of an aggregate summed over every other dimension (labels, processes, applications,
/// architectures, OSes): what histogram-regression detection reads (docs/regressions.md, "Feeding the series").
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MetricTotal
{
    [Id(0)] public required string Metric { get; init; }
    [Id(1)] public required MetricLayout Layout { get; init; }
    [Id(2)] public required ImmutableArray<long> Counts { get; init; }
    /// <summary>Histogram instances summed (one per ping, process and label that carried the metric).</summary>
    [Id(3)] public required long Instances { get; init; }
}

/// <summary>Every metric of one aggregate, summed over the other dimensions, as of one data version.</summary>
[GenerateSerializer, Immutable]
public sealed record MetricTotals
{
    /// <summary>The aggregate's data version these totals belong to (the one queries report for ETags).</summary>
    [Id(0)] public required long DataVersion { get; init; }

    /// <summary>True when the caller already holds <see cref="DataVersion"/>: <see cref="Metrics"/> is then empty.</summary>
    [Id(1)] public bool Unchanged { get; init; }

    /// <summary>Pings applied to the aggregate.</summary>
    [Id(2)] public long Pings { get; init; }

    [Id(3)] public ImmutableArray<MetricTotal> Metrics { get; init; } = ImmutableArray<MetricTotal>.Empty;
}
