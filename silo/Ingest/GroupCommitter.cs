using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Ingest;

/// <summary>The outcome of landing one submission.</summary>
public enum LandingOutcome
{
    Stored,
    Duplicate,
}

/// <summary>
/// Group commit (docs/exactly-once.md): concurrent submissions wait a few milliseconds for company, are
/// written by one INSERT, and are all answered when it commits. The prepared pings of the rows
/// that were new go straight to the <see cref="AggregationFeeder"/>, so a body is parsed once.
/// </summary>
public sealed partial class GroupCommitter : BackgroundService
{
    // Submissions waiting for a group commit. A lock-free queue plus a wake-up that only the first
    // submission after a writer woke pays for: a channel takes a lock on every write, and under 64
    // concurrent submitters on two cores that lock's spinning was ≈ 8 % of the silo's profile samples
    // (docs/benchmarks.md, "A scanner for histograms, a lock-free group-commit queue"). Every entry is a request waiting for its own answer, so the queue never
    // holds more than the requests in flight.
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _wakePending; // 1 from a wake-up's release until a writer takes it and looks at the queue
    private readonly ILandingLog _log;
    private readonly AggregationFeeder _feeder;
    private readonly IngestOptions _options;
    private readonly ILogger<GroupCommitter> _logger;
    private int _failedCommits; // since the last commit that succeeded

    public GroupCommitter(ILandingLog log, AggregationFeeder feeder, IOptions<IngestOptions> options, ILogger<GroupCommitter> logger)
    {
        _log = log;
        _feeder = feeder;
        _options = options.Value;
        _logger = logger;
    }

    private sealed record Pending(LandingEntry Entry, PingAggregates? Ping, TaskCompletionSource<LandingOutcome> Done);

    /// <summary>Lands one submission; completes when it is durably stored (or found to be a duplicate).</summary>
    public async Task<LandingOutcome> LandAsync(LandingEntry entry, PingAggregates? ping, CancellationToken ct)
    {
        var done = new TaskCompletionSource<LandingOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        ct.ThrowIfCancellationRequested();
        _queue.Enqueue(new Pending(entry, ping, done));
        Wake();
        return await done.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.GroupCommitWriters).Select(_ => Task.Run(() => WriterLoopAsync(stoppingToken), stoppingToken)));

    // Wakes one writer unless a wake-up is already pending: a writer that takes it clears the flag
    // before draining, so a submission queued after that wakes a writer again.
    private void Wake()
    {
        if (Interlocked.CompareExchange(ref _wakePending, 1, 0) == 0)
        {
            _wake.Release();
        }
    }

    private async Task WriterLoopAsync(CancellationToken ct)
    {
        var batch = new List<Pending>(_options.GroupCommitMaxBatch);
        while (true)
        {
            await _wake.WaitAsync(ct);
            // A full fence, not a release store: the flag must read 0 to a submitter before this
            // writer looks at the queue, or a submission enqueued meanwhile could find the flag still
            // set (no wake-up) while this writer found the queue empty.
            Interlocked.Exchange(ref _wakePending, 0);
            batch.Clear();
            var deadline = DateTime.UtcNow.AddMilliseconds(_options.GroupCommitDelayMs);
            while (batch.Count < _options.GroupCommitMaxBatch)
            {
                if (_queue.TryDequeue(out var item))
                {
                    batch.Add(item);
                    continue;
                }
                var wait = deadline - DateTime.UtcNow;
                if (batch.Count == 0 || wait <= TimeSpan.Zero)
                {
                    break;
                }
                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, ct);
            }
            if (!_queue.IsEmpty)
            {
                Wake(); // a full batch left some behind: another writer (or this one, next) takes them
            }
            if (batch.Count > 0)
            {
                await CommitAsync(batch, ct);
            }
        }
    }

    private async Task CommitAsync(List<Pending> batch, CancellationToken ct)
    {
        // The same docId twice in one group: the first is stored, the rest are duplicates.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var unique = new List<Pending>(batch.Count);
        foreach (var p in batch)
        {
            if (seen.Add(p.Entry.DocId))
            {
                unique.Add(p);
            }
            else
            {
                p.Done.TrySetResult(LandingOutcome.Duplicate);
            }
        }
        AppendResult result;
        try
        {
            result = await _log.AppendAsync(unique.Select(p => p.Entry).ToList(), ct);
        }
        catch (Exception e)
        {
            // Submitters retry (503 answers, imports back off): log an outage once, not every failed retry.
            if (Interlocked.Increment(ref _failedCommits) == 1)
            {
                LogCommitFailed(_logger, unique.Count, e);
            }
            foreach (var p in unique)
            {
                p.Done.TrySetException(new LandingUnavailableException("the landing log is unavailable", e));
            }
            return;
        }
        if (Volatile.Read(ref _failedCommits) > 0 && Interlocked.Exchange(ref _failedCommits, 0) is > 0 and var failed)
        {
            LogCommitsResumed(_logger, failed);
        }
        // The whole batch goes to the feeder in one call: a batch is applied whole or not at all.
        var rows = new List<AggregationFeeder.Row>(unique.Count);
        for (int i = 0; i < unique.Count; i++)
        {
            if (result.Inserted[i] && unique[i].Ping is { } ping)
            {
                rows.Add(new AggregationFeeder.Row(unique[i].Entry.Partition, unique[i].Entry.ReceivedAt, ping));
            }
        }
        if (rows.Count > 0)
        {
            _feeder.AddBatch(result.BatchId, rows);
        }
        for (int i = 0; i < unique.Count; i++)
        {
            unique[i].Done.TrySetResult(result.Inserted[i] ? LandingOutcome.Stored : LandingOutcome.Duplicate);
        }
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Error, Message = "Group commit of {Count} submissions failed; they were answered 503 or are retried by their import (further failures are counted until a commit succeeds)")]
    private static partial void LogCommitFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Group commits succeed again after {Failed} failed ones")]
    private static partial void LogCommitsResumed(ILogger logger, int failed);
}

/// <summary>The landing log could not store a submission; the client may retry (503).</summary>
public sealed class LandingUnavailableException(string message, Exception inner) : Exception(message, inner);
