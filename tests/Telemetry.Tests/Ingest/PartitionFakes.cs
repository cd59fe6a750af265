using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Aggregates;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>A landing log whose every operation is unsupported until a test fake overrides it.</summary>
internal abstract class LandingLogStub : ILandingLog
{
    public bool IsDurable => true;

    public virtual Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<long> GetLastBatchIdAsync(CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<long> GetSettledHorizonAsync(CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<LandedBatch>> ListBatchesAsync(int partition, long afterBatch, int limit, CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<LandedRow>> ReadBatchAsync(int partition, long batchId, CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<IReadOnlyList<LandedRow>> ReadForRebuildAsync(int partition, long maxBatch, DateOnly? fromDate, DateOnly? toDate, (long BatchId, string DocId)? after, int limit, CancellationToken ct) =>
        throw new NotSupportedException();

    public virtual Task<DateTimeOffset?> GetReceivedAtAsync(string docId, CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<long> DeleteBeforeAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct) => throw new NotSupportedException();

    public virtual Task<long> CountAsync(CancellationToken ct) => throw new NotSupportedException();
}

/// <summary>
/// An in-memory landing log for protocol tests. A row's path names the aggregates its ping feeds
/// (comma-separated), or <c>!</c> for a row that no longer decodes.
/// </summary>
internal sealed class FakeLandingLog(FakeTimeProvider time) : LandingLogStub
{
    private readonly SortedDictionary<long, List<LandedRow>> _batches = new();
    private long _lastBatch;

    /// <summary>Batch ids at or below this are settled; null = everything handed out.</summary>
    public long? Horizon { get; set; }

    public int Reads { get; private set; }

    /// <summary>Lands a batch of rows in partition 0 with the next batch id; each row feeds the listed aggregates.</summary>
    public long Land(params string[] rowTargets)
    {
        long id = ++_lastBatch;
        _batches[id] = [.. rowTargets.Select((t, i) => new LandedRow(id, 0, $"doc-{id}-{i}", new DateOnly(2026, 11, 30), time.GetUtcNow(), t, [], null))];
        return id;
    }

    public override Task<long> GetLastBatchIdAsync(CancellationToken ct) => Task.FromResult(_lastBatch);

    public override Task<long> GetSettledHorizonAsync(CancellationToken ct) => Task.FromResult(Horizon ?? _lastBatch);

    public override Task<IReadOnlyList<LandedBatch>> ListBatchesAsync(int partition, long afterBatch, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<LandedBatch>>([.. _batches.Where(b => b.Key > afterBatch).Take(limit)
            .Select(b => new LandedBatch(b.Key, b.Value.Min(r => r.ReceivedAt)))]);

    public override Task<IReadOnlyList<LandedRow>> ReadBatchAsync(int partition, long batchId, CancellationToken ct)
    {
        Reads++;
        return Task.FromResult<IReadOnlyList<LandedRow>>(_batches.TryGetValue(batchId, out var rows) ? rows : []);
    }

    public override Task<long> CountAsync(CancellationToken ct) => Task.FromResult((long)_batches.Values.Sum(b => b.Count));

    /// <summary>The pushed form of a landed batch, as the silo that landed it would send it.</summary>
    public PushedBatch Pushed(params long[] batchIds)
    {
        var deltas = new Dictionary<string, List<PingHistograms>>(StringComparer.Ordinal);
        foreach (var id in batchIds)
        {
            foreach (var row in _batches[id])
            {
                foreach (var target in row.Path.Split(','))
                {
                    if (!deltas.TryGetValue(target, out var list))
                    {
                        deltas[target] = list = [];
                    }
                    list.Add(FakePeers.Ping);
                }
            }
        }
        return new PushedBatch
        {
            BatchIds = [.. batchIds],
            OldestReceivedAt = time.GetUtcNow(),
            Deltas = deltas.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.Ordinal),
        };
    }
}

/// <summary>
/// Aggregates with the real progress and persist bookkeeping (<see cref="PartitionProgress"/>,
/// <see cref="PersistTracker"/>) and a "durable" copy written when they persist, so a test can crash one.
/// </summary>
internal sealed class FakePeers(FakeTimeProvider time, TimeSpan persistInterval) : IPartitionPeers
{
    public static readonly PingHistograms Ping = new()
    {
        Application = "Firefox", Architecture = "x86-64", Os = "Linux", OsVersion = "6", Metrics = [], Labels = [],
        Processes = [], Sums = [], Layouts = [], Ends = [], Buckets = [], Counts = [],
    };

    public Dictionary<string, FakeAggregate> Aggregates { get; } = new(StringComparer.Ordinal);
    public List<(long Checkpoint, long BatchesApplied)> Saves { get; } = [];
    public List<string> Registered { get; } = [];
    public HashSet<string> Unreachable { get; } = new(StringComparer.Ordinal);

    public FakeAggregate this[string key] => Aggregates[key];

    private FakeAggregate Get(string key)
    {
        if (!Aggregates.TryGetValue(key, out var a))
        {
            Aggregates[key] = a = new FakeAggregate(time);
        }
        return a;
    }

    public BatchContent Decode(IReadOnlyList<LandedRow> rows)
    {
        var deltas = new Dictionary<string, List<PingHistograms>>(StringComparer.Ordinal);
        int undecodable = 0;
        foreach (var row in rows)
        {
            if (row.Path == "!")
            {
                undecodable++;
                continue;
            }
            foreach (var target in row.Path.Split(','))
            {
                if (!deltas.TryGetValue(target, out var list))
                {
                    deltas[target] = list = [];
                }
                list.Add(Ping);
            }
        }
        return new BatchContent(
            deltas.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutableArray(), StringComparer.Ordinal),
            ImmutableDictionary<string, CrashDelta>.Empty)
        { Undecodable = undecodable, FirstError = undecodable > 0 ? "bad_json: test" : null };
    }

    public Task<ApplyOutcome> ApplyAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, ImmutableArray<PingHistograms> pings) =>
        Task.FromResult(Get(aggregate).Apply(batchIds, checkpoint, pings.Length));

    public Task<ApplyOutcome> ApplyCrashAsync(string aggregate, ImmutableArray<long> batchIds, long checkpoint, CrashDelta delta) =>
        Task.FromResult(Get(aggregate).Apply(batchIds, checkpoint, (int)delta.Pings));

    public Task<PersistOutcome> PersistAsync(string aggregate, ImmutableArray<long> expected, bool force)
    {
        if (Unreachable.Contains(aggregate))
        {
            throw new TimeoutException($"{aggregate} did not answer");
        }
        return Get(aggregate).PersistAsync(expected, force, persistInterval);
    }

    public Task RegisterAggregatesAsync(ImmutableArray<string> keys)
    {
        Registered.AddRange(keys);
        return Task.CompletedTask;
    }

    public Task SaveAsync(long checkpoint, long batchesApplied, CancellationToken ct)
    {
        Saves.Add((checkpoint, batchesApplied));
        return Task.CompletedTask;
    }

    public Task ReportLagAsync(double lagSeconds) => Task.CompletedTask;
}

internal sealed class FakeAggregate(FakeTimeProvider time)
{
    private PersistTracker _tracker = new(time);
    private Dictionary<int, PartitionProgress> _progress = new();
    private Dictionary<int, PartitionProgress> _durable = new();
    private long _pings;
    private long _durablePings;

    /// <summary>Pings counted (in memory).</summary>
    public long Pings => _pings;

    /// <summary>Pings in the last written state.</summary>
    public long DurablePings => _durablePings;

    public int Writes { get; private set; }

    public ApplyOutcome Apply(ImmutableArray<long> batchIds, long checkpoint, int pings)
    {
        var outcome = PartitionProgress.Of(_progress, 0, checkpoint).TryApplyAll(batchIds);
        if (outcome == ApplyOutcome.Applied)
        {
            _pings += pings;
            _tracker.Applied(0, batchIds);
        }
        return outcome;
    }

    public Task<PersistOutcome> PersistAsync(ImmutableArray<long> expected, bool force, TimeSpan interval) =>
        _tracker.PersistAsync(PartitionProgress.Of(_progress, 0, 0), 0, expected, force, interval, () =>
        {
            _durable = Copy(_progress);
            _durablePings = _pings;
            Writes++;
            return Task.CompletedTask;
        });

    /// <summary>An unclean restart: what was not written is gone.</summary>
    public void Crash()
    {
        _progress = Copy(_durable);
        _pings = _durablePings;
        _tracker = new PersistTracker(time);
    }

    private static Dictionary<int, PartitionProgress> Copy(Dictionary<int, PartitionProgress> from) =>
        from.ToDictionary(kv => kv.Key, kv => new PartitionProgress { Checkpoint = kv.Value.Checkpoint, Applied = [.. kv.Value.Applied] });
}
