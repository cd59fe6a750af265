using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Sums the decoded pings of each (partition, batch) into aggregate deltas and pushes them to the
/// partition grains every <see cref="IngestOptions.PushIntervalMs"/>: one grain call per
/// partition per interval. A lost push is harmless: the partition reads the batch from the log.
/// </summary>
public sealed partial class AggregationFeeder(IGrainFactory grains, IOptions<IngestOptions> options, ILogger<AggregationFeeder> logger) : BackgroundService
{
    private readonly Lock _lock = new();
    private Dictionary<(int Partition, long Batch), Building> _building = new();
    private readonly HashSet<long> _sealed = new();

    private sealed class Building
    {
        public DeltaBuilder Builder { get; } = new();
        public DateTimeOffset Oldest { get; set; } = DateTimeOffset.MaxValue;
    }

    public void Add(int partition, long batchId, DateTimeOffset receivedAt, DecodedPing ping)
    {
        lock (_lock)
        {
            if (!_building.TryGetValue((partition, batchId), out var b))
            {
                _building[(partition, batchId)] = b = new Building();
            }
            b.Builder.Add(ping);
            if (receivedAt < b.Oldest)
            {
                b.Oldest = receivedAt;
            }
        }
    }

    public void Seal(long batchId)
    {
        lock (_lock)
        {
            _sealed.Add(batchId);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.PushIntervalMs));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync();
        }
    }

    /// <summary>Pushes every sealed batch now.</summary>
    public async Task FlushAsync()
    {
        List<KeyValuePair<(int Partition, long Batch), Building>> ready;
        lock (_lock)
        {
            ready = _building.Where(kv => _sealed.Contains(kv.Key.Batch)).ToList();
            foreach (var kv in ready)
            {
                _building.Remove(kv.Key);
            }
            var open = _building.Keys.Select(k => k.Batch).ToHashSet();
            _sealed.RemoveWhere(b => !open.Contains(b));
        }
        if (ready.Count == 0)
        {
            return;
        }
        var pushes = ready
            .GroupBy(kv => kv.Key.Partition)
            .Select(async g =>
            {
                var batches = g.OrderBy(kv => kv.Key.Batch).Select(kv => new PushedBatch
                {
                    BatchId = kv.Key.Batch,
                    OldestReceivedAt = kv.Value.Oldest,
                    Deltas = kv.Value.Builder.Build(),
                    CrashDeltas = kv.Value.Builder.BuildCrash(),
                    Pings = kv.Value.Builder.Pings,
                }).ToImmutableArray();
                try
                {
                    await grains.GetGrain<IPartitionGrain>(g.Key).Push(batches);
                }
                catch (Exception e)
                {
                    LogPushFailed(logger, g.Key, batches.Length, e.Message);
                }
            });
        await Task.WhenAll(pushes);
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Push of {Count} batches to partition {Partition} failed ({Message}); the partition will read them from the landing log")]
    private static partial void LogPushFailed(ILogger logger, int partition, int count, string message);
}
