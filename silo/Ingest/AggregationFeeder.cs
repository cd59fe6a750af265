using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Ingest;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// Gathers the prepared pings of landed batches per partition and pushes them to the partition
/// grains every <see cref="IngestOptions.PushIntervalMs"/>: one grain call per partition per
/// interval, covering every batch landed meanwhile. A batch's rows of one partition are added
/// together, so a push always holds whole batches. A lost push is harmless: the partition reads
/// the batches from the landing log.
/// </summary>
public sealed partial class AggregationFeeder : BackgroundService
{
    private readonly Func<int, ImmutableArray<PushedBatch>, Task> _push;
    private readonly IngestOptions _options;
    private readonly ILogger<AggregationFeeder> _logger;
    private readonly Pending[] _partitions;

    public AggregationFeeder(IGrainFactory grains, IOptions<IngestOptions> options, ILogger<AggregationFeeder> logger)
        : this((partition, batches) => grains.GetGrain<IPartitionGrain>(partition).Push(batches), options, logger)
    {
    }

    /// <summary>With the push to a partition given (unit tests push into a list).</summary>
    internal AggregationFeeder(Func<int, ImmutableArray<PushedBatch>, Task> push, IOptions<IngestOptions> options, ILogger<AggregationFeeder> logger)
    {
        _push = push;
        _options = options.Value;
        _logger = logger;
        _partitions = Enumerable.Range(0, _options.Partitions).Select(_ => new Pending()).ToArray();
    }

    private sealed class Pending
    {
        public readonly Lock Lock = new();
        public DeltaBuilder Builder = new();
        public List<long> BatchIds = new();
        public DateTimeOffset Oldest = DateTimeOffset.MaxValue;
    }

    /// <summary>One stored row of a batch: its partition, when it was received, and what it gives aggregation.</summary>
    public readonly record struct Row(int Partition, DateTimeOffset ReceivedAt, PingAggregates Ping);

    /// <summary>Adds the stored rows of one committed batch (all of them, in one call).</summary>
    public void AddBatch(long batchId, IReadOnlyList<Row> rows)
    {
        foreach (var group in rows.GroupBy(r => r.Partition))
        {
            var p = _partitions[group.Key % _partitions.Length];
            lock (p.Lock)
            {
                foreach (var row in group)
                {
                    p.Builder.Add(row.Ping);
                    if (row.ReceivedAt < p.Oldest)
                    {
                        p.Oldest = row.ReceivedAt;
                    }
                }
                p.BatchIds.Add(batchId);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.PushIntervalMs));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await FlushAsync();
        }
    }

    /// <summary>Pushes everything gathered so far.</summary>
    public async Task FlushAsync()
    {
        var pushes = new List<Task>();
        for (int partition = 0; partition < _partitions.Length; partition++)
        {
            var p = _partitions[partition];
            DeltaBuilder builder;
            List<long> batchIds;
            DateTimeOffset oldest;
            lock (p.Lock)
            {
                if (p.BatchIds.Count == 0)
                {
                    continue;
                }
                (builder, batchIds, oldest) = (p.Builder, p.BatchIds, p.Oldest);
                (p.Builder, p.BatchIds, p.Oldest) = (new DeltaBuilder(), new List<long>(), DateTimeOffset.MaxValue);
            }
            var push = new PushedBatch
            {
                BatchIds = batchIds.Order().ToImmutableArray(),
                OldestReceivedAt = oldest,
                Deltas = builder.Build(),
                CrashDeltas = builder.BuildCrash(),
                Pings = builder.Pings,
            };
            pushes.Add(PushAsync(partition, push));
        }
        await Task.WhenAll(pushes);
    }

    private async Task PushAsync(int partition, PushedBatch push)
    {
        try
        {
            await _push(partition, [push]);
        }
        catch (Exception e)
        {
            LogPushFailed(_logger, partition, push.BatchIds.Length, e.Message);
        }
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Push of {Count} batches to partition {Partition} failed ({Message}); the partition will read them from the landing log")]
    private static partial void LogPushFailed(ILogger logger, int partition, int count, string message);
}
