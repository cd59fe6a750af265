using Microsoft.Extensions.Options;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Ingest;

/// <summary>Deletes raw submissions older than <see cref="IngestOptions.RetentionDays"/>, hourly.</summary>
public sealed partial class RetentionService(ILandingLog log, IGrainFactory grains, IOptions<IngestOptions> options, ILogger<RetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                var cutoff = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-options.Value.RetentionDays);
                // Never a row a partition may still replay (docs/exactly-once.md, "Retention").
                var statuses = await Task.WhenAll(Enumerable.Range(0, options.Value.Partitions)
                    .Select(p => grains.GetGrain<Telemetry.Contracts.Ingest.IPartitionGrain>(p).GetStatus()));
                long maxBatch = statuses.Min(s => s.Checkpoint);
                long deleted = await log.DeleteBeforeAsync(cutoff, maxBatch, stoppingToken);
                if (deleted > 0)
                {
                    LogDeleted(logger, deleted, cutoff);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Information, Message = "Retention: deleted {Count} raw submissions received before {Cutoff}")]
    private static partial void LogDeleted(ILogger logger, long count, DateOnly cutoff);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Warning, Message = "Retention run failed: {Message}")]
    private static partial void LogFailed(ILogger logger, string message);
}
