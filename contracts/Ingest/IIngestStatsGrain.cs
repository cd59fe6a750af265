using System.Collections.Immutable;

namespace Telemetry.Contracts.Ingest;

/// <summary>Counters one silo has gathered since its last report; silos send one every few seconds.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestCounterReport
{
    [Id(0)] public required string SiloId { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    [Id(2)] public long Accepted { get; init; }
    [Id(3)] public long Duplicates { get; init; }
    [Id(4)] public long Bytes { get; init; }
    [Id(5)] public ImmutableDictionary<string, long> RejectedByReason { get; init; } = ImmutableDictionary<string, long>.Empty;
    [Id(6)] public ImmutableDictionary<string, long> InvalidHistogramsByMetric { get; init; } = ImmutableDictionary<string, long>.Empty;
}

/// <summary>Accepted and rejected pings in one minute.</summary>
[GenerateSerializer, Immutable]
public sealed record MinuteBucket
{
    [Id(0)] public required DateTimeOffset Minute { get; init; }
    [Id(1)] public long Accepted { get; init; }
    [Id(2)] public long Rejected { get; init; }
}

/// <summary>A channel and the major versions seen on it.</summary>
[GenerateSerializer, Immutable]
public sealed record ChannelVersions
{
    [Id(0)] public required string Channel { get; init; }
    [Id(1)] public ImmutableArray<string> Versions { get; init; } = ImmutableArray<string>.Empty;
}

/// <summary>The cluster-wide ingest picture shown on the portal's overview.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestOverview
{
    [Id(0)] public long AcceptedTotal { get; init; }
    [Id(1)] public long DuplicatesTotal { get; init; }
    [Id(2)] public long BytesTotal { get; init; }
    [Id(3)] public ImmutableDictionary<string, long> RejectedByReason { get; init; } = ImmutableDictionary<string, long>.Empty;
    [Id(4)] public ImmutableArray<MinuteBucket> LastHour { get; init; } = ImmutableArray<MinuteBucket>.Empty;
    /// <summary>Age in seconds of the oldest landed submission not yet aggregated (0 when caught up).</summary>
    [Id(5)] public double AggregationLagSeconds { get; init; }
    [Id(6)] public ImmutableArray<ChannelVersions> Channels { get; init; } = ImmutableArray<ChannelVersions>.Empty;
    [Id(7)] public ImmutableDictionary<string, long> InvalidHistogramsByMetric { get; init; } = ImmutableDictionary<string, long>.Empty;
    [Id(8)] public DateTimeOffset GeneratedAt { get; init; }
}

/// <summary>Cluster-wide ingest counters (single activation, key 0).</summary>
public interface IIngestStatsGrain : IGrainWithIntegerKey
{
    /// <summary>Adds one silo's counters since its previous report.</summary>
    Task Report(IngestCounterReport report);

    /// <summary>Records the current aggregation lag of one partition, in seconds.</summary>
    Task ReportLag(int partition, double lagSeconds);

    /// <summary>Returns totals, the last hour per minute, lag and the channels and versions seen.</summary>
    Task<IngestOverview> GetOverview();
}
