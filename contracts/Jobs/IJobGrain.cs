using System.Collections.Immutable;

namespace Telemetry.Contracts.Jobs;

/// <summary>Progress of a long admin job (raw-log import, reprocessing).</summary>
[GenerateSerializer, Immutable]
public sealed record JobStatus
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required string Kind { get; init; }
    /// <summary><c>running</c>, <c>succeeded</c> or <c>failed</c>.</summary>
    [Id(2)] public required string State { get; init; }
    /// <summary>0 to 1.</summary>
    [Id(3)] public double Progress { get; init; }
    [Id(4)] public ImmutableDictionary<string, long> Counts { get; init; } = ImmutableDictionary<string, long>.Empty;
    [Id(5)] public string? Error { get; init; }
    [Id(6)] public DateTimeOffset StartedAt { get; init; }
    [Id(7)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(8)] public string? Detail { get; init; }
}

/// <summary>Where a job's progress is kept, so any silo can answer a poll for it.</summary>
public interface IJobGrain : IGrainWithStringKey
{
    /// <summary>Records the job's latest status.</summary>
    Task Update(JobStatus status);

    /// <summary>The latest status, or null for an unknown job.</summary>
    Task<JobStatus?> Get();
}
