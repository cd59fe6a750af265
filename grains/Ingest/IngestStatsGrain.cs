using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Ingest;

namespace Telemetry.Grains.Ingest;

[GenerateSerializer]
public sealed class IngestStatsState
{
    [Id(0)] public long Accepted { get; set; }
    [Id(1)] public long Duplicates { get; set; }
    [Id(2)] public long Bytes { get; set; }
    [Id(3)] public Dictionary<string, long> Rejected { get; set; } = new(StringComparer.Ordinal);
    [Id(4)] public Dictionary<string, long> InvalidHistograms { get; set; } = new(StringComparer.Ordinal);
    [Id(5)] public Dictionary<long, MinuteBucket> Minutes { get; set; } = new();
}

/// <summary>Cluster-wide ingest counters for the portal; silos report every few seconds, state is written at most every 10 s.</summary>
public sealed class IngestStatsGrain(
    [PersistentState("ingest-stats", StorageNames.Telemetry)] IPersistentState<IngestStatsState> state) : Grain, IIngestStatsGrain
{
    private const int MaxInvalidMetrics = 2000;
    /// <summary>Recent rejected submissions kept per reason (in memory only: they are for a look, not a record).</summary>
    public const int MaxSamplesPerReason = 10;
    private const int MaxSampleReasons = 64;
    private readonly Dictionary<int, double> _lag = new();
    private readonly Dictionary<string, LinkedList<RejectSample>> _samples = new(StringComparer.Ordinal);
    private DateTimeOffset _lastWrite = DateTimeOffset.MinValue;

    async Task IIngestStatsGrain.Report(IngestCounterReport report)
    {
        var s = state.State;
        s.Accepted += report.Accepted;
        s.Duplicates += report.Duplicates;
        s.Bytes += report.Bytes;
        long rejected = 0;
        foreach (var (reason, n) in report.RejectedByReason)
        {
            s.Rejected[reason] = s.Rejected.GetValueOrDefault(reason) + n;
            rejected += n;
        }
        foreach (var (metric, n) in report.InvalidHistogramsByMetric)
        {
            if (s.InvalidHistograms.ContainsKey(metric) || s.InvalidHistograms.Count < MaxInvalidMetrics)
            {
                s.InvalidHistograms[metric] = s.InvalidHistograms.GetValueOrDefault(metric) + n;
            }
        }
        KeepSamples(report.RejectSamples);
        long minute = report.At.ToUnixTimeSeconds() / 60;
        var bucket = s.Minutes.GetValueOrDefault(minute) ?? new MinuteBucket { Minute = DateTimeOffset.FromUnixTimeSeconds(minute * 60) };
        s.Minutes[minute] = bucket with { Accepted = bucket.Accepted + report.Accepted, Rejected = bucket.Rejected + rejected };
        long oldest = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60 - 60;
        foreach (var m in s.Minutes.Keys.Where(m => m < oldest).ToList())
        {
            s.Minutes.Remove(m);
        }
        if (DateTimeOffset.UtcNow - _lastWrite > TimeSpan.FromSeconds(10))
        {
            _lastWrite = DateTimeOffset.UtcNow;
            await state.WriteStateAsync();
        }
    }

    private void KeepSamples(IEnumerable<RejectSample> samples)
    {
        foreach (var sample in samples)
        {
            if (!_samples.TryGetValue(sample.Reason, out var list))
            {
                if (_samples.Count >= MaxSampleReasons)
                {
                    continue;
                }
                _samples[sample.Reason] = list = new LinkedList<RejectSample>();
            }
            list.AddFirst(sample);
            while (list.Count > MaxSamplesPerReason)
            {
                list.RemoveLast();
            }
        }
    }

    Task<IngestRejects> IIngestStatsGrain.GetRejects(int samplesPerReason)
    {
        int n = Math.Clamp(samplesPerReason, 0, MaxSamplesPerReason);
        return Task.FromResult(new IngestRejects
        {
            Counts = state.State.Rejected.ToImmutableDictionary(StringComparer.Ordinal),
            Samples = _samples.ToImmutableDictionary(
                kv => kv.Key,
                kv => kv.Value.OrderByDescending(x => x.At).Take(n).ToImmutableArray(),
                StringComparer.Ordinal),
        });
    }

    Task IIngestStatsGrain.ReportLag(int partition, double lagSeconds)
    {
        _lag[partition] = lagSeconds;
        return Task.CompletedTask;
    }

    async Task<IngestOverview> IIngestStatsGrain.GetOverview()
    {
        var s = state.State;
        long nowMinute = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 60;
        var lastHour = Enumerable.Range(0, 60)
            .Select(i => nowMinute - 59 + i)
            .Select(m => s.Minutes.GetValueOrDefault(m) ?? new MinuteBucket { Minute = DateTimeOffset.FromUnixTimeSeconds(m * 60) })
            .ToImmutableArray();
        var catalog = GrainFactory.GetGrain<ICatalogGrain>(0);
        var keys = await catalog.GetKeys();
        var channels = keys.Select(k => AggregateFamily.TryParseGrainKey(k, out var parts) ? parts : default)
            .Where(k => k.Channel is not null)
            .GroupBy(k => k.Channel, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ChannelVersions
            {
                Channel = g.Key,
                Versions = g.Select(k => k.Version).Distinct(StringComparer.Ordinal)
                    .OrderByDescending(v => v, Telemetry.Grains.Aggregates.VersionComparer.Instance).ToImmutableArray(),
            })
            .ToImmutableArray();
        return new IngestOverview
        {
            AcceptedTotal = s.Accepted,
            DuplicatesTotal = s.Duplicates,
            BytesTotal = s.Bytes,
            RejectedByReason = s.Rejected.ToImmutableDictionary(StringComparer.Ordinal),
            InvalidHistogramsByMetric = s.InvalidHistograms.ToImmutableDictionary(StringComparer.Ordinal),
            LastHour = lastHour,
            AggregationLagSeconds = _lag.Count == 0 ? 0 : _lag.Values.Max(),
            Channels = channels,
            GeneratedAt = DateTimeOffset.UtcNow,
        };
    }
}
