using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;
using Telemetry.Contracts.Ingest;
using Telemetry.Contracts.Jobs;
using Telemetry.Grains.Ingest;
using Telemetry.Grains.Registry;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Rebuilds the aggregates of a submission-date range from the raw rows of the landing log with the
/// current probe definitions, like the seed's backfill. Idempotent: running it twice gives the same
/// aggregates.
/// <list type="number">
/// <item>Pause every partition and take H = the last batch id handed out; wait until H is settled.</item>
/// <item>Seal every partition at H: all batches up to H applied and persisted, checkpoint = H.</item>
/// <item>Rebuild from rows up to H: the submission-date aggregates of the range, and every build-id
/// aggregate that a row of the range contributes to (from all its rows, in or out of the range).</item>
/// <item>Replace those aggregates (as of H), resume the partitions; they read everything above H again.</item>
/// </list>
/// One job runs at a time in the cluster (<see cref="IReprocessCoordinatorGrain"/>). The job renews the
/// partitions' pause while it runs; if a pause lapses anyway (the runner stalled past its lease), the
/// partitions may have moved their checkpoints past H, so the job stops without replacing anything
/// (docs/exactly-once.md, "Reprocessing").
/// </summary>
public sealed partial class ReprocessJobs(
    ILandingLog log,
    IProbeSnapshotSource probes,
    DecodeSettings decodeSettings,
    IOptions<IngestOptions> options,
    IGrainFactory grains,
    ILogger<ReprocessJobs> logger)
{
    private const int Page = 500;

    /// <summary>Test hook: awaited after the rebuild, right before anything is replaced.</summary>
    internal Func<string, Task>? BeforeReplace { get; set; }

    private TimeSpan Lease => TimeSpan.FromSeconds(options.Value.ReprocessLeaseSeconds);

    /// <summary>Starts a job unless one is running; returns its id, or null and the running job's id.</summary>
    public async Task<(string? JobId, string? Running)> StartAsync(DateOnly from, DateOnly to)
    {
        string id = "reprocess-" + Guid.NewGuid().ToString("N")[..12];
        var running = await grains.GetGrain<IReprocessCoordinatorGrain>(0).TryBegin(id, Lease);
        if (running is not null)
        {
            return (null, running);
        }
        var started = DateTimeOffset.UtcNow;
        await grains.GetGrain<IJobGrain>(id).Update(new JobStatus { Id = id, Kind = "reprocess", State = "running", StartedAt = started, Detail = $"{from:yyyy-MM-dd}..{to:yyyy-MM-dd}" });
        _ = Task.Run(() => RunAsync(id, from, to, started));
        return (id, null);
    }

    private async Task<JobStatus> RunAsync(string id, DateOnly from, DateOnly to, DateTimeOffset started)
    {
        var job = grains.GetGrain<IJobGrain>(id);
        var counts = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        string detail = $"{from:yyyy-MM-dd}..{to:yyyy-MM-dd}";
        Task Report(double progress, string phase) => job.Update(new JobStatus
        {
            Id = id, Kind = "reprocess", State = "running", Progress = progress, StartedAt = started,
            Counts = counts.ToImmutable(), Detail = $"{detail}: {phase}",
        });
        int partitions = options.Value.Partitions;
        var partitionGrains = Enumerable.Range(0, partitions).Select(p => grains.GetGrain<IPartitionGrain>(p)).ToArray();
        using var stopRenewing = new CancellationTokenSource();
        var pause = new PauseWatch();
        Task renewing = Task.CompletedTask;
        JobStatus outcome;
        try
        {
            var paused = await Task.WhenAll(partitionGrains.Select(g => g.Pause(id, Lease)));
            if (paused.Contains(false))
            {
                throw new ReprocessAbortedException("partitions are paused by another job; nothing was replaced");
            }
            renewing = RenewAsync(id, partitionGrains, pause, stopRenewing.Token);
            long horizon = await log.GetLastBatchIdAsync(CancellationToken.None);
            await Report(0.05, "waiting for in-flight writes to settle");
            while (await log.GetSettledHorizonAsync(CancellationToken.None) < horizon)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            await Report(0.2, "sealing partitions");
            await Task.WhenAll(partitionGrains.Select(g => g.SealAt(id, horizon)));

            // Pass 1: rows of the range build the submission-date aggregates and name the build-id aggregates touched.
            var snapshot = probes.Current;
            var fromKey = from.ToString("yyyyMMdd");
            var toKey = to.ToString("yyyyMMdd");
            var affectedBuildKeys = new HashSet<string>(StringComparer.Ordinal);
            var builder = new ContentBuilder();
            await ScanAsync(partitions, horizon, from, to, row => true, ping =>
            {
                builder.Add(ping);
                affectedBuildKeys.Add(DeltaBuilder.KeysOf(ping).BuildIdKey);
            }, counts);
            await Report(0.5, "rebuilding build-id aggregates");
            // Pass 2: the other rows contribute only to the build-id aggregates touched by the range.
            var outside = new ContentBuilder(key => affectedBuildKeys.Contains(key));
            await ScanAsync(partitions, horizon, null, null,
                row => row.SubmissionDate < from || row.SubmissionDate > to,
                ping => outside.Add(ping), null);

            var rebuilt = builder.Build();
            var extra = outside.Build();
            var keys = new HashSet<string>(rebuilt.Keys.Where(k => AggregateFamily.ParseGrainKey(k).Family == AggregateFamily.SubmissionDate), StringComparer.Ordinal);
            keys.UnionWith(affectedBuildKeys);
            // Submission-date aggregates of the range that no longer have rows are emptied.
            foreach (var key in await grains.GetGrain<ICatalogGrain>(0).GetKeys())
            {
                if (!AggregateFamily.TryParseGrainKey(key, out var k))
                {
                    continue;
                }
                if (k.Family == AggregateFamily.SubmissionDate && string.CompareOrdinal(k.Date, fromKey) >= 0 && string.CompareOrdinal(k.Date, toKey) <= 0)
                {
                    keys.Add(key);
                }
            }
            if (BeforeReplace is { } hook)
            {
                await hook(id);
            }
            // Renew once more now: replacing is safe only while every partition still holds the pause
            // taken before sealing, so that no checkpoint has moved past the seal.
            await RenewOnceAsync(id, partitionGrains, pause);
            pause.ThrowIfLost();
            await Report(0.8, "replacing aggregates");
            var checkpoints = Enumerable.Range(0, partitions).ToImmutableDictionary(p => p, _ => horizon);
            int replaced = 0;
            foreach (var key in keys)
            {
                pause.ThrowIfLost(replaced);
                replaced++;
                var content = Merge(rebuilt.GetValueOrDefault(key), extra.GetValueOrDefault(key));
                await grains.GetGrain<IAggregateGrain>(key).Replace(content, checkpoints);
            }
            await grains.GetGrain<ICatalogGrain>(0).Register(rebuilt.Keys.ToImmutableArray());
            counts["aggregates_replaced"] = keys.Count;

            // Crash aggregates are keyed by submission date: the range's rows rebuild them completely.
            var crash = builder.BuildCrash();
            var crashKeys = new HashSet<string>(crash.Keys, StringComparer.Ordinal);
            var crashDates = Enumerable.Range(0, to.DayNumber - from.DayNumber + 1).Select(i => from.AddDays(i).ToString("yyyy-MM-dd")).ToList();
            foreach (var date in crashDates)
            {
                crashKeys.UnionWith(await grains.GetGrain<ICrashDateGrain>(date).GetAggregates());
            }
            foreach (var key in crashKeys)
            {
                pause.ThrowIfLost(replaced);
                replaced++;
                await grains.GetGrain<ICrashAggregateGrain>(key).Replace(crash.GetValueOrDefault(key) ?? new CrashDelta(), checkpoints);
            }
            foreach (var date in crashDates)
            {
                await grains.GetGrain<ICrashDateGrain>(date).ProjectNow();
            }
            counts["crash_aggregates_replaced"] = crashKeys.Count;
            var final = new JobStatus
            {
                Id = id, Kind = "reprocess", State = "succeeded", Progress = 1, StartedAt = started,
                FinishedAt = DateTimeOffset.UtcNow, Counts = counts.ToImmutable(), Detail = detail,
            };
            LogDone(logger, id, detail, counts.GetValueOrDefault("rows"), keys.Count);
            outcome = final;
        }
        catch (Exception e)
        {
            LogFailed(logger, id, e);
            outcome = new JobStatus
            {
                Id = id, Kind = "reprocess", State = "failed", Progress = 1, StartedAt = started,
                FinishedAt = DateTimeOffset.UtcNow, Counts = counts.ToImmutable(), Detail = detail, Error = e.Message,
            };
        }
        finally
        {
            stopRenewing.Cancel();
            await renewing;
            try
            {
                await Task.WhenAll(partitionGrains.Select(g => g.Resume(id)));
                await grains.GetGrain<IReprocessCoordinatorGrain>(0).End(id);
            }
            catch (Exception e)
            {
                // The pause and the slot are leases: they lapse by themselves; the job's own outcome still stands.
                LogReleaseFailed(logger, id, e);
            }
        }
        // Reported only now: a job shown finished has resumed every partition and freed the one-job slot
        // (before, a caller could see "failed" and find partitions still paused for a moment).
        await job.Update(outcome);
        return outcome;
    }

    // Renews the partitions' pause and the job's slot four times per lease until the job ends.
    private async Task RenewAsync(string id, IPartitionGrain[] partitions, PauseWatch pause, CancellationToken ct)
    {
        try
        {
            using var timer = new PeriodicTimer(Lease / 4);
            while (await timer.WaitForNextTickAsync(ct))
            {
                await RenewOnceAsync(id, partitions, pause);
            }
        }
        catch (OperationCanceledException)
        {
            // the job ended
        }
    }

    private async Task RenewOnceAsync(string id, IPartitionGrain[] partitions, PauseWatch pause)
    {
        try
        {
            var renewed = await Task.WhenAll(partitions.Select(g => g.RenewPause(id, Lease)));
            bool slot = await grains.GetGrain<IReprocessCoordinatorGrain>(0).Renew(id, Lease);
            if (renewed.Contains(false) || !slot)
            {
                pause.Lost(renewed.Count(r => !r));
            }
        }
        catch (Exception e)
        {
            // A renewal that cannot reach the partitions is not a lost pause yet; the lease has slack
            // for three more tries, and the check before replacing asks again.
            LogRenewFailed(logger, id, e.Message);
        }
    }

    /// <summary>Whether a partition's pause lapsed during the job (set by the renewal loop).</summary>
    private sealed class PauseWatch
    {
        private volatile int _lostPartitions;

        public void Lost(int partitions) => _lostPartitions = Math.Max(1, partitions);

        public void ThrowIfLost(int replaced = 0)
        {
            if (_lostPartitions == 0)
            {
                return;
            }
            throw new ReprocessAbortedException(replaced == 0
                ? $"{_lostPartitions} partition(s) lost the job's pause (lease ran out); nothing was replaced, run the job again"
                : $"{_lostPartitions} partition(s) lost the job's pause (lease ran out) after {replaced} aggregates were replaced; run the job again to make the range consistent");
        }
    }

    private async Task ScanAsync(int partitions, long horizon, DateOnly? from, DateOnly? to, Func<LandedRow, bool> rowFilter,
        Action<DecodedPing> add, ImmutableDictionary<string, long>.Builder? counts)
    {
        var snapshot = probes.Current;
        for (int p = 0; p < partitions; p++)
        {
            (long, string)? after = null;
            while (true)
            {
                var rows = await log.ReadForRebuildAsync(p, horizon, from, to, after, Page, CancellationToken.None);
                foreach (var row in rows)
                {
                    if (!rowFilter(row))
                    {
                        continue;
                    }
                    if (SubmissionRows.TryDecode(row, snapshot, decodeSettings, options.Value.MaxInflatedBytes, out var ping))
                    {
                        add(ping);
                        if (counts is not null) counts["rows"] = counts.GetValueOrDefault("rows") + 1;
                    }
                    else if (counts is not null)
                    {
                        counts["rows_undecodable"] = counts.GetValueOrDefault("rows_undecodable") + 1;
                    }
                }
                if (rows.Count < Page)
                {
                    break;
                }
                after = (rows[^1].BatchId, rows[^1].DocId);
            }
        }
    }

    private static AggregateDelta Merge(AggregateDelta? a, AggregateDelta? b)
    {
        var result = new AggregateDelta();
        foreach (var source in new[] { a, b })
        {
            if (source is null) continue;
            result.Pings += source.Pings;
            foreach (var (metric, layout) in source.Layouts) result.Layouts.TryAdd(metric, layout);
            foreach (var (key, acc) in source.Series)
            {
                if (result.Series.TryGetValue(key, out var existing)) existing.Merge(acc);
                else result.Series[key] = acc.Clone();
            }
        }
        return result;
    }

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Reprocess {Job} ({Range}): {Rows} rows, {Aggregates} aggregates replaced")]
    private static partial void LogDone(ILogger logger, string job, string range, long rows, int aggregates);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Error, Message = "Reprocess {Job} failed; partitions resumed")]
    private static partial void LogFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 1804, Level = LogLevel.Warning, Message = "Reprocess {Job}: could not resume the partitions or free the job slot; their leases lapse by themselves")]
    private static partial void LogReleaseFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "Reprocess {Job}: could not renew the partitions' pause ({Message}); trying again")]
    private static partial void LogRenewFailed(ILogger logger, string job, string message);
}

/// <summary>A reprocessing job stopped before replacing (or before replacing everything), with the reason.</summary>
public sealed class ReprocessAbortedException(string message) : Exception(message)
{
}
