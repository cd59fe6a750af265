using System.Diagnostics.Metrics;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;
using Microsoft.Extensions.Options;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Sends this silo's counters to the stats grain every two seconds (one call, not one per ping)
/// and keeps the cluster-wide lag and partition checkpoints for the metrics endpoint.
/// </summary>
public sealed partial class IngestStatsReporter(
    IGrainFactory grains,
    IngestCounters counters,
    IOptions<IngestOptions> options,
    ILocalSiloDetails silo,
    ILogger<IngestStatsReporter> logger) : BackgroundService
{
    private double _lag;
    private readonly Dictionary<int, PartitionStatus> _partitions = new();
    private DateTimeOffset _partitionsSeenAt = DateTimeOffset.MinValue;

    /// <summary>The partitions as last seen (every 6 s), and when; empty before the first look.</summary>
    public (IReadOnlyList<PartitionStatus> Partitions, DateTimeOffset SeenAt) LastSeen
    {
        get
        {
            lock (_partitions)
            {
                return ([.. _partitions.Values], _partitionsSeenAt);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        counters.Meter.CreateObservableGauge("telemetry_aggregation_lag_seconds", () => _lag, unit: "s",
            description: "Age of the oldest landed submission not yet aggregated");
        counters.Meter.CreateObservableGauge("telemetry_partition_checkpoint",
            () => PerPartition(p => p.Checkpoint),
            description: "Durable checkpoint (batch id) of each landing-log partition");
        counters.Meter.CreateObservableGauge("telemetry_partition_checkpoint_age_seconds",
            () => PerPartition(p => p.CheckpointAgeSeconds), unit: "s",
            description: "How long the oldest applied batch above each partition's checkpoint has waited for it (what a crash would read again)");
        counters.Meter.CreateObservableCounter("telemetry_recovery_undecodable_rows_total",
            () => LastSeen.Partitions.Sum(p => p.UndecodableRows),
            description: "Rows read back from the landing log that no longer decode (skipped), since the partitions activated");
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        int tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var report = counters.TakeReport(silo.Name);
            try
            {
                await grains.GetGrain<IIngestStatsGrain>(0).Report(report);
                if (++tick % 3 == 0)
                {
                    await RefreshPartitionsAsync();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                counters.Restore(report);
                LogReportFailed(logger, e.Message);
            }
        }
    }

    private async Task RefreshPartitionsAsync()
    {
        var statuses = await Task.WhenAll(Enumerable.Range(0, options.Value.Partitions)
            .Select(p => grains.GetGrain<IPartitionGrain>(p).GetStatus()));
        lock (_partitions)
        {
            foreach (var s in statuses)
            {
                _partitions[s.Partition] = s;
            }
            _partitionsSeenAt = DateTimeOffset.UtcNow;
        }
        _lag = statuses.Length == 0 ? 0 : statuses.Max(s => s.LagSeconds);
    }

    private List<Measurement<T>> PerPartition<T>(Func<PartitionStatus, T> value) where T : struct =>
        LastSeen.Partitions.Select(p => new Measurement<T>(value(p), new KeyValuePair<string, object?>("partition", p.Partition))).ToList();

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Could not report ingest counters, keeping them for the next report: {Message}")]
    private static partial void LogReportFailed(ILogger logger, string message);
}
