using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Regressions;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// A channel coordinator's view of its build-date aggregates (docs/regressions.md, "Feeding the series"): the
/// latest per-metric totals read from each aggregate in the window, and which of them each series was last
/// sent. In memory only: after a restart everything is read again, and a series that lost its parts says so.
/// </summary>
public sealed class ChannelTotals
{
    private sealed record AggregateRead(DateOnly BuildDate, long DataVersion, long Pings, IReadOnlyDictionary<string, MetricTotal> Metrics);

    private readonly Dictionary<string, AggregateRead> _reads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, long>> _sent = new(StringComparer.Ordinal);
    private string[]? _orderedKeys;

    /// <summary>The build dates of the window, oldest first.</summary>
    public ImmutableArray<DateOnly> Window { get; private set; } = ImmutableArray<DateOnly>.Empty;

    /// <summary>
    /// The newest <paramref name="size"/> build dates among the channel's aggregates (<paramref name="catalog"/>: the
    /// catalog's (date, version) pairs), ignoring dates after tomorrow (a clock or a build id gone wrong must not push
    /// real dates out), and the aggregate keys of those dates.
    /// </summary>
    public static (ImmutableArray<DateOnly> Dates, ImmutableArray<(string Key, DateOnly Date)> Aggregates) SelectWindow(
        string channel, IEnumerable<DateVersion> catalog, DateOnly today, int size)
    {
        var parsed = catalog
            .Select(dv => (dv.Version, Ok: DateOnly.TryParseExact(dv.Date, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d), Date: d, Raw: dv.Date))
            .Where(x => x.Ok && x.Date <= today.AddDays(1))
            .ToList();
        var dates = parsed.Select(x => x.Date).Distinct().OrderDescending().Take(size).Order().ToImmutableArray();
        var inWindow = dates.ToHashSet();
        var aggregates = parsed
            .Where(x => inWindow.Contains(x.Date))
            .Select(x => (AggregateFamily.GrainKey(AggregateFamily.BuildId, channel, x.Version, x.Raw), x.Date))
            .OrderBy(x => x.Item1, StringComparer.Ordinal)
            .ToImmutableArray();
        return (dates, aggregates);
    }

    /// <summary>The data version last read from <paramref name="aggregateKey"/> (0: never read), to pass to <see cref="IAggregateGrain.GetMetricTotals"/>.</summary>
    public long KnownVersion(string aggregateKey) => _reads.TryGetValue(aggregateKey, out var r) ? r.DataVersion : 0;

    /// <summary>Records what an aggregate answered (nothing to do when it was unchanged).</summary>
    public void Apply(string aggregateKey, DateOnly buildDate, MetricTotals totals)
    {
        if (totals.Unchanged && _reads.ContainsKey(aggregateKey))
        {
            return;
        }
        if (!_reads.ContainsKey(aggregateKey))
        {
            _orderedKeys = null;
        }
        _reads[aggregateKey] = new AggregateRead(buildDate, totals.DataVersion, totals.Pings,
            totals.Metrics.ToDictionary(m => m.Metric, StringComparer.Ordinal));
    }

    /// <summary>Forgets aggregates outside the window (<paramref name="aggregates"/>) and sets <see cref="Window"/>.</summary>
    public void Retain(ImmutableArray<DateOnly> window, IEnumerable<string> aggregates)
    {
        var keep = aggregates.ToHashSet(StringComparer.Ordinal);
        foreach (var key in _reads.Keys.Where(k => !keep.Contains(k)).ToList())
        {
            _reads.Remove(key);
            _orderedKeys = null;
        }
        Window = window;
        var metrics = Metrics().ToHashSet(StringComparer.Ordinal);
        foreach (var metric in _sent.Keys.Where(m => !metrics.Contains(m)).ToList())
        {
            _sent.Remove(metric);
        }
    }

    /// <summary>Every metric some aggregate of the window holds, sorted.</summary>
    public ImmutableArray<string> Metrics() =>
        [.. _reads.Values.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Pings per build date, all major versions together.</summary>
    public IReadOnlyDictionary<DateOnly, long> PingsByDate() =>
        _reads.Values.GroupBy(r => r.BuildDate).ToDictionary(g => g.Key, g => g.Sum(r => r.Pings));

    /// <summary>
    /// The request for <paramref name="metric"/>'s series: the manifest of every aggregate holding it, and the parts
    /// not sent to that series yet (by data version).
    /// </summary>
    public SeriesDetectionRequest RequestFor(string metric, ImmutableArray<string> detectors)
    {
        _sent.TryGetValue(metric, out var sent);
        var manifest = ImmutableArray.CreateBuilder<PartStamp>();
        var parts = ImmutableArray.CreateBuilder<SeriesPart>();
        _orderedKeys ??= [.. _reads.Keys.Order(StringComparer.Ordinal)];
        foreach (var key in _orderedKeys)
        {
            var read = _reads[key];
            if (!read.Metrics.TryGetValue(metric, out var total))
            {
                continue;
            }
            manifest.Add(new PartStamp { AggregateKey = key, DataVersion = read.DataVersion });
            if (sent is null || !sent.TryGetValue(key, out long version) || version != read.DataVersion)
            {
                parts.Add(SeriesBook.PartOf(key, read.BuildDate, read.DataVersion, total));
            }
        }
        return new SeriesDetectionRequest { Manifest = manifest.ToImmutable(), Parts = parts.ToImmutable(), Detectors = detectors };
    }

    /// <summary>The parts of <paramref name="aggregateKeys"/> for a series that reported them missing.</summary>
    public ImmutableArray<SeriesPart> PartsFor(string metric, IEnumerable<string> aggregateKeys) =>
        [.. aggregateKeys
            .Where(k => _reads.TryGetValue(k, out var r) && r.Metrics.ContainsKey(metric))
            .Select(k => SeriesBook.PartOf(k, _reads[k].BuildDate, _reads[k].DataVersion, _reads[k].Metrics[metric]))];

    /// <summary>Remembers that <paramref name="metric"/>'s series holds exactly <paramref name="manifest"/>.</summary>
    public void Sent(string metric, ImmutableArray<PartStamp> manifest) =>
        _sent[metric] = manifest.ToDictionary(s => s.AggregateKey, s => s.DataVersion, StringComparer.Ordinal);
}
