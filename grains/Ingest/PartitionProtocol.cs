using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Ingest;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// The exactly-once protocol of one landing-log partition, without Orleans: applying pushed batches,
/// reading back late or lost ones (recovery), moving the durable checkpoint, and the pause/seal
/// used by reprocessing. <see cref="PartitionGrain"/> hosts it; docs/exactly-once.md describes the
/// invariants and every failure case.
/// </summary>
/// <remarks>Not thread-safe: the host calls it one call at a time (a grain is single-threaded).</remarks>
public sealed partial class PartitionProtocol
{
    private const int ListLimit = 2000;

    private readonly int _partition;
    private readonly ILandingLog _log;
    private readonly IPartitionPeers _peers;
    private readonly IngestOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Batches above the checkpoint that are applied, with the aggregates they went to and when.
    private readonly Dictionary<long, AppliedBatch> _applied = new();
    private readonly HashSet<string> _registeredKeys = new(StringComparer.Ordinal);

    // Every batch of this partition at or below this id that exists in the log is applied (in
    // _applied, or at or below the checkpoint). Polls list from here, so a listing covers the last
    // few seconds, not everything since the checkpoint; the checkpoint may move up to it.
    private long _knownThrough;
    private DateTimeOffset _lastCheckpointAttempt = DateTimeOffset.MinValue;
    private double _lagSeconds;
    private int _pendingBatches;
    private long _recovered;
    private long _undecodable;
    private string? _pausedBy;
    private DateTimeOffset _pausedUntil;

    private sealed record AppliedBatch(ImmutableArray<string> Targets, DateTimeOffset AppliedAt);

