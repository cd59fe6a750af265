using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Contracts.Regressions;

/// <summary>Grain keys of the regression grains.</summary>
public static class RegressionKeys
{
    /// <summary>The key of the series grain of (<paramref name="channel"/>, <paramref name="metric"/>).</summary>
    public static string Series(string channel, string metric) => channel + '\u001f' + metric;

    /// <summary>Splits a key written by <see cref="Series"/>.</summary>
    public static (string Channel, string Metric) ParseSeries(string key)
    {
        int i = key.IndexOf('\u001f', StringComparison.Ordinal);
        return i > 0 ? (key[..i], key[(i + 1)..]) : throw new FormatException($"not a regression series key: {key}");
    }
}

/// <summary>
/// What one aggregate (one build date and major version) holds of one metric, summed over every other
/// dimension, at one data version. A series keeps one part per aggregate and replaces it whole: nothing
/// is ever added to a part, so reading an aggregate twice cannot count anything twice.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SeriesPart
{
    [Id(0)] public required string AggregateKey { get; init; }
    [Id(1)] public required DateOnly BuildDate { get; init; }
    [Id(2)] public required long DataVersion { get; init; }
    [Id(3)] public required MetricLayout Layout { get; init; }
    [Id(4)] public required ImmutableArray<long> Counts { get; init; }
    [Id(5)] public required long Instances { get; init; }
}

/// <summary>Which data version of an aggregate a series must hold.</summary>
[GenerateSerializer, Immutable]
public readonly record struct PartStamp
{
    [Id(0)] public required string AggregateKey { get; init; }
    [Id(1)] public required long DataVersion { get; init; }
}

/// <summary>
/// A detection run for one series: the complete list of aggregates (in the build-date window) that hold the
/// metric, the parts the caller believes the series lacks, and the detectors to run.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SeriesDetectionRequest
{
    /// <summary>Every aggregate of the window holding the metric, with its current data version; parts of others are dropped.</summary>
    [Id(0)] public required ImmutableArray<PartStamp> Manifest { get; init; }
    [Id(1)] public ImmutableArray<SeriesPart> Parts { get; init; } = ImmutableArray<SeriesPart>.Empty;
    [Id(2)] public required ImmutableArray<string> Detectors { get; init; }
}

/// <summary>A finding as the detection API reports it, with the alert that records it.</summary>
[GenerateSerializer, Immutable]
public sealed record DetectedRegression
{
    [Id(0)] public required long AlertId { get; init; }
    [Id(1)] public required string Metric { get; init; }
    [Id(2)] public required DateOnly BuildDate { get; init; }
    [Id(3)] public required string Detector { get; init; }
    [Id(4)] public required double Score { get; init; }
    /// <summary><c>higher</c>, <c>lower</c> or <c>changed</c>.</summary>
    [Id(5)] public required string Direction { get; init; }
    [Id(6)] public required ImmutableArray<DateOnly> ReferenceDates { get; init; }
    /// <summary>True when this run recorded the alert (and queued its mail).</summary>
    [Id(7)] public required bool New { get; init; }
    /// <summary>First and last build date that may hold the change's start (95 %); <see cref="BuildDate"/> is the most likely.</summary>
    [Id(8)] public DateOnly SuspectFrom { get; init; }
    [Id(9)] public DateOnly SuspectTo { get; init; }
}

/// <summary>The answer of a series grain.</summary>
[GenerateSerializer, Immutable]
public sealed record SeriesDetectionResult
{
    /// <summary>
    /// Aggregates of the manifest the series does not hold at the stated version (it lost its memory):
    /// nothing was detected; call again with those parts.
    /// </summary>
    [Id(0)] public ImmutableArray<string> Missing { get; init; } = ImmutableArray<string>.Empty;
    [Id(1)] public ImmutableArray<DetectedRegression> Findings { get; init; } = ImmutableArray<DetectedRegression>.Empty;
    /// <summary>Build dates in the series.</summary>
    [Id(2)] public int BuildDates { get; init; }
}

/// <summary>A metric whose detection failed in a channel run, and why.</summary>
[GenerateSerializer, Immutable]
public sealed record MetricFailure
{
    [Id(0)] public required string Metric { get; init; }
    [Id(1)] public required string Error { get; init; }
}

/// <summary>The outcome of one detection run over a channel.</summary>
[GenerateSerializer, Immutable]
public sealed record ChannelDetectionResult
{
    /// <summary>Every finding of the series as they stand now, by metric, build date and detector.</summary>
    [Id(0)] public ImmutableArray<DetectedRegression> Findings { get; init; } = ImmutableArray<DetectedRegression>.Empty;
    [Id(1)] public int Metrics { get; init; }
    [Id(2)] public ImmutableArray<DateOnly> BuildDates { get; init; } = ImmutableArray<DateOnly>.Empty;
    [Id(3)] public ImmutableArray<MetricFailure> Failures { get; init; } = ImmutableArray<MetricFailure>.Empty;
}

/// <summary>Where a channel's detection stands (for operators and tests).</summary>
[GenerateSerializer, Immutable]
public sealed record ChannelDetectionStatus
{
    [Id(0)] public DateTimeOffset? LastRunAt { get; init; }
    /// <summary>Why the last run happened: <c>first</c>, <c>periodic</c> or <c>ready:YYYYMMDD,...</c> (build dates that gathered enough data).</summary>
    [Id(1)] public string? LastRunReason { get; init; }
    [Id(2)] public ImmutableArray<DateOnly> ReadyDates { get; init; } = ImmutableArray<DateOnly>.Empty;
    [Id(3)] public int Runs { get; init; }
}
