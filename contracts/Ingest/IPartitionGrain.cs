using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Contracts.Ingest;

/// <summary>
/// The aggregate deltas of one or more whole landing batches of one partition, gathered by the silo
/// that landed them during one push interval.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PushedBatch
{
    [Id(0)] public required ImmutableArray<long> BatchIds { get; init; }
    [Id(1)] public required DateTimeOffset OldestReceivedAt { get; init; }
    /// <summary>Per aggregate grain key, the pings it gets.</summary>
    [Id(2)] public required ImmutableDictionary<string, ImmutableArray<PingHistograms>> Deltas { get; init; }
    [Id(3)] public int Pings { get; init; }
    [Id(4)] public ImmutableDictionary<string, Telemetry.Contracts.Crash.CrashDelta> CrashDeltas { get; init; } = ImmutableDictionary<string, Telemetry.Contracts.Crash.CrashDelta>.Empty;
}

/// <summary>A partition's progress.</summary>
[GenerateSerializer, Immutable]
public sealed record PartitionStatus
{
    [Id(0)] public int Partition { get; init; }
    [Id(1)] public long Checkpoint { get; init; }
    [Id(2)] public int PendingBatches { get; init; }
    [Id(3)] public double LagSeconds { get; init; }
    [Id(4)] public long BatchesApplied { get; init; }
    [Id(5)] public long BatchesRecovered { get; init; }
    [Id(6)] public bool Paused { get; init; }
    /// <summary>The reprocessing job holding the pause, if any.</summary>
    [Id(7)] public string? PausedBy { get; init; }
    /// <summary>Age of the oldest applied batch the checkpoint does not cover yet (0 when it covers all).</summary>
    [Id(8)] public double CheckpointAgeSeconds { get; init; }
    /// <summary>Applied batches above the checkpoint (read again after a crash).</summary>
    [Id(9)] public int AppliedAboveCheckpoint { get; init; }
    /// <summary>Rows read back from the log (recovery) that no longer decoded, since activation.</summary>
    [Id(10)] public long UndecodableRows { get; init; }
}

/// <summary>
/// One partition of the landing log: applies each landed batch exactly once to its aggregates and
/// moves a durable checkpoint once every aggregate has persisted it (docs/exactly-once.md).
/// </summary>
public interface IPartitionGrain : IGrainWithIntegerKey
{
    /// <summary>Applies batches decoded by the landing silo (the fast path); already applied ones are ignored.</summary>
    Task Push(ImmutableArray<PushedBatch> batches);

    /// <summary>Activates the partition (it then keeps itself alive with a reminder).</summary>
    Task Start();

    /// <summary>Reads, applies and checkpoints everything landed so far (used by tests and reprocessing).</summary>
    Task<PartitionStatus> CatchUp();

    /// <summary>
    /// Stops applying pushes and log reads for <paramref name="owner"/> until <see cref="Resume"/> or until the
    /// lease runs out (a crashed coordinator cannot leave it paused); false while another owner holds it.
    /// </summary>
    Task<bool> Pause(string owner, TimeSpan lease);

    /// <summary>Extends <paramref name="owner"/>'s pause; false when the lease already ran out (the partition went on applying).</summary>
    Task<bool> RenewPause(string owner, TimeSpan lease);

    /// <summary>While paused by <paramref name="owner"/>: applies every landed batch up to <paramref name="batchId"/> and moves the checkpoint exactly there.</summary>
    Task<PartitionStatus> SealAt(string owner, long batchId);

    /// <summary>Resumes applying after <paramref name="owner"/>'s pause; everything above the checkpoint is read again.</summary>
    Task Resume(string owner);

    /// <summary>Current progress.</summary>
    Task<PartitionStatus> GetStatus();
}
