using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Aggregates;
using Telemetry.Grains.Crash;

namespace Telemetry.Grains.Ingest;

/// <summary>What one accepted ping gives aggregation, prepared once when it is decoded.</summary>
public sealed record PingAggregates(string BuildIdKey, string SubmissionDateKey, PingHistograms Histograms, CrashDecodeResult Crash, DateOnly SubmissionDate)
{
    public static PingAggregates Of(DecodedPing ping)
    {
        var (buildIdKey, submissionDateKey) = DeltaBuilder.KeysOf(ping);
        return new PingAggregates(buildIdKey, submissionDateKey, ping.ToHistograms(), ping.Crash, ping.SubmissionDate);
    }
}

/// <summary>
/// Groups pings by the aggregate grains they go to (both histogram families, plus the crash
/// aggregates), so a batch of pings costs one grain call per aggregate, not one per ping.
/// </summary>
public sealed class DeltaBuilder
{
    private readonly Dictionary<string, ImmutableArray<PingHistograms>.Builder> _pings = new(StringComparer.Ordinal);
    private readonly Func<string, bool>? _keyFilter;
    private readonly CrashDeltaBuilder _crash;

    /// <param name="keyFilter">When given, only aggregates whose grain key it accepts are built (reprocessing).</param>
    public DeltaBuilder(Func<string, bool>? keyFilter = null)
    {
        _keyFilter = keyFilter;
        _crash = new CrashDeltaBuilder(keyFilter);
    }

    public int Pings { get; private set; }

    public void Add(DecodedPing ping) => Add(PingAggregates.Of(ping));

    public void Add(PingAggregates ping)
    {
        Pings++;
        AddTo(ping.BuildIdKey, ping.Histograms);
        AddTo(ping.SubmissionDateKey, ping.Histograms);
        _crash.Add(ping.Crash, ping.SubmissionDate);
    }

    /// <summary>The grain keys a ping contributes to (both families).</summary>
    public static (string BuildIdKey, string SubmissionDateKey) KeysOf(DecodedPing ping)
    {
        var d = ping.Dimensions;
        return (AggregateFamily.GrainKey(AggregateFamily.BuildId, d.Channel, d.MajorVersion, d.BuildDate),
            AggregateFamily.GrainKey(AggregateFamily.SubmissionDate, d.Channel, d.MajorVersion, d.SubmissionDate));
    }

    /// <summary>The pings per aggregate grain key.</summary>
    public ImmutableDictionary<string, ImmutableArray<PingHistograms>> Build() =>
        _pings.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.ToImmutable(), StringComparer.Ordinal);

    /// <summary>The crash aggregate deltas (README, "Crash aggregates") of the same pings.</summary>
    public ImmutableDictionary<string, CrashDelta> BuildCrash() => _crash.Build();

    private void AddTo(string key, PingHistograms ping)
    {
        if (_keyFilter is not null && !_keyFilter(key))
        {
            return;
        }
        if (!_pings.TryGetValue(key, out var list))
        {
            _pings[key] = list = ImmutableArray.CreateBuilder<PingHistograms>();
        }
        list.Add(ping);
    }
}

/// <summary>
/// Sums pings into the dense content of each aggregate as they come (reprocessing: memory grows
/// with the number of series, not of pings).
/// </summary>
public sealed class ContentBuilder
{
    private readonly Dictionary<string, (AggregateDelta Content, SeriesTable Table)> _contents = new(StringComparer.Ordinal);
    private readonly Func<string, bool>? _keyFilter;
    private readonly CrashDeltaBuilder _crash;

    /// <param name="keyFilter">When given, only aggregates whose grain key it accepts are built.</param>
    public ContentBuilder(Func<string, bool>? keyFilter = null)
    {
        _keyFilter = keyFilter;
        _crash = new CrashDeltaBuilder(keyFilter);
    }

    public void Add(DecodedPing ping)
    {
        var (buildIdKey, submissionDateKey) = DeltaBuilder.KeysOf(ping);
        bool buildId = _keyFilter is null || _keyFilter(buildIdKey);
        bool submission = _keyFilter is null || _keyFilter(submissionDateKey);
        if (buildId || submission)
        {
            var histograms = ping.ToHistograms();
            if (buildId)
            {
                AddTo(buildIdKey, histograms);
            }
            if (submission)
            {
                AddTo(submissionDateKey, histograms);
            }
        }
        _crash.Add(ping.Crash, ping.SubmissionDate);
    }

    /// <summary>The summed content per aggregate grain key.</summary>
    public ImmutableDictionary<string, AggregateDelta> Build() =>
        _contents.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.Content, StringComparer.Ordinal);

    /// <summary>The crash aggregate deltas (README, "Crash aggregates") of the same pings.</summary>
    public ImmutableDictionary<string, CrashDelta> BuildCrash() => _crash.Build();

    private void AddTo(string key, PingHistograms ping)
    {
        if (!_contents.TryGetValue(key, out var entry))
        {
            var content = new AggregateDelta();
            _contents[key] = entry = (content, new SeriesTable(content.Series, content.Layouts));
        }
        entry.Table.Add(ping);
        entry.Content.Pings++;
    }
}
