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
/// One landing-log partition. Batches arrive pushed by the silo that landed them (already
/// decoded) or are read back from the log when a push is late or lost; each is applied once.
/// The checkpoint moves only after every aggregate touched has persisted (spec 10 invariant).
/// </summary>
public sealed partial class PartitionGrain(
    [PersistentState("partition", StorageNames.Telemetry)] IPersistentState<PartitionState> state,
    ILandingLog log,
    IProbeSnapshotSource probes,
    DecodeSettings decodeSettings,
    IOptions<IngestOptions> options,
    ILogger<PartitionGrain> logger) : Grain, IPartitionGrain, IRemindable
{
    private const string KeepAliveReminder = "keep-alive";
    private const int ListLimit = 2000;
    private readonly Dictionary<long, AppliedBatch> _applied = new();

    // Every batch of this partition at or below this id that exists in the log is applied (in
    // _applied, or at or below the checkpoint). Polls list from here, so a listing covers the last
    // few seconds, not everything since the checkpoint; the checkpoint may move up to it.
    private long _knownThrough;
    private readonly HashSet<string> _registeredKeys = new(StringComparer.Ordinal);
    private IGrainTimer? _pollTimer;
    private DateTimeOffset _lastCheckpointAttempt = DateTimeOffset.MinValue;
    private double _lagSeconds;
    private int _pendingBatches;
    private long _recovered;
    private bool _paused;
    private DateTimeOffset _pausedUntil;

    private int Partition => (int)this.GetPrimaryKeyLong();

    private sealed record AppliedBatch(ImmutableArray<string> Targets);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        var period = TimeSpan.FromMilliseconds(options.Value.PollIntervalMs);
        _pollTimer = this.RegisterGrainTimer(static (g, ct) => g.PollAsync(ct), this,
            new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false, KeepAlive = true });
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    Task IPartitionGrain.Start() => Task.CompletedTask;

    async Task IPartitionGrain.Push(ImmutableArray<PushedBatch> batches)
    {
        if (_paused)
        {
            return; // the log still holds them; they are read back after Resume
        }
        foreach (var batch in batches)
        {
            // A push covers whole batches; if any of them was already applied (read from the log
            // because the push came late) the rest are read from the log too, one by one.
            if (batch.BatchIds.IsEmpty || batch.BatchIds.Any(b => b <= state.State.Checkpoint || _applied.ContainsKey(b)))
            {
                continue;
            }
            await ApplyAsync(batch.BatchIds, batch.Deltas, batch.CrashDeltas);
        }
    }

    async Task<PartitionStatus> IPartitionGrain.CatchUp()
    {
        await PollAsync(CancellationToken.None, force: true);
        return Status();
    }

    Task<PartitionStatus> IPartitionGrain.Pause(TimeSpan lease)
    {
        _paused = true;
        _pausedUntil = DateTimeOffset.UtcNow + lease;
        return Task.FromResult(Status());
    }

    async Task<PartitionStatus> IPartitionGrain.SealAt(long batchId)
    {
        if (!_paused)
        {
            throw new InvalidOperationException("SealAt needs a paused partition");
        }
        if (batchId <= state.State.Checkpoint)
        {
            return Status();
        }
        var listed = await log.ListBatchesAsync(Partition, state.State.Checkpoint, int.MaxValue, CancellationToken.None);
        foreach (var b in listed)
        {
            if (b.BatchId <= batchId && !_applied.ContainsKey(b.BatchId))
            {
                await RecoverAsync(b.BatchId, targetFilter: null, CancellationToken.None);
            }
        }
        if (!await PersistTargetsAsync(batchId, force: true, CancellationToken.None))
        {
            throw new InvalidOperationException($"partition {Partition}: aggregates did not persist; try again");
        }
        await MoveCheckpointAsync(batchId, CancellationToken.None);
        return Status();
    }

    Task IPartitionGrain.Resume()
    {
        _paused = false;
        _applied.Clear(); // aggregates may have been replaced; everything above the checkpoint is read again
        _knownThrough = 0;
        return Task.CompletedTask;
    }

    Task<PartitionStatus> IPartitionGrain.GetStatus() => Task.FromResult(Status());

    private PartitionStatus Status() => new()
    {
        Partition = Partition,
        Checkpoint = state.State.Checkpoint,
        PendingBatches = _pendingBatches,
        LagSeconds = _lagSeconds,
        BatchesApplied = state.State.BatchesApplied,
        BatchesRecovered = _recovered,
        Paused = _paused,
    };

    private Task PollAsync(CancellationToken ct) => PollAsync(ct, force: false);

    private async Task PollAsync(CancellationToken ct, bool force)
    {
        if (_paused && DateTimeOffset.UtcNow > _pausedUntil)
        {
            LogLeaseExpired(logger, Partition);
            _paused = false;
            _applied.Clear();
            _knownThrough = 0;
        }
        if (_paused)
        {
            return;
        }
        var opts = options.Value;
        try
        {
            var now = DateTimeOffset.UtcNow;
            var grace = force ? TimeSpan.Zero : TimeSpan.FromMilliseconds(opts.PushGraceMs);
            long from = Math.Max(state.State.Checkpoint, _knownThrough);
            // Read before listing: batches at or below the horizon have all committed (or never
            // will), so the listing sees every one of them.
            long horizon = await log.GetSettledHorizonAsync(ct);
            var batches = await log.ListBatchesAsync(Partition, from, ListLimit, ct);
            DateTimeOffset? oldestPending = null;
            int pending = 0;
            long firstPending = long.MaxValue;
            foreach (var b in batches)
            {
                if (_applied.ContainsKey(b.BatchId))
                {
                    continue;
                }
                if (now - b.OldestReceivedAt >= grace)
                {
                    await RecoverAsync(b.BatchId, targetFilter: null, ct);
                }
                else
                {
                    pending++;
                    firstPending = Math.Min(firstPending, b.BatchId);
                    if (oldestPending is null || b.OldestReceivedAt < oldestPending)
                    {
                        oldestPending = b.OldestReceivedAt;
                    }
                }
            }
            long through = horizon;
            if (batches.Count >= ListLimit)
            {
                through = Math.Min(through, batches[^1].BatchId);
            }
            through = Math.Min(through, firstPending - 1);
            _knownThrough = Math.Max(_knownThrough, through);
            _pendingBatches = pending;
            _lagSeconds = oldestPending is null ? 0 : Math.Max(0, (now - oldestPending.Value).TotalSeconds);
            if (force || now - _lastCheckpointAttempt >= TimeSpan.FromSeconds(opts.CheckpointSeconds))
            {
                _lastCheckpointAttempt = now;
                await CheckpointAsync(ct);
            }
            await GrainFactory.GetGrain<IIngestStatsGrain>(0).ReportLag(Partition, _lagSeconds);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The next tick retries; nothing is lost because the checkpoint did not move.
            LogPollFailed(logger, Partition, e);
        }
    }

    private async Task CheckpointAsync(CancellationToken ct)
    {
        // Every batch of this partition up to _knownThrough that exists is applied (see PollAsync).
        long candidate = _knownThrough;
        if (candidate <= state.State.Checkpoint)
        {
            return;
        }
        if (await PersistTargetsAsync(candidate, force: false, ct))
        {
            await MoveCheckpointAsync(candidate, ct);
        }
    }

    // Makes every aggregate that received a batch at or below `upTo` persist, re-sending batches an
    // aggregate lost in an unclean restart; true when all of them hold all their batches durably.
    private async Task<bool> PersistTargetsAsync(long upTo, bool force, CancellationToken ct)
    {
        var expected = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var (batchId, applied) in _applied)
        {
            if (batchId > upTo)
            {
                continue;
            }
            foreach (var target in applied.Targets)
            {
                if (!expected.TryGetValue(target, out var list))
                {
                    expected[target] = list = new List<long>();
                }
                list.Add(batchId);
            }
        }
        var results = await Task.WhenAll(expected.Select(async kv =>
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                var outcome = IsCrashKey(kv.Key)
                    ? await GrainFactory.GetGrain<ICrashAggregateGrain>(kv.Key).Persist(Partition, kv.Value.ToImmutableArray(), force)
                    : await GrainFactory.GetGrain<IAggregateGrain>(kv.Key).Persist(Partition, kv.Value.ToImmutableArray(), force);
                var missing = outcome.Missing;
                if (missing.IsEmpty)
                {
                    return outcome.Durable; // not yet written: the next checkpoint round asks again
                }
                // The aggregate restarted without persisting these batches: send them again.
                LogResending(logger, Partition, kv.Key, missing.Length);
                foreach (var batchId in missing)
                {
                    await RecoverAsync(batchId, kv.Key, ct);
                }
            }
            return false;
        }));
        return results.All(ok => ok);
    }

    private async Task MoveCheckpointAsync(long checkpoint, CancellationToken ct)
    {
        state.State.Checkpoint = checkpoint;
        await state.WriteStateAsync(ct);
        foreach (var batchId in _applied.Keys.Where(b => b <= checkpoint).ToList())
        {
            _applied.Remove(batchId);
        }
    }

    private async Task RecoverAsync(long batchId, string? targetFilter, CancellationToken ct)
    {
        var rows = await log.ReadBatchAsync(Partition, batchId, ct);
        var snapshot = probes.Current;
        var builder = new DeltaBuilder();
        foreach (var row in rows)
        {
            if (!SubmissionRows.TryDecode(row, snapshot, decodeSettings, options.Value.MaxInflatedBytes, out var ping))
            {
                continue;
            }
            builder.Add(ping);
        }
        var deltas = builder.Build();
        var crashDeltas = builder.BuildCrash();
        var ids = ImmutableArray.Create(batchId);
        if (targetFilter is not null)
        {
            if (IsCrashKey(targetFilter))
            {
                var crash = crashDeltas.TryGetValue(targetFilter, out var c) ? c : new CrashDelta();
                await GrainFactory.GetGrain<ICrashAggregateGrain>(targetFilter).Apply(Partition, ids, state.State.Checkpoint, crash);
            }
            else
            {
                var only = deltas.TryGetValue(targetFilter, out var d) ? d : ImmutableArray<PingHistograms>.Empty;
                await GrainFactory.GetGrain<IAggregateGrain>(targetFilter).Apply(Partition, ids, state.State.Checkpoint, only);
            }
            return;
        }
        _recovered++;
        await ApplyAsync(ids, deltas, crashDeltas);
    }

    private async Task ApplyAsync(ImmutableArray<long> batchIds, ImmutableDictionary<string, ImmutableArray<PingHistograms>> deltas, ImmutableDictionary<string, CrashDelta> crashDeltas)
    {
        long checkpoint = state.State.Checkpoint;
        var outcomes = await Task.WhenAll(
            deltas.Select(kv => GrainFactory.GetGrain<IAggregateGrain>(kv.Key).Apply(Partition, batchIds, checkpoint, kv.Value))
            .Concat(crashDeltas.Select(kv => GrainFactory.GetGrain<ICrashAggregateGrain>(kv.Key).Apply(Partition, batchIds, checkpoint, kv.Value))));
        if (outcomes.Contains(ApplyOutcome.Partial))
        {
            // An aggregate held some of these batches (sent before in another grouping): nothing is
            // recorded, so the poll reads them from the log one by one; aggregates that applied
            // this delta answer AlreadyApplied then.
            LogPartial(logger, Partition, batchIds.Length);
            return;
        }
        var applied = new AppliedBatch(deltas.Keys.Concat(crashDeltas.Keys).ToImmutableArray());
        foreach (var batchId in batchIds)
        {
            _applied[batchId] = applied; // the batches of one push went to the same aggregates
        }
        state.State.BatchesApplied += batchIds.Length;
        var fresh = deltas.Keys.Where(k => !_registeredKeys.Contains(k)).ToImmutableArray();
        if (!fresh.IsEmpty)
        {
            await GrainFactory.GetGrain<ICatalogGrain>(0).Register(fresh);
            _registeredKeys.UnionWith(fresh);
        }
    }

    private static bool IsCrashKey(string key) => key.StartsWith("crash\u001f", StringComparison.Ordinal);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Partition {Partition}: a push of {Count} batches overlapped batches already applied; reading them from the log one by one")]
    private static partial void LogPartial(ILogger logger, int partition, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Partition {Partition}: pause lease expired without Resume; applying again")]
    private static partial void LogLeaseExpired(ILogger logger, int partition);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Partition {Partition}: poll failed, retrying on the next tick")]
    private static partial void LogPollFailed(ILogger logger, int partition, Exception exception);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Partition {Partition}: aggregate {Target} lacks {Count} batches after a restart; sending them again")]
    private static partial void LogResending(ILogger logger, int partition, string target, int count);
}
