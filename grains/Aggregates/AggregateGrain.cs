using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Holds one aggregate (family, channel, version, date). Deltas are applied at most once per
/// (partition, batch); state is written when a partition checkpoints, not per delta.
/// </summary>
public sealed partial class AggregateGrain(
    [PersistentState("aggregate", StorageNames.Aggregates)] IPersistentState<AggregateState> state,
    Microsoft.Extensions.Options.IOptions<Telemetry.Grains.Ingest.IngestOptions> options,
    ILogger<AggregateGrain> logger) : Grain, IAggregateGrain
{
    private SeriesTable? _table;
    // DataVersion restarts from the persisted value after a crash; the salt keeps ETags of the
    // new activation from repeating ones handed out for different data before.
    private readonly long _salt = Random.Shared.NextInt64(1, 1L << 40) << 20;
    private readonly PersistTracker _tracker = new();

    Task<ApplyOutcome> IAggregateGrain.Apply(int partition, ImmutableArray<long> batchIds, long partitionCheckpoint, ImmutableArray<PingHistograms> pings)
    {
        var outcome = Progress(partition, partitionCheckpoint).TryApplyAll(batchIds);
        if (outcome != ApplyOutcome.Applied)
        {
            return Task.FromResult(outcome);
        }
        var s = state.State;
        var table = Table;
        int mismatched = 0;
        foreach (var ping in pings)
        {
            mismatched += table.Add(ping);
        }
        if (mismatched > 0)
        {
            LogLayoutMismatch(logger, this.GetPrimaryKeyString(), mismatched);
        }
        s.Pings += pings.Length;
        s.DataVersion++;
        _tracker.Applied(partition, batchIds);
        return Task.FromResult(ApplyOutcome.Applied);
    }

    private SeriesTable Table => _table ??= new SeriesTable(state.State.Series, state.State.Layouts);

    Task<PersistOutcome> IAggregateGrain.Persist(int partition, ImmutableArray<long> expectedBatches, bool force) =>
        _tracker.PersistAsync(Progress(partition, 0), partition, expectedBatches, force,
            TimeSpan.FromSeconds(options.Value.PersistSeconds), () => state.WriteStateAsync());

    Task<AggregateResult> IAggregateGrain.Query(AggregateQuery query)
    {
        var s = state.State;
        if (!s.Layouts.TryGetValue(query.Metric, out var layout))
        {
            return Task.FromResult(new AggregateResult { DataVersion = _salt + s.DataVersion });
        }
        var byLabel = new SortedDictionary<string, HistogramAccumulator>(StringComparer.Ordinal);
        foreach (var key in Table.SeriesOf(query.Metric))
        {
            if (!Matches(key, query))
            {
                continue;
            }
            var acc = s.Series[key];
            if (!byLabel.TryGetValue(key.Label, out var sum))
            {
                sum = new HistogramAccumulator(acc.Counts.Length);
                byLabel[key.Label] = sum;
            }
            sum.Merge(acc);
        }
        var labels = byLabel.Select(kv => new LabelHistogram
        {
            Label = kv.Key,
            Histogram = ImmutableArray.Create(kv.Value.Counts),
            Sum = kv.Value.Sum,
            Count = kv.Value.Count,
        }).ToImmutableArray();
        return Task.FromResult(new AggregateResult { DataVersion = _salt + s.DataVersion, Layout = layout, Labels = labels });
    }

    Task<FilterValues> IAggregateGrain.GetFilters()
    {
        var s = state.State;
        var keys = s.Series.Keys;
        static ImmutableArray<string> Distinct(IEnumerable<string> values) =>
            values.Where(v => v.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray();
        return Task.FromResult(new FilterValues
        {
            Metrics = s.Layouts.Keys.Order(StringComparer.Ordinal).ToImmutableArray(),
            Applications = Distinct(keys.Select(k => k.Application)),
            Architectures = Distinct(keys.Select(k => k.Architecture)),
            Os = Distinct(keys.Select(k => k.Os.Length == 0 ? "" : k.Os + "," + k.OsVersion)),
            Processes = Distinct(keys.Select(k => k.Process)),
            UndeclaredMetrics = s.Layouts.Where(kv => kv.Value.Undeclared).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToImmutableArray(),
        });
    }

    Task<MetricTotals> IAggregateGrain.GetMetricTotals(long knownDataVersion)
    {
        var s = state.State;
        long version = _salt + s.DataVersion;
        if (version == knownDataVersion)
        {
            return Task.FromResult(new MetricTotals { DataVersion = version, Unchanged = true, Pings = s.Pings });
        }
        return Task.FromResult(new MetricTotals { DataVersion = version, Pings = s.Pings, Metrics = MetricTotalsBuilder.Sum(s.Series, s.Layouts) });
    }

    async Task IAggregateGrain.Replace(AggregateDelta content, ImmutableDictionary<int, long> checkpoints)
    {
        var s = state.State;
        s.Series = content.Series.ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        s.Layouts = new Dictionary<string, MetricLayout>(content.Layouts, StringComparer.Ordinal);
        s.Pings = content.Pings;
        s.Progress = checkpoints.ToDictionary(kv => kv.Key, kv => new PartitionProgress { Checkpoint = kv.Value });
        s.DataVersion++;
        _table = null;
        await state.WriteStateAsync();
        _tracker.Written();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_tracker.Dirty)
        {
            await state.WriteStateAsync(cancellationToken);
            _tracker.Written();
        }
    }

    private PartitionProgress Progress(int partition, long partitionCheckpoint) =>
        PartitionProgress.Of(state.State.Progress, partition, partitionCheckpoint);

    private static bool Matches(in SeriesKey key, AggregateQuery q) =>
        (q.Application is null || key.Application == q.Application)
        && (q.Architecture is null || key.Architecture == q.Architecture)
        && (q.Os is null || key.Os == q.Os)
        && (q.OsVersion is null || key.OsVersion == q.OsVersion)
        && (q.Label is null || key.Label == q.Label)
        && (q.Process is null || key.Process == q.Process);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Aggregate {Key}: {Count} series skipped because their bucket count differs from the metric's layout")]
    private static partial void LogLayoutMismatch(ILogger logger, string key, int count);
}
