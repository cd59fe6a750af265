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
public sealed partial class ImportJobs(
    GroupCommitter committer,
    IngestCounters counters,
    IProbeSnapshotSource probes,
    DecodeSettings decodeSettings,
    IOptions<IngestOptions> options,
    IGrainFactory grains,
    ILogger<ImportJobs> logger)
{
    private const int InFlight = 256;

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
            finally
            {
                File.Delete(file);
            }
        });
        return id;
    }

    /// <summary>Imports a stream, reporting progress to the job grain about once a second; returns the final counts.</summary>
    public async Task<JobStatus> RunAsync(string id, string file, long length, DateTimeOffset started)
    {
        var counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        void Count(string key) => counts.AddOrUpdate(key, 1, static (_, n) => n + 1);
        var reader = new RawLogReader();
        var job = grains.GetGrain<IJobGrain>(id);
        JobStatus Status(string state, string? error = null) => new()
        {
            Id = id,
            Kind = "import",
            State = state,
            Progress = state == "running" ? (length > 0 ? Math.Min(1, (double)reader.BytesRead / length) : 0) : 1,
            Counts = counts.ToImmutableDictionary(StringComparer.Ordinal).SetItem("corrupt_records", reader.CorruptRecords).SetItem("skipped_bytes", reader.SkippedBytes),
            Error = error,
            StartedAt = started,
            FinishedAt = state == "running" ? null : DateTimeOffset.UtcNow,
        };
        try
        {
            await using var stream = File.OpenRead(file);
            using var gate = new SemaphoreSlim(InFlight);
            var tasks = new List<Task>();
            var lastReport = DateTimeOffset.UtcNow;
            await foreach (var record in reader.ReadAsync(stream))
            {
                Count("read");
                await gate.WaitAsync();
                tasks.Add(ImportOneAsync(record, Count).ContinueWith(_ => gate.Release(), TaskScheduler.Default));
                if (DateTimeOffset.UtcNow - lastReport > TimeSpan.FromSeconds(1))
                {
                    lastReport = DateTimeOffset.UtcNow;
                    tasks.RemoveAll(t => t.IsCompleted);
                    await job.Update(Status("running"));
                }
            }
            await Task.WhenAll(tasks);
            var final = Status("succeeded");
            await job.Update(final);
            LogImported(logger, id, counts.GetValueOrDefault("read"), counts.GetValueOrDefault("imported"), counts.GetValueOrDefault("duplicate"));
            return final;
        }
        catch (Exception e)
        {
            LogImportFailed(logger, id, e);
            var failed = Status("failed", e.Message);
            await job.Update(failed);
            return failed;
        }
    }

    private async Task ImportOneAsync(RawLogRecord record, Action<string> count)
    {
        var opts = options.Value;
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
            var entry = new LandingEntry(path.DocId, SubmissionDecoder.PartitionOf(path.DocId, opts.Partitions), date, DateTimeOffset.UtcNow,
                string.Join('/', path.DocId, path.DocType, path.AppName, path.AppVersion, path.Channel, path.BuildId), record.Body, null);
            var outcome = await committer.LandAsync(entry, PingAggregates.Of(ping), CancellationToken.None);
            counters.Accepted(record.Body.Length, outcome == LandingOutcome.Duplicate);
            if (outcome == LandingOutcome.Stored)
            {
                counters.CrashOutcome(ping.Crash);
            }
            count(outcome == LandingOutcome.Duplicate ? "duplicate" : "imported");
        }
        catch (PingFormatException e)
        {
            counters.Rejected(PingRejections.Name(e.Reason), record.Body.Length);
            count("rejected_" + PingRejections.Name(e.Reason));
        }
    }

    [LoggerMessage(EventId = 1701, Level = LogLevel.Information, Message = "Import {Job}: {Read} records read, {Imported} imported, {Duplicates} duplicates")]
    private static partial void LogImported(ILogger logger, string job, long read, long imported, long duplicates);

    [LoggerMessage(EventId = 1702, Level = LogLevel.Error, Message = "Import {Job} failed")]
    private static partial void LogImportFailed(ILogger logger, string job, Exception exception);
}
