using System.Collections.Immutable;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Which applied batches an aggregate has not written yet, and when it last wrote. Aggregates are
/// large and a write stores every series changed since the last one (most of them, in an aggregate
/// receiving pings of every kind; docs/ingest-cost.md, "Aggregate state writes"), so an aggregate
/// writes at most once per <c>Ingest:PersistSeconds</c>, whatever the number of partitions asking.
/// </summary>
public sealed class PersistTracker(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<int, HashSet<long>> _unwritten = new();
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;

    public bool Dirty { get; private set; }

    public void Applied(int partition, ImmutableArray<long> batchIds)
    {
        if (!_unwritten.TryGetValue(partition, out var set))
        {
            _unwritten[partition] = set = new HashSet<long>();
        }
        set.UnionWith(batchIds);
        Dirty = true;
    }

    /// <summary>Marks a change that is not a batch (reprocessing replaces the content and writes at once).</summary>
    public void Changed() => Dirty = true;

    /// <summary>True when one of <paramref name="expected"/> is applied but not yet written.</summary>
    public bool Unwritten(int partition, ImmutableArray<long> expected) =>
        _unwritten.TryGetValue(partition, out var set) && expected.Any(set.Contains);

    public bool MayWrite(TimeSpan minInterval) => _time.GetUtcNow() - _lastWrite >= minInterval;

    /// <summary>
    /// The Persist protocol shared by the aggregate grains: report lost batches, or make the expected
    /// ones durable with <paramref name="write"/> — at most once per <paramref name="minInterval"/>
    /// unless <paramref name="force"/>d.
    /// </summary>
    public async Task<Telemetry.Contracts.Aggregates.PersistOutcome> PersistAsync(PartitionProgress progress, int partition,
        ImmutableArray<long> expected, bool force, TimeSpan minInterval, Func<Task> write)
    {
        var missing = progress.Missing(expected);
        if (!missing.IsEmpty)
        {
            return new Telemetry.Contracts.Aggregates.PersistOutcome { Missing = missing };
        }
        if (!Unwritten(partition, expected))
        {
            return Telemetry.Contracts.Aggregates.PersistOutcome.Written;
        }
        if (!force && !MayWrite(minInterval))
        {
            var unwritten = _unwritten[partition];
            return Telemetry.Contracts.Aggregates.PersistOutcome.NotYet([.. expected.Where(unwritten.Contains)]);
        }
        await write();
        Written();
        return Telemetry.Contracts.Aggregates.PersistOutcome.Written;
    }

    public void Written()
    {
        _unwritten.Clear();
        _lastWrite = _time.GetUtcNow();
        Dirty = false;
    }
}
