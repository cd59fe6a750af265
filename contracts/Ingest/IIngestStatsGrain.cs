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
    /// <summary>A few of the rejected submissions since the last report (at most a handful per reason).</summary>
    [Id(7)] public ImmutableArray<RejectSample> RejectSamples { get; init; } = ImmutableArray<RejectSample>.Empty;
}

/// <summary>One rejected submission, kept short so an admin can see what was wrong with it.</summary>
[GenerateSerializer, Immutable]
public sealed record RejectSample
{
    [Id(0)] public required string Reason { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    /// <summary>The submit path after <c>/submit/telemetry/</c>, cut to a few hundred characters.</summary>
    [Id(2)] public required string Path { get; init; }
    /// <summary>The message the client was answered with.</summary>
    [Id(3)] public required string Message { get; init; }
    /// <summary>Body size in bytes as received (0 when it was refused before reading).</summary>
    [Id(4)] public long Bytes { get; init; }
    /// <summary>The start of the body as text, control and non-ASCII bytes shown as '.' (empty when not read).</summary>
    [Id(5)] public string BodyStart { get; init; } = "";
}

/// <summary>Rejected submissions by reason since the cluster's counters began, with recent samples of each.</summary>
[GenerateSerializer, Immutable]
public sealed record IngestRejects
{
    [Id(0)] public ImmutableDictionary<string, long> Counts { get; init; } = ImmutableDictionary<string, long>.Empty;
    /// <summary>Newest first within each reason; kept in memory by the stats grain, so empty after it reactivates.</summary>
    [Id(1)] public ImmutableDictionary<string, ImmutableArray<RejectSample>> Samples { get; init; } = ImmutableDictionary<string, ImmutableArray<RejectSample>>.Empty;
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

    /// <summary>Rejections by reason with up to <paramref name="samplesPerReason"/> recent samples of each.</summary>
    Task<IngestRejects> GetRejects(int samplesPerReason);
}
