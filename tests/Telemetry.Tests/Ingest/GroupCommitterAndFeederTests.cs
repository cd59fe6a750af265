using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>The group committer (one transaction for many submissions) and the aggregation feeder (one push per partition per interval).</summary>
public sealed class GroupCommitterAndFeederTests
{
    private static readonly Lazy<PingAggregates> Prepared = new(() => PingAggregates.Of(SubmissionDecoder.Decode(IngestTestData.RealPing, false, 16 << 20,
        SubmissionPath.Parse("doc-1/" + IngestTestData.RealPingPathRest), new DateOnly(2026, 11, 30), IngestTestData.Snapshot, DecodeSettings.Default)));

    private static LandingEntry Entry(string docId, int partition = 0) =>
        new(docId, partition, new DateOnly(2026, 11, 30), DateTimeOffset.UtcNow, docId + "/" + IngestTestData.RealPingPathRest, new byte[] { 1, 2, 3 }, null);

    private sealed class RecordingLog : LandingLogStub
    {
        private readonly ConcurrentDictionary<string, bool> _stored = new(StringComparer.Ordinal);
        private long _batch;
        public ConcurrentQueue<int> Commits { get; } = new();
        public volatile bool Failing;
        public TimeSpan CommitTime { get; init; } = TimeSpan.FromMilliseconds(20);

        public override async Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
        {
            await Task.Delay(CommitTime, ct);
            if (Failing)
            {
                throw new InvalidOperationException("connection refused");
            }
            Commits.Enqueue(entries.Count);
            var inserted = entries.Select(e => _stored.TryAdd(e.DocId, true)).ToArray();
            return new AppendResult(Interlocked.Increment(ref _batch), inserted);
        }

        public override Task<long> CountAsync(CancellationToken ct) => Task.FromResult((long)_stored.Count);
    }

    private sealed class Pushes
    {
        public ConcurrentQueue<(int Partition, PushedBatch Batch)> All { get; } = new();
        public volatile bool Failing;

        public Task PushAsync(int partition, ImmutableArray<PushedBatch> batches)
        {
            if (Failing)
            {
                throw new TimeoutException("partition unreachable");
            }
            foreach (var b in batches)
            {
                All.Enqueue((partition, b));
            }
            return Task.CompletedTask;
        }
    }

    private static (GroupCommitter Committer, AggregationFeeder Feeder, Pushes Pushes) Create(RecordingLog log, IngestOptions options)
    {
        var pushes = new Pushes();
        var feeder = new AggregationFeeder(pushes.PushAsync, Options.Create(options), NullLogger<AggregationFeeder>.Instance);
        var committer = new GroupCommitter(log, feeder, Options.Create(options), NullLogger<GroupCommitter>.Instance);
        return (committer, feeder, pushes);
    }

    [Fact]
    public async Task Concurrent_submissions_share_commits_and_each_is_answered_after_its_commit()
    {
        var log = new RecordingLog();
        var (committer, feeder, pushes) = Create(log, new IngestOptions { GroupCommitMaxBatch = 50, GroupCommitDelayMs = 10, GroupCommitWriters = 2 });
        await committer.StartAsync(CancellationToken.None);
        try
        {
            var outcomes = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => committer.LandAsync(Entry($"doc-{i}", i % 4), Prepared.Value, CancellationToken.None)));

            Assert.All(outcomes, o => Assert.Equal(LandingOutcome.Stored, o));
            Assert.Equal(400, log.Commits.Sum());
            Assert.All(log.Commits, n => Assert.InRange(n, 1, 50));
            Assert.True(log.Commits.Count <= 100, $"{log.Commits.Count} commits for 400 submissions");

