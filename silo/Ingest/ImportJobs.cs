using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Jobs;
using Telemetry.Grains.Ingest;
using Telemetry.Grains.Registry;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Imports the seed server's raw log files (docs/exactly-once.md): each record is validated and landed like a
/// live submission, with its submission date taken from the record's arrival time and its docId
/// from the first path segment, so importing a file twice adds nothing.
/// </summary>
/// <remarks>
/// Every record read ends in exactly one count: <c>imported</c>, <c>duplicate</c>,
/// <c>rejected_&lt;reason&gt;</c> (format errors) or <c>not_landed</c>, so
/// <c>read</c> is their sum when the job ends. A landing that fails is retried
/// (<see cref="LandingRetry"/>, <see cref="ImportOptions.LandingRetrySeconds"/>); records still not
/// landed make the job end <c>failed</c>, and importing the file again lands just those.
/// </remarks>
public sealed partial class ImportJobs(
    GroupCommitter committer,
    IngestCounters counters,
    IProbeSnapshotSource probes,
    DecodeSettings decodeSettings,
    IOptions<IngestOptions> options,
    IOptions<ImportOptions> importOptions,
    ILandingLog landingLog,
    IGrainFactory grains,
    ILogger<ImportJobs> logger)
{
    public const string Read = "read";
    public const string Imported = "imported";
    public const string Duplicate = "duplicate";
    public const string RejectedPrefix = "rejected_";
    public const string NotLanded = "not_landed";

    private const int InFlight = 256;
    private static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(1);

    /// <summary>How long the final status of a job keeps being saved while the storage is down.</summary>
    private static readonly TimeSpan FinalStatusPatience = TimeSpan.FromMinutes(15);

    /// <summary>Starts importing a file already saved to disk (deleted when done); returns the job id.</summary>
    public async Task<string> StartAsync(string file, long length)
    {
        string id = "import-" + Guid.NewGuid().ToString("N")[..12];
        var started = DateTimeOffset.UtcNow;
        await grains.GetGrain<IJobGrain>(id).Update(new JobStatus { Id = id, Kind = "import", State = "running", StartedAt = started });
        _ = Task.Run(async () =>
        {
            try
            {
                await RunAsync(id, file, length, started);
            }
            catch (Exception e)
            {
                LogImportFailed(logger, id, e);
            }
            finally
            {
                File.Delete(file);
            }
        });
        return id;
    }

    /// <summary>Imports a file, reporting progress to the job grain about once a second; returns the final status.</summary>
    public async Task<JobStatus> RunAsync(string id, string file, long length, DateTimeOffset started)
    {
        var budget = TimeSpan.FromSeconds(importOptions.Value.LandingRetrySeconds);
        var run = new ImportRun(id, length, started, new LandingRetry(budget, TimeProvider.System));
        var job = grains.GetGrain<IJobGrain>(id);
        var reportTimer = new PeriodicTimer(ReportInterval);
        var reporting = ReportProgressAsync(job, run, reportTimer);
        // The gate bounds the records in flight: while the landing log is down they all wait to
        // retry, so the file is not read ahead of them.
        using var gate = new SemaphoreSlim(InFlight);
        var tasks = new List<Task>();
        async Task ImportAsync(RawLogRecord record)
        {
            try
            {
                await ImportOneAsync(run, record);
            }
            finally
            {
                gate.Release();
            }
        }
        Exception? readFailure = null;
        try
        {
            await using var stream = File.OpenRead(file);
            await foreach (var record in run.Reader.ReadAsync(stream))
            {
                run.Count(Read);
                await gate.WaitAsync();
                tasks.Add(ImportAsync(record));
                if (tasks.Count >= 4 * InFlight)
                {
                    tasks.RemoveAll(t => t.IsCompleted);
                }
            }
        }
        catch (Exception e)
        {
            readFailure = e;
            LogImportFailed(logger, id, e);
        }
        // A record's task puts it in a count whatever happens; it does not fault.
        await Task.WhenAll(tasks);
        reportTimer.Dispose();
        await reporting;

        var final = Finish(run, readFailure);
        await SaveFinalStatusAsync(job, run, final);
        return final;
    }

    private JobStatus Finish(ImportRun run, Exception? readFailure)
    {
        long read = run[Read], notLanded = run[NotLanded];
        var errors = new List<string>();
        if (readFailure is not null)
        {
            errors.Add($"reading the file stopped after {read} records: {readFailure.Message}");
        }
        if (notLanded > 0)
        {
            string causes = string.Join("; ", new[] { run.LandingFailure, run.DecodeFailure }.OfType<string>());
            errors.Add($"{notLanded} of {read} records were not landed ({causes}); importing the file again lands only those (docIds already stored are skipped)");
            LogNotLanded(logger, run.Id, notLanded, read, causes);
        }
        if (errors.Count > 0)
        {
            return run.Status("failed", string.Join(". ", errors));
        }
        LogImported(logger, run.Id, read, run[Imported], run[Duplicate], run.Rejected);
        return run.Status("succeeded");
    }

    private async Task ImportOneAsync(ImportRun run, RawLogRecord record)
    {
        var opts = options.Value;
        LandingEntry entry;
        PingAggregates aggregates;
        try
        {
            var rawPath = record.Path.StartsWith(SubmissionPath.Prefix, StringComparison.Ordinal) ? record.Path[SubmissionPath.Prefix.Length..] : record.Path.TrimStart('/');
            var path = SubmissionPath.Parse(rawPath);
            if (record.Body.Length > opts.MaxBodyBytes)
            {
                throw new PingFormatException(PingRejection.TooLarge, "body too large");
            }
            var date = DateOnly.FromDateTime(record.ArrivalTime.UtcDateTime);
            var ping = SubmissionDecoder.Decode(record.Body, false, opts.MaxInflatedBytes, path, date, probes.Current, decodeSettings);
            // received_at is when it landed here (it drives lag); the submission date is the record's.
            // Whole microseconds, as PostgreSQL stores it: a retry recognises its own row by it.
            var now = DateTimeOffset.UtcNow;
            entry = new LandingEntry(path.DocId, SubmissionDecoder.PartitionOf(path.DocId, opts.Partitions), date, now.AddTicks(-(now.Ticks % 10)),
                string.Join('/', path.DocId, path.DocType, path.AppName, path.AppVersion, path.Channel, path.BuildId), record.Body, null);
            aggregates = PingAggregates.Of(ping);
        }
        catch (PingFormatException e)
        {
            counters.Rejected(PingRejections.Name(e.Reason), record.Body.Length);
            run.Count(RejectedPrefix + PingRejections.Name(e.Reason));
            return;
        }
        catch (Exception e)
        {
            // Not a format error but a fault of the decoder: retrying would fail the same way.
            if (run.DecodeFailed("decoding failed: " + e.Message))
            {
                LogDecodeFailed(logger, run.Id, record.Offset, e);
            }
            run.Count(NotLanded);
            return;
        }

        var attempts = run.Retry.Begin();
        bool failedBefore = false;
        while (attempts.MayTry())
        {
            LandingOutcome outcome;
            try
            {
                outcome = await committer.LandAsync(entry, aggregates, CancellationToken.None);
                // A failed attempt may have committed all the same (the connection broke after the
                // commit): then the row found is this record's own, not a duplicate.
                if (outcome == LandingOutcome.Duplicate && failedBefore
                    && await landingLog.GetReceivedAtAsync(entry.DocId, CancellationToken.None) == entry.ReceivedAt)
                {
                    outcome = LandingOutcome.Stored;
                }
            }
            catch (Exception e)
            {
                string message = e is LandingUnavailableException { InnerException: { } inner }
                    ? "landing log unavailable: " + inner.Message
                    : $"landing failed: {e.GetType().Name}: {e.Message}";
                if (run.LandingFailed(message))
                {
                    LogLandingFailing(logger, run.Id, message, (int)run.Retry.Budget.TotalSeconds);
                }
                failedBefore = true;
                if (attempts.AfterFailure() is not { } delay)
                {
                    break;
                }
                await run.Retry.WaitAsync(delay, CancellationToken.None);
                continue;
            }
            run.Retry.Landed();
            counters.Accepted(record.Body.Length, outcome == LandingOutcome.Duplicate);
            if (outcome == LandingOutcome.Stored)
            {
                counters.CrashOutcome(aggregates.Crash);
            }
            run.Count(outcome == LandingOutcome.Duplicate ? Duplicate : Imported);
            return;
        }
        run.Count(NotLanded);
    }

    private async Task ReportProgressAsync(IJobGrain job, ImportRun run, PeriodicTimer timer)
    {
        // Disposing the timer ends the loop.
        while (await timer.WaitForNextTickAsync())
        {
            try
            {
                await job.Update(run.Status("running"));
            }
            catch (Exception e)
            {
                // The grain keeps the status in memory even when it cannot write it (PostgreSQL down).
                if (run.StatusFailed())
                {
                    LogStatusNotSaved(logger, run.Id, e.GetBaseException().Message);
                }
            }
        }
    }

    /// <summary>
    /// Saves the final status, trying again while the storage is down: until then the job grain
    /// answers polls with it from memory, but it would be lost with the grain.
    /// </summary>
    private async Task SaveFinalStatusAsync(IJobGrain job, ImportRun run, JobStatus final)
    {
        var giveUpAt = DateTimeOffset.UtcNow + FinalStatusPatience;
        var delay = LandingRetry.FirstDelay;
        while (true)
        {
            try
            {
                await job.Update(final);
                return;
            }
            catch (Exception e) when (DateTimeOffset.UtcNow < giveUpAt)
            {
                if (run.StatusFailed())
                {
                    LogStatusNotSaved(logger, run.Id, e.GetBaseException().Message);
                }
                await Task.Delay(delay);
                delay = delay * 2 < LandingRetry.MaxDelay ? delay * 2 : LandingRetry.MaxDelay;
            }
        }
    }

    /// <summary>The counts and first failures of one import job.</summary>
    private sealed class ImportRun(string id, long length, DateTimeOffset started, LandingRetry retry)
    {
        private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);
        private string? _landingFailure;
        private string? _decodeFailure;
        private int _statusFailures;

        public string Id { get; } = id;
        public RawLogReader Reader { get; } = new();
        public LandingRetry Retry { get; } = retry;

        /// <summary>The latest landing failure.</summary>
        public string? LandingFailure => Volatile.Read(ref _landingFailure);

        /// <summary>The first decoder fault.</summary>
        public string? DecodeFailure => Volatile.Read(ref _decodeFailure);

        public long this[string key] => _counts.GetValueOrDefault(key);

        public long Rejected => _counts.Where(kv => kv.Key.StartsWith(RejectedPrefix, StringComparison.Ordinal)).Sum(kv => kv.Value);

        public void Count(string key) => _counts.AddOrUpdate(key, 1, static (_, n) => n + 1);

        /// <summary>Notes a landing failure; true for the job's first (to log once).</summary>
        public bool LandingFailed(string message) => Interlocked.Exchange(ref _landingFailure, message) is null;

        /// <summary>Notes a decoder fault; true for the job's first.</summary>
        public bool DecodeFailed(string message) => Interlocked.CompareExchange(ref _decodeFailure, message, null) is null;

        /// <summary>Notes a status that could not be saved; true for the job's first.</summary>
        public bool StatusFailed() => Interlocked.Increment(ref _statusFailures) == 1;

        public JobStatus Status(string state, string? error = null) => new()
        {
            Id = Id,
            Kind = "import",
            State = state,
            Progress = state == "running" ? (length > 0 ? Math.Min(1, (double)Reader.BytesRead / length) : 0) : 1,
            Counts = _counts.ToImmutableDictionary(StringComparer.Ordinal)
                .SetItem("corrupt_records", Reader.CorruptRecords)
                .SetItem("skipped_bytes", Reader.SkippedBytes),
            Error = error,
            Detail = state != "running" ? null
                : Retry.Waiting > 0 ? $"{LandingFailure}; {Retry.Waiting} records waiting to retry"
                : Retry.GaveUp ? $"{LandingFailure}; records are counted {NotLanded} until a landing succeeds"
                : null,
            StartedAt = started,
            FinishedAt = state == "running" ? null : DateTimeOffset.UtcNow,
        };
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Import {Job}: {Read} records read, {Imported} imported, {Duplicates} duplicates, {Rejected} rejected")]
    private static partial void LogImported(ILogger logger, string job, long read, long imported, long duplicates, long rejected);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Error, Message = "Import {Job} failed")]
    private static partial void LogImportFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(EventId = 1703, Level = LogLevel.Warning, Message = "Import {Job}: {Message}; each record is retried for up to {Seconds} s (logged once per job)")]
    private static partial void LogLandingFailing(ILogger logger, string job, string message, int seconds);

    [LoggerMessage(EventId = 1704, Level = LogLevel.Error, Message = "Import {Job} failed: {NotLanded} of {Read} records were not landed ({Causes}); importing the file again lands only those")]
    private static partial void LogNotLanded(ILogger logger, string job, long notLanded, long read, string causes);

    [LoggerMessage(EventId = 1705, Level = LogLevel.Error, Message = "Import {Job}: the record at byte {Offset} could not be decoded (logged once per job)")]
    private static partial void LogDecodeFailed(ILogger logger, string job, long offset, Exception exception);

    [LoggerMessage(EventId = 1706, Level = LogLevel.Warning, Message = "Import {Job}: its status could not be saved ({Message}); polls are answered from memory and the final status is saved when the storage is back (logged once per job)")]
    private static partial void LogStatusNotSaved(ILogger logger, string job, string message);
}