    public PartitionProtocol(int partition, long checkpoint, long batchesApplied, ILandingLog log, IPartitionPeers peers,
        IngestOptions options, TimeProvider time, ILogger logger)
    {
        _partition = partition;
        Checkpoint = checkpoint;
        BatchesApplied = batchesApplied;
        _log = log;
        _peers = peers;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Every batch of this partition at or below it is applied and persisted by its aggregates.</summary>
    public long Checkpoint { get; private set; }

    public long BatchesApplied { get; private set; }

    /// <summary>Who holds the pause (a reprocessing job), or null.</summary>
    public string? PausedBy => _pausedBy;

    /// <summary>
    /// How long the oldest applied batch above the checkpoint has waited for it (0 when the checkpoint
    /// covers everything applied): what a crash now would make the partition read again.
    /// </summary>
    public double CheckpointAgeSeconds
    {
        get
        {
            if (_applied.Count == 0)
            {
                return 0;
            }
            var oldest = _applied.Values.Min(a => a.AppliedAt);
            return Math.Max(0, (_time.GetUtcNow() - oldest).TotalSeconds);
        }
    }

    public PartitionStatus Status() => new()
    {
        Partition = _partition,
        Checkpoint = Checkpoint,
        PendingBatches = _pendingBatches,
        LagSeconds = _lagSeconds,
        BatchesApplied = BatchesApplied,
        BatchesRecovered = _recovered,
        Paused = _pausedBy is not null,
        PausedBy = _pausedBy,
        CheckpointAgeSeconds = CheckpointAgeSeconds,
        AppliedAboveCheckpoint = _applied.Count,
        UndecodableRows = _undecodable,
    };

    /// <summary>Applies batches decoded by the silo that landed them; batches already applied (or a push while paused) are ignored.</summary>
    public async Task PushAsync(ImmutableArray<PushedBatch> batches)
    {
        if (_pausedBy is not null)
        {
            return; // the log still holds them; they are read back after Resume
        }
        foreach (var batch in batches)
        {
            // A push covers whole batches; if any of them was already applied (read from the log
            // because the push came late) the rest are read from the log too, one by one.
            if (batch.BatchIds.IsEmpty || batch.BatchIds.Any(b => b <= Checkpoint || _applied.ContainsKey(b)))
            {
                continue;
            }
            await ApplyAsync(batch.BatchIds, new BatchContent(batch.Deltas, batch.CrashDeltas));
        }
    }

    /// <summary>
    /// One poll: reads back batches whose push is late (older than the push grace) or lost, and every
    /// <c>CheckpointSeconds</c> moves the checkpoint as far as the aggregates have made batches durable.
    /// <paramref name="force"/> reads everything at once and checkpoints now (tests, reprocessing).
    /// </summary>
    public async Task PollAsync(bool force, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (_pausedBy is not null && now > _pausedUntil)
        {
            LogLeaseExpired(_logger, _partition, _pausedBy);
            ForgetApplied();
            _pausedBy = null;
        }
        if (_pausedBy is not null)
        {
            return;
        }
        var grace = force ? TimeSpan.Zero : TimeSpan.FromMilliseconds(_options.PushGraceMs);
        long from = Math.Max(Checkpoint, _knownThrough);
        // Read before listing: batches at or below the horizon have all committed (or never will),
        // so the listing sees every one of them.
        long horizon = await _log.GetSettledHorizonAsync(ct);
        var batches = await _log.ListBatchesAsync(_partition, from, ListLimit, ct);
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
        if (force || now - _lastCheckpointAttempt >= TimeSpan.FromSeconds(_options.CheckpointSeconds))
        {
            _lastCheckpointAttempt = now;
            await CheckpointAsync(upTo: _knownThrough, force, ct);
        }
        await _peers.ReportLagAsync(_lagSeconds);
    }

    /// <summary>
    /// Stops applying pushes and log reads for <paramref name="owner"/> until <see cref="Resume"/> or
    /// until the lease runs out (a crashed coordinator cannot leave the partition paused). Pausing again by
    /// the same owner extends the lease. False (and nothing changed) while another owner's lease runs.
    /// </summary>
    public bool Pause(string owner, TimeSpan lease)
    {
        var now = _time.GetUtcNow();
        if (_pausedBy is not null && _pausedBy != owner && now <= _pausedUntil)
        {
            return false;
        }
        _pausedBy = owner;
        _pausedUntil = now + lease;
        return true;
    }

    /// <summary>
    /// Extends <paramref name="owner"/>'s pause; false when the partition is no longer paused by it
    /// (the lease ran out and the partition went on applying), in which case nothing is changed.
    /// </summary>
    public bool RenewPause(string owner, TimeSpan lease)
    {
        var now = _time.GetUtcNow();
        if (_pausedBy != owner || now > _pausedUntil)
        {
            return false;
        }
        _pausedUntil = now + lease;
        return true;
    }

    /// <summary>While paused by <paramref name="owner"/>: applies every landed batch up to <paramref name="batchId"/> and moves the checkpoint exactly there.</summary>
    public async Task SealAtAsync(string owner, long batchId, CancellationToken ct)
    {
        if (_pausedBy != owner || _time.GetUtcNow() > _pausedUntil)
        {
            throw new InvalidOperationException($"partition {_partition} is not paused by {owner}");
        }
        if (batchId <= Checkpoint)
        {
            return;
        }
        var listed = await _log.ListBatchesAsync(_partition, Checkpoint, int.MaxValue, ct);
        foreach (var b in listed)
        {
            if (b.BatchId <= batchId && !_applied.ContainsKey(b.BatchId))
            {
                await RecoverAsync(b.BatchId, targetFilter: null, ct);
            }
        }
        long durable = await DurableThroughAsync(batchId, force: true, ct);
        if (durable < batchId)
        {
            throw new InvalidOperationException($"partition {_partition}: aggregates made batches only up to {durable} of {batchId} durable; try again");
        }
        await MoveCheckpointAsync(batchId, ct);
    }

    /// <summary>Ends <paramref name="owner"/>'s pause; everything above the checkpoint is read again (aggregates may have been replaced).</summary>
    public void Resume(string owner)
    {
        if (_pausedBy != owner)
        {
            return;
        }
        _pausedBy = null;
        ForgetApplied();
    }

    private void ForgetApplied()
    {
        _applied.Clear();
        _knownThrough = 0;
    }

    private async Task CheckpointAsync(long upTo, bool force, CancellationToken ct)
    {
        if (upTo <= Checkpoint)
        {
            return;
        }
        long durable = await DurableThroughAsync(upTo, force, ct);
        if (durable > Checkpoint)
        {
            await MoveCheckpointAsync(durable, ct);
        }
    }

    /// <summary>
    /// Asks every aggregate that received a batch at or below <paramref name="upTo"/> to persist, re-sending
    /// batches an aggregate lost in an unclean restart, and returns the highest id C such that every batch
    /// at or below C is durable in all its aggregates. Aggregates write on their own clocks (at most once per
    /// <c>PersistSeconds</c>), so C is where the earliest not-yet-written batch begins: the checkpoint moves
    /// in steps as each aggregate writes, instead of waiting for a moment when all have written at once.
    /// </summary>
    private async Task<long> DurableThroughAsync(long upTo, bool force, CancellationToken ct)
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
        var notDurable = await Task.WhenAll(expected.Select(kv => NotDurableAsync(kv.Key, [.. kv.Value], force, ct)));
        long firstNotDurable = long.MaxValue;
        foreach (var batches in notDurable)
        {
            foreach (var b in batches)
            {
                firstNotDurable = Math.Min(firstNotDurable, b);
            }
        }
        return firstNotDurable == long.MaxValue ? upTo : Math.Min(upTo, firstNotDurable - 1);
    }