            await feeder.FlushAsync();
            // Each partition got the batches with its rows in one push, and every stored ping exactly once.
            Assert.Equal(4, pushes.All.Count);
            Assert.Equal(400, pushes.All.Sum(p => p.Batch.Pings));
            Assert.All(pushes.All, p => Assert.Equal(p.Batch.BatchIds.Order(), p.Batch.BatchIds));
            await feeder.FlushAsync();
            Assert.Equal(4, pushes.All.Count);
        }
        finally
        {
            await committer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Submissions_arriving_alone_or_behind_a_full_batch_are_each_answered()
    {
        // One submitter waiting for each answer before sending the next (the lone submission a quiet
        // silo sees), from several threads at once, and more submissions than one batch holds: a
        // wake-up lost between a writer and a submitter would leave one waiting forever.
        var log = new RecordingLog();
        var (committer, _, _) = Create(log, new IngestOptions { GroupCommitMaxBatch = 8, GroupCommitDelayMs = 1, GroupCommitWriters = 2 });
        await committer.StartAsync(CancellationToken.None);
        try
        {
            var lone = Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(async () =>
            {
                for (int i = 0; i < 150; i++)
                {
                    Assert.Equal(LandingOutcome.Stored, await committer.LandAsync(Entry($"lone-{t}-{i}"), Prepared.Value, CancellationToken.None));
                }
            })));
            var burst = Task.WhenAll(Enumerable.Range(0, 100).Select(i => committer.LandAsync(Entry($"burst-{i}"), Prepared.Value, CancellationToken.None)));
            await Task.WhenAll(lone, burst).WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(700, log.Commits.Sum());
            Assert.All(log.Commits, n => Assert.InRange(n, 1, 8));
        }
        finally
        {
            await committer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_docId_seen_twice_or_already_stored_is_a_duplicate_and_is_not_aggregated()
    {
        var log = new RecordingLog { CommitTime = TimeSpan.FromMilliseconds(50) };
        var (committer, feeder, pushes) = Create(log, new IngestOptions { GroupCommitDelayMs = 30, GroupCommitWriters = 1 });
        await committer.StartAsync(CancellationToken.None);
        try
        {
            var first = await committer.LandAsync(Entry("a"), Prepared.Value, CancellationToken.None);
            var same = await Task.WhenAll(
                committer.LandAsync(Entry("b"), Prepared.Value, CancellationToken.None),
                committer.LandAsync(Entry("b"), Prepared.Value, CancellationToken.None),
                committer.LandAsync(Entry("a"), Prepared.Value, CancellationToken.None));

            Assert.Equal(LandingOutcome.Stored, first);
            Assert.Equal([LandingOutcome.Stored, LandingOutcome.Duplicate, LandingOutcome.Duplicate], same.Order().ToArray());
            await feeder.FlushAsync();
            Assert.Equal(2, pushes.All.Sum(p => p.Batch.Pings));
        }
        finally
        {
            await committer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_failed_commit_answers_every_waiter_unavailable_feeds_nothing_and_later_commits_work()
    {
        var log = new RecordingLog { Failing = true };
        var (committer, feeder, pushes) = Create(log, new IngestOptions());
        await committer.StartAsync(CancellationToken.None);
        try
        {
            var failed = Enumerable.Range(0, 5).Select(i => committer.LandAsync(Entry($"x-{i}"), Prepared.Value, CancellationToken.None)).ToList();
            foreach (var t in failed)
            {
                await Assert.ThrowsAsync<LandingUnavailableException>(() => t);
            }
            await feeder.FlushAsync();
            Assert.Empty(pushes.All);

            log.Failing = false;
            Assert.Equal(LandingOutcome.Stored, await committer.LandAsync(Entry("x-0"), Prepared.Value, CancellationToken.None));
            await feeder.FlushAsync();
            Assert.Equal(1, Assert.Single(pushes.All).Batch.Pings);
        }
        finally
        {
            await committer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_feeder_pushes_whole_batches_per_partition_with_their_oldest_time_and_survives_a_failed_push()
    {
        var pushes = new Pushes();
        var feeder = new AggregationFeeder(pushes.PushAsync, Options.Create(new IngestOptions { Partitions = 4 }), NullLogger<AggregationFeeder>.Instance);
        var t0 = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        feeder.AddBatch(7, [new(1, t0.AddSeconds(2), Prepared.Value), new(2, t0.AddSeconds(1), Prepared.Value)]);
        feeder.AddBatch(5, [new(1, t0, Prepared.Value), new(1, t0.AddSeconds(3), Prepared.Value)]);

        await feeder.FlushAsync();

        var byPartition = pushes.All.ToDictionary(p => p.Partition, p => p.Batch);
        Assert.Equal([1, 2], byPartition.Keys.Order());
        Assert.Equal([5L, 7L], byPartition[1].BatchIds.ToArray());
        Assert.Equal(3, byPartition[1].Pings);
        Assert.Equal(t0, byPartition[1].OldestReceivedAt);
        Assert.Equal([7L], byPartition[2].BatchIds.ToArray());
        Assert.NotEmpty(byPartition[1].Deltas);

        pushes.Failing = true;
        feeder.AddBatch(9, [new(3, t0, Prepared.Value)]);
        await feeder.FlushAsync(); // logged; the partition reads batch 9 from the log
        pushes.Failing = false;
        await feeder.FlushAsync();
        Assert.Equal(2, pushes.All.Count);
    }
}
