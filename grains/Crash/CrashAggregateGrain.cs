using System.Collections.Immutable;
using System.Text.Json;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Aggregates;

namespace Telemetry.Grains.Crash;

[GenerateSerializer]
public sealed class CrashAggregateState
{
    [Id(0)] public int SchemaVersion { get; set; } = 1;
    [Id(1)] public Dictionary<CrashRowKey, CrashStats> Rows { get; set; } = new();
    [Id(2)] public Dictionary<int, PartitionProgress> Progress { get; set; } = new();
    [Id(3)] public long Pings { get; set; }
}

/// <summary>
/// Crash aggregates of one (submission date, channel, build version) with every dimension
/// combination. Same exactly-once protocol as <see cref="AggregateGrain"/>; tells its date's
/// projection grain when it changed (once per projection cycle, not per batch).
/// </summary>
public sealed class CrashAggregateGrain(
    [PersistentState("crash-aggregate", StorageNames.Telemetry)] IPersistentState<CrashAggregateState> state,
    Microsoft.Extensions.Options.IOptions<Telemetry.Grains.Ingest.IngestOptions> options) : Grain, ICrashAggregateGrain
{
    private readonly PersistTracker _tracker = new();
    private bool _projectionNotified;

    async Task<ApplyOutcome> ICrashAggregateGrain.Apply(int partition, ImmutableArray<long> batchIds, long partitionCheckpoint, CrashDelta delta)
    {
        var outcome = Progress(partition, partitionCheckpoint).TryApplyAll(batchIds);
        if (outcome != ApplyOutcome.Applied)
        {
            return outcome;
        }
        var rows = state.State.Rows;
        foreach (var (key, stats) in delta.Rows)
        {
            if (rows.TryGetValue(key, out var existing))
            {
                existing.Add(stats);
            }
            else
            {
                rows[key] = stats.Clone();
            }
        }
        state.State.Pings += delta.Pings;
        _tracker.Applied(partition, batchIds);
        await NotifyProjectionAsync();
        return ApplyOutcome.Applied;
    }

    Task<PersistOutcome> ICrashAggregateGrain.Persist(int partition, ImmutableArray<long> expectedBatches, bool force) =>
        _tracker.PersistAsync(Progress(partition, 0), partition, expectedBatches, force,
            TimeSpan.FromSeconds(options.Value.PersistSeconds), () => state.WriteStateAsync());

    Task<ImmutableArray<CrashRow>> ICrashAggregateGrain.GetRows()
    {
        _projectionNotified = false; // the next change must tell the projection again
        var (submissionDate, _, _) = CrashStatNames.ParseGrainKey(this.GetPrimaryKeyString());
        var rows = state.State.Rows
            .OrderBy(kv => kv.Key.ActivityDate, StringComparer.Ordinal)
            .ThenBy(kv => kv.Key.Dimensions, StringComparer.Ordinal)
            .Select(kv => new CrashRow
            {
                SubmissionDate = submissionDate,
                ActivityDate = kv.Key.ActivityDate,
                Dimensions = ParseDimensions(kv.Key.Dimensions),
                Values = ImmutableArray.Create(kv.Value.Values),
            })
            .ToImmutableArray();
        return Task.FromResult(rows);
    }

    async Task ICrashAggregateGrain.Replace(CrashDelta content, ImmutableDictionary<int, long> checkpoints)
    {
        state.State.Rows = content.Rows.ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.State.Pings = content.Pings;
        state.State.Progress = checkpoints.ToDictionary(kv => kv.Key, kv => new PartitionProgress { Checkpoint = kv.Value });
        await state.WriteStateAsync();
        _tracker.Written();
        await NotifyProjectionAsync();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_tracker.Dirty)
        {
            await state.WriteStateAsync(cancellationToken);
            _tracker.Written();
        }
    }

    private async Task NotifyProjectionAsync()
    {
        if (_projectionNotified)
        {
            return;
        }
        var key = this.GetPrimaryKeyString();
        var (submissionDate, _, _) = CrashStatNames.ParseGrainKey(key);
        await GrainFactory.GetGrain<ICrashDateGrain>(submissionDate).Changed(key);
        _projectionNotified = true;
    }

    private PartitionProgress Progress(int partition, long partitionCheckpoint) =>
        PartitionProgress.Of(state.State.Progress, partition, partitionCheckpoint);

    internal static ImmutableSortedDictionary<string, string> ParseDimensions(string json)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(json);
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            builder[p.Name] = p.Value.GetString() ?? "";
        }
        return builder.ToImmutable();
    }
}
