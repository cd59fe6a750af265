using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Aggregates;

namespace Telemetry.Tests.Aggregates;

/// <summary>When an aggregate writes its state, and what it answers a partition that asks it to persist.</summary>
public sealed class PersistTrackerTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly Dictionary<int, PartitionProgress> _progress = new();
    private int _writes;

    private Task<PersistOutcome> Persist(PersistTracker tracker, int partition, ImmutableArray<long> expected, bool force = false) =>
        tracker.PersistAsync(PartitionProgress.Of(_progress, partition, 0), partition, expected, force, Interval, () =>
        {
            _writes++;
            return Task.CompletedTask;
        });

    private PersistTracker Applied(params (int Partition, long[] Batches)[] applied)
    {
        var tracker = new PersistTracker(_time);
        foreach (var (partition, batches) in applied)
        {
            Assert.Equal(ApplyOutcome.Applied, PartitionProgress.Of(_progress, partition, 0).TryApplyAll([.. batches]));
            tracker.Applied(partition, [.. batches]);
        }
        return tracker;
    }

    [Fact]
    public async Task The_first_request_writes_at_once_and_later_ones_wait_for_the_interval_naming_what_is_pending()
    {
        var tracker = Applied((0, [1, 2]));
        Assert.True((await Persist(tracker, 0, [1, 2])).Durable);
        Assert.Equal(1, _writes);

        tracker.Applied(0, [3]);
        PartitionProgress.Of(_progress, 0, 0).TryApplyAll([3]);
        _time.Advance(TimeSpan.FromSeconds(10));
        var notYet = await Persist(tracker, 0, [1, 2, 3]);
        Assert.False(notYet.Durable);
        Assert.Equal([3L], notYet.Pending.ToArray());
        Assert.Equal(1, _writes);

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True((await Persist(tracker, 0, [1, 2, 3])).Durable);
        Assert.Equal(2, _writes);
    }

    [Fact]
    public async Task Batches_already_written_are_durable_without_a_write_and_force_writes_now()
    {
        var tracker = Applied((0, [1]), (1, [10]));
        await Persist(tracker, 0, [1]);
        Assert.True((await Persist(tracker, 1, [10])).Durable);
        Assert.Equal(1, _writes); // one write covered both partitions

        tracker.Applied(1, [11]);
        PartitionProgress.Of(_progress, 1, 0).TryApplyAll([11]);
        Assert.False((await Persist(tracker, 1, [10, 11])).Durable);
        Assert.True((await Persist(tracker, 1, [10, 11], force: true)).Durable);
        Assert.Equal(2, _writes);
    }

    [Fact]
    public async Task Expected_batches_the_state_does_not_hold_are_reported_missing_and_nothing_is_written()
    {
        var tracker = Applied((0, [1]));
        var outcome = await Persist(tracker, 0, [1, 2, 3]);
        Assert.Equal([2L, 3L], outcome.Missing.ToArray());
        Assert.False(outcome.Durable);
        Assert.Equal(0, _writes);
        Assert.True(tracker.Dirty);
    }
}
