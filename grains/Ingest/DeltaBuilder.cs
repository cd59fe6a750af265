using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// Sums decoded pings into one <see cref="AggregateDelta"/> per aggregate grain (both families),
/// so a batch of pings costs one grain call per aggregate, not one per ping.
/// </summary>
public sealed class DeltaBuilder
{
    private readonly Dictionary<string, AggregateDelta> _deltas = new(StringComparer.Ordinal);
    private readonly Func<string, bool>? _keyFilter;
    private readonly Telemetry.Grains.Crash.CrashDeltaBuilder _crash;

    /// <param name="keyFilter">When given, only aggregates whose grain key it accepts are built (reprocessing).</param>
    public DeltaBuilder(Func<string, bool>? keyFilter = null)
    {
        _keyFilter = keyFilter;
        _crash = new Telemetry.Grains.Crash.CrashDeltaBuilder(keyFilter);
    }

    public int Pings { get; private set; }

    /// <summary>Series whose layout differed from the one already in the delta (skipped).</summary>
    public int LayoutMismatches { get; private set; }

    public void Add(DecodedPing ping)
    {
        Pings++;
        var (buildIdKey, submissionDateKey) = KeysOf(ping);
        AddTo(buildIdKey, ping);
        AddTo(submissionDateKey, ping);
        _crash.Add(ping.Crash, ping.SubmissionDate);
    }

    /// <summary>The grain keys a ping contributes to (both families).</summary>
    public static (string BuildIdKey, string SubmissionDateKey) KeysOf(DecodedPing ping)
    {
        var d = ping.Dimensions;
        return (AggregateFamily.GrainKey(AggregateFamily.BuildId, d.Channel, d.MajorVersion, d.BuildDate),
            AggregateFamily.GrainKey(AggregateFamily.SubmissionDate, d.Channel, d.MajorVersion, d.SubmissionDate));
    }

    public ImmutableDictionary<string, AggregateDelta> Build() => _deltas.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary>The crash aggregate deltas (spec 40) of the same pings.</summary>
    public ImmutableDictionary<string, Telemetry.Contracts.Crash.CrashDelta> BuildCrash() => _crash.Build();

    private void AddTo(string key, DecodedPing ping)
    {
        if (_keyFilter is not null && !_keyFilter(key))
        {
            return;
        }
        if (!_deltas.TryGetValue(key, out var delta))
        {
            delta = new AggregateDelta();
            _deltas[key] = delta;
        }
        delta.Pings++;
        var d = ping.Dimensions;
        foreach (var c in ping.Contributions)
        {
            var layout = c.Layout;
            if (!delta.Layouts.TryGetValue(c.Metric, out var known))
            {
                known = new MetricLayout { Kind = (int)layout.Kind, Low = layout.Low, High = layout.High, BucketCount = layout.BucketCount, Undeclared = c.Undeclared };
                delta.Layouts[c.Metric] = known;
            }
            if (known.BucketCount != layout.BucketCount)
            {
                LayoutMismatches++;
                continue;
            }
            var series = new SeriesKey
            {
                Metric = c.Metric,
                Label = c.Label,
                Process = Telemetry.Grains.Ingest.ProcessKinds.Name(c.Process),
                Application = d.Application,
                Architecture = d.Architecture,
                Os = d.Os,
                OsVersion = d.OsVersion,
            };
            if (!delta.Series.TryGetValue(series, out var acc))
            {
                acc = new HistogramAccumulator(layout.BucketCount);
                delta.Series[series] = acc;
            }
            var idx = ping.IndexesOf(in c);
            var counts = ping.CountsOf(in c);
            var target = acc.Counts;
            for (int i = 0; i < idx.Length; i++)
            {
                target[idx[i]] += counts[i];
            }
            acc.Sum += c.Sum;
            acc.Count++;
        }
    }
}
