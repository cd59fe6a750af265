using Microsoft.Extensions.Options;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Storage.Bodies;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Deletes raw submissions older than <see cref="IngestOptions.RetentionDays"/>, then the body objects
/// left without rows, then objects no committed batch refers to (docs/body-store.md); every
/// <see cref="BodyStoreOptions.CollectMinutes"/> (an hour by default).
/// </summary>
public sealed partial class RetentionService(
    ILandingLog log, IGrainFactory grains, IOptions<IngestOptions> options, IOptions<BodyStoreOptions> bodyOptions, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(bodyOptions.Value.CollectMinutes));
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One retention and collection round.</summary>
    public async Task RunOnceAsync(CancellationToken ct)
    {
        var cutoff = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-options.Value.RetentionDays);
        // Never a row a partition may still replay (docs/exactly-once.md, "Retention").
        var statuses = await Task.WhenAll(Enumerable.Range(0, options.Value.Partitions)
            .Select(p => grains.GetGrain<IPartitionGrain>(p).GetStatus()));
        long maxBatch = statuses.Min(s => s.Checkpoint);
        long deleted = await log.DeleteBeforeAsync(cutoff, maxBatch, ct);
        if (deleted > 0)
        {
            LogDeleted(logger, deleted, cutoff);
        }
        if (log is IBodyObjectMaintenance objects)
        {
            int retired = await objects.DeleteRetiredObjectsAsync(cutoff, maxBatch, ct);
            var orphans = await objects.CollectOrphansAsync(TimeSpan.FromMinutes(bodyOptions.Value.OrphanGraceMinutes), ct);
            if (retired > 0 || orphans.Deleted > 0)
            {
                LogObjects(logger, retired, orphans.Deleted, orphans.Examined);
            }
        }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Retention: deleted {Count} raw submissions received before {Cutoff}")]
    private static partial void LogDeleted(ILogger logger, long count, DateOnly cutoff);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Retention run failed: {Message}")]
    private static partial void LogFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Information, Message = "Body store: deleted {Retired} objects past retention and {Orphans} orphaned objects (of {Examined} examined)")]
    private static partial void LogObjects(ILogger logger, int retired, int orphans, int examined);
}
