using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>Which batches of one partition an aggregate holds.</summary>
[GenerateSerializer]
public sealed class PartitionProgress
{
    /// <summary>The partition's durable checkpoint as last seen: every batch at or below it is in the state.</summary>
    [Id(0)] public long Checkpoint { get; set; }
    /// <summary>Batches above the checkpoint already applied.</summary>
    [Id(1)] public HashSet<long> Applied { get; set; } = new();

    /// <summary>
    /// The progress of <paramref name="partition"/>, learning the partition's durable checkpoint:
    /// batches at or below it can never be sent again, so their ids are forgotten.
    /// </summary>
    public static PartitionProgress Of(Dictionary<int, PartitionProgress> all, int partition, long partitionCheckpoint)
    {
        if (!all.TryGetValue(partition, out var progress))
        {
            progress = new PartitionProgress();
            all[partition] = progress;
        }
        if (partitionCheckpoint > progress.Checkpoint)
        {
            progress.Checkpoint = partitionCheckpoint;
            progress.Applied.RemoveWhere(b => b <= partitionCheckpoint);
        }
        return progress;
    }

    /// <summary>
    /// Records all of <paramref name="batchIds"/> as applied when none of them is held yet
    /// (<see cref="ApplyOutcome.Applied"/>: add the delta); otherwise records nothing.
    /// </summary>
    public ApplyOutcome TryApplyAll(ImmutableArray<long> batchIds)
    {
        int held = 0;
        foreach (var b in batchIds)
        {
            if (b <= Checkpoint || Applied.Contains(b))
            {
                held++;
            }
        }
        if (held > 0)
        {
            return held == batchIds.Length ? ApplyOutcome.AlreadyApplied : ApplyOutcome.Partial;
        }
        foreach (var b in batchIds)
        {
            Applied.Add(b);
        }
        return ApplyOutcome.Applied;
    }

    /// <summary>The expected batches this state does not hold.</summary>
    public ImmutableArray<long> Missing(ImmutableArray<long> expected) =>
        expected.Where(b => b > Checkpoint && !Applied.Contains(b)).ToImmutableArray();
}

/// <summary>The persisted state of an aggregate grain (serialized with the Orleans serializer: keep ids stable).</summary>
[GenerateSerializer]
public sealed class AggregateState
{
    [Id(0)] public int SchemaVersion { get; set; } = 1;
    [Id(1)] public Dictionary<SeriesKey, HistogramAccumulator> Series { get; set; } = new();
    [Id(2)] public Dictionary<string, MetricLayout> Layouts { get; set; } = new(StringComparer.Ordinal);
    [Id(3)] public Dictionary<int, PartitionProgress> Progress { get; set; } = new();
    [Id(4)] public long Pings { get; set; }
    [Id(5)] public long DataVersion { get; set; }
}
