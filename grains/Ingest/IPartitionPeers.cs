using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Ingest;

/// <summary>The decoded content of one or more landing batches: per aggregate key, what it gets.</summary>
public sealed record BatchContent(
    ImmutableDictionary<string, ImmutableArray<PingHistograms>> Deltas,
    ImmutableDictionary<string, CrashDelta> CrashDeltas)
{
    /// <summary>Rows read back from the log that no longer decode (they are skipped, counted and logged).</summary>
    public int Undecodable { get; init; }

    /// <summary>Why the first undecodable row failed, for the log.</summary>
    public string? FirstError { get; init; }

    /// <summary>Every aggregate key this content touches.</summary>
    public ImmutableArray<string> Targets => [.. Deltas.Keys, .. CrashDeltas.Keys];
}

/// <summary>
/// What <see cref="PartitionProtocol"/> needs from the world around it: the aggregates it feeds, the
/// decoder for rows read back from the log, and its own durable state. The grain implements it with
/// grain calls; unit tests with in-memory fakes.
/// </summary>
public interface IPartitionPeers
{
    /// <summary>Decodes rows read back from the landing log into aggregate deltas.</summary>
    BatchContent Decode(IReadOnlyList<LandedRow> rows);

    /// <summary>Applies a histogram delta covering <paramref name="batchIds"/> to one aggregate.</summary>
    Task<ApplyOutcome> ApplyAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, ImmutableArray<PingHistograms> pings);

    /// <summary>Applies a crash delta covering <paramref name="batchIds"/> to one crash aggregate.</summary>
    Task<ApplyOutcome> ApplyCrashAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, CrashDelta delta);

    /// <summary>Asks an aggregate (histogram or crash) to make the expected batches durable.</summary>
    Task<PersistOutcome> PersistAsync(string aggregate, ImmutableArray<long> expected, bool force);

    /// <summary>Makes new histogram aggregates known to the catalog (channels, versions, dates).</summary>
    Task RegisterAggregatesAsync(ImmutableArray<string> keys);

    /// <summary>Writes the partition's durable state.</summary>
    Task SaveAsync(long checkpoint, long batchesApplied, CancellationToken ct);

    /// <summary>Reports the partition's aggregation lag (age of the oldest landed batch not applied).</summary>
    Task ReportLagAsync(double lagSeconds);
}