    // The expected batches one aggregate does not hold durably after asking it to persist.
    private async Task<IEnumerable<long>> NotDurableAsync(string target, ImmutableArray<long> expected, bool force, CancellationToken ct)
    {
        try
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                var outcome = await _peers.PersistAsync(target, expected, force);
                if (outcome.Missing.IsEmpty)
                {
                    return outcome.Durable ? [] : outcome.Pending.IsDefaultOrEmpty ? expected : outcome.Pending;
                }
                // The aggregate restarted without persisting these batches: send them again.
                LogResending(_logger, _partition, target, outcome.Missing.Length);
                foreach (var batchId in outcome.Missing)
                {
                    await RecoverAsync(batchId, target, ct);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An aggregate that cannot be reached holds the checkpoint back; the next round asks again.
            LogPersistFailed(_logger, _partition, target, e);
        }
        return expected;
    }

    private async Task MoveCheckpointAsync(long checkpoint, CancellationToken ct)
    {
        await _peers.SaveAsync(checkpoint, BatchesApplied, ct);
        Checkpoint = checkpoint;
        foreach (var batchId in _applied.Keys.Where(b => b <= checkpoint).ToList())
        {
            _applied.Remove(batchId);
        }
    }

    private async Task RecoverAsync(long batchId, string? targetFilter, CancellationToken ct)
    {
        var rows = await _log.ReadBatchAsync(_partition, batchId, ct);
        var content = _peers.Decode(rows);
        if (content.Undecodable > 0 && targetFilter is null)
        {
            _undecodable += content.Undecodable;
            LogUndecodable(_logger, _partition, batchId, content.Undecodable, rows.Count, content.FirstError ?? "");
        }
        var ids = ImmutableArray.Create(batchId);
        if (targetFilter is not null)
        {
            // Re-sending to one aggregate that lost the batch: an empty delta still records the batch.
            if (targetFilter.StartsWith(CrashKeyPrefix, StringComparison.Ordinal))
            {
                var crash = content.CrashDeltas.TryGetValue(targetFilter, out var c) ? c : new Telemetry.Contracts.Crash.CrashDelta();
                await _peers.ApplyCrashAsync(targetFilter, ids, Checkpoint, crash);
            }
            else
            {
                var only = content.Deltas.TryGetValue(targetFilter, out var d) ? d : ImmutableArray<PingHistograms>.Empty;
                await _peers.ApplyAsync(targetFilter, ids, Checkpoint, only);
            }
            return;
        }
        _recovered++;
        await ApplyAsync(ids, content);
    }

    private async Task ApplyAsync(ImmutableArray<long> batchIds, BatchContent content)
    {
        long checkpoint = Checkpoint;
        var outcomes = await Task.WhenAll(
            content.Deltas.Select(kv => _peers.ApplyAsync(kv.Key, batchIds, checkpoint, kv.Value))
            .Concat(content.CrashDeltas.Select(kv => _peers.ApplyCrashAsync(kv.Key, batchIds, checkpoint, kv.Value))));
        if (outcomes.Contains(ApplyOutcome.Partial))
        {
            // An aggregate held some of these batches (sent before in another grouping): nothing is
            // recorded, so the poll reads them from the log one by one; aggregates that applied
            // this delta answer AlreadyApplied then.
            LogPartial(_logger, _partition, batchIds.Length);
            return;
        }
        var applied = new AppliedBatch(content.Targets, _time.GetUtcNow());
        foreach (var batchId in batchIds)
        {
            _applied[batchId] = applied; // the batches of one push went to the same aggregates
        }
        BatchesApplied += batchIds.Length;
        var fresh = content.Deltas.Keys.Where(k => !_registeredKeys.Contains(k)).ToImmutableArray();
        if (!fresh.IsEmpty)
        {
            await _peers.RegisterAggregatesAsync(fresh);
            _registeredKeys.UnionWith(fresh);
        }
    }

    /// <summary>Keys of crash aggregates start with this; the others are histogram aggregates.</summary>
    public const string CrashKeyPrefix = "crash\u001f";

    [LoggerMessage(EventId = 2004, Level = LogLevel.Information, Message = "Partition {Partition}: a push of {Count} batches overlapped batches already applied; reading them from the log one by one")]
    private static partial void LogPartial(ILogger logger, int partition, int count);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Partition {Partition}: the pause lease of {Owner} expired without Resume; applying again")]
    private static partial void LogLeaseExpired(ILogger logger, int partition, string owner);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Partition {Partition}: aggregate {Target} lacks {Count} batches after a restart; sending them again")]
    private static partial void LogResending(ILogger logger, int partition, string target, int count);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Partition {Partition}: aggregate {Target} did not answer the persist request; the checkpoint waits for it")]
    private static partial void LogPersistFailed(ILogger logger, int partition, string target, Exception exception);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "Partition {Partition}: {Count} of the {Rows} rows of batch {Batch} read back from the landing log no longer decode and are skipped (first: {Error}); counted in telemetry_recovery_undecodable_rows_total")]
    private static partial void LogUndecodable(ILogger logger, int partition, long batch, int count, int rows, string error);
}
