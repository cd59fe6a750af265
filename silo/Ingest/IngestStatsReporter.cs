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
    private readonly Dictionary<int, long> _checkpoints = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        counters.Meter.CreateObservableGauge("telemetry_aggregation_lag_seconds", () => _lag, unit: "s",
            description: "Age of the oldest landed submission not yet aggregated");
        counters.Meter.CreateObservableGauge("telemetry_partition_checkpoint", () =>
        {
            lock (_checkpoints)
            {
                return _checkpoints.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("partition", kv.Key))).ToList();
            }
        }, description: "Durable checkpoint (batch id) of each landing-log partition");
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
        lock (_checkpoints)
        {
            foreach (var s in statuses)
            {
                _checkpoints[s.Partition] = s.Checkpoint;
            }
        }
        _lag = statuses.Length == 0 ? 0 : statuses.Max(s => s.LagSeconds);
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Could not report ingest counters, keeping them for the next report: {Message}")]
    private static partial void LogReportFailed(ILogger logger, string message);
}
