using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Ingest;

/// <summary>Durable progress of a partition.</summary>
[GenerateSerializer]
public sealed class PartitionState
{
    /// <summary>Every batch of this partition at or below this id is applied and persisted by its aggregates.</summary>
    [Id(0)] public long Checkpoint { get; set; }
    [Id(1)] public long BatchesApplied { get; set; }
}

/// <summary>
/// Hosts the <see cref="PartitionProtocol"/> of one landing-log partition: a poll timer, a keep-alive
/// reminder, and grain calls to the aggregates it feeds (docs/exactly-once.md).
/// </summary>
public sealed partial class PartitionGrain(
    [PersistentState("partition", StorageNames.Telemetry)] IPersistentState<PartitionState> state,
    ILandingLog log,
    IProbeSnapshotSource probes,
    DecodeSettings decodeSettings,
    IOptions<IngestOptions> options,
    ILogger<PartitionGrain> logger) : Grain, IPartitionGrain, IRemindable, IPartitionPeers
{
    private const string KeepAliveReminder = "keep-alive";
    private PartitionProtocol _protocol = null!;
    private IGrainTimer? _pollTimer;

    private int Partition => (int)this.GetPrimaryKeyLong();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _protocol = new PartitionProtocol(Partition, state.State.Checkpoint, state.State.BatchesApplied, log, this,
            options.Value, TimeProvider.System, logger);
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var period = TimeSpan.FromMilliseconds(options.Value.PollIntervalMs);
        _pollTimer = this.RegisterGrainTimer(static (g, ct) => g.PollAsync(force: false, ct), this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false, KeepAlive = true });
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    Task IPartitionGrain.Start() => Task.CompletedTask;

    Task IPartitionGrain.Push(ImmutableArray<PushedBatch> batches) => _protocol.PushAsync(batches);

    async Task<PartitionStatus> IPartitionGrain.CatchUp()
    {
        await PollAsync(force: true, CancellationToken.None);
        return _protocol.Status();
    }

    Task<bool> IPartitionGrain.Pause(string owner, TimeSpan lease) => Task.FromResult(_protocol.Pause(owner, lease));

    Task<bool> IPartitionGrain.RenewPause(string owner, TimeSpan lease) => Task.FromResult(_protocol.RenewPause(owner, lease));

    async Task<PartitionStatus> IPartitionGrain.SealAt(string owner, long batchId)
    {
        await _protocol.SealAtAsync(owner, batchId, CancellationToken.None);
        return _protocol.Status();
    }

    Task IPartitionGrain.Resume(string owner)
    {
        _protocol.Resume(owner);
        return Task.CompletedTask;
    }

    Task<PartitionStatus> IPartitionGrain.GetStatus() => Task.FromResult(_protocol.Status());

    private async Task PollAsync(bool force, CancellationToken ct)
    {
        try
        {
            await _protocol.PollAsync(force, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The next tick retries; nothing is lost because the checkpoint did not move.
            LogPollFailed(logger, Partition, e);
        }
    }

    BatchContent IPartitionPeers.Decode(IReadOnlyList<LandedRow> rows)
    {
        var snapshot = probes.Current;
        var builder = new DeltaBuilder();
        int undecodable = 0;
        string? firstError = null;
        foreach (var row in rows)
        {
            if (!SubmissionRows.TryDecode(row, snapshot, decodeSettings, options.Value.MaxInflatedBytes, out var ping, out var error))
            {
                undecodable++;
                firstError ??= $"{row.DocId}: {error}";
                continue;
            }
            builder.Add(ping);
        }
        return new BatchContent(builder.Build(), builder.BuildCrash()) { Undecodable = undecodable, FirstError = firstError };
    }

    Task<ApplyOutcome> IPartitionPeers.ApplyAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, ImmutableArray<PingHistograms> pings) =>
        GrainFactory.GetGrain<IAggregateGrain>(aggregate).Apply(Partition, batchIds, checkpoint, pings);

    Task<ApplyOutcome> IPartitionPeers.ApplyCrashAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, CrashDelta delta) =>
        GrainFactory.GetGrain<ICrashAggregateGrain>(aggregate).Apply(Partition, batchIds, checkpoint, delta);

    Task<PersistOutcome> IPartitionPeers.PersistAsync(string aggregate, ImmutableArray<long> expected, bool force) =>
        aggregate.StartsWith(PartitionProtocol.CrashKeyPrefix, StringComparison.Ordinal)
            ? GrainFactory.GetGrain<ICrashAggregateGrain>(aggregate).Persist(Partition, expected, force)
            : GrainFactory.GetGrain<IAggregateGrain>(aggregate).Persist(Partition, expected, force);

    Task IPartitionPeers.RegisterAggregatesAsync(ImmutableArray<string> keys) =>
        GrainFactory.GetGrain<ICatalogGrain>(0).Register(keys);

    async Task IPartitionPeers.SaveAsync(long checkpoint, long batchesApplied, CancellationToken ct)
    {
        state.State.Checkpoint = checkpoint;
        state.State.BatchesApplied = batchesApplied;
        await state.WriteStateAsync(ct);
    }

    Task IPartitionPeers.ReportLagAsync(double lagSeconds) =>
        GrainFactory.GetGrain<IIngestStatsGrain>(0).ReportLag(Partition, lagSeconds);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Partition {Partition}: poll failed, retrying on the next tick")]
    private static partial void LogPollFailed(ILogger logger, int partition, Exception exception);
}
