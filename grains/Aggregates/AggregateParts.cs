using System.Runtime.CompilerServices;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// An aggregate's state stored as a small header and parts (docs/ingest-cost.md, "Aggregate state
/// writes"): the header holds pings, data version and which batches of each partition are in; each part
/// holds series and metric layouts in the compact form of <see cref="AggregateStateCodec"/>. The first
/// part is a base with every series; each later part (a delta) holds only the series and layouts that
/// changed since the write before it, whole, so reading applies the parts in order and later wins.
/// </summary>
public static class AggregateParts
{
    private static ReadOnlySpan<byte> HeaderMagic => [0xFF, (byte)'A', (byte)'G', (byte)'H', 1];

    /// <summary>Schema version, pings, data version and the partitions' progress.</summary>
    public static byte[] Header(AggregateState state)
    {
        var w = new VarintWriter(256);
        w.Bytes(HeaderMagic);
        w.Signed(state.SchemaVersion);
        w.Signed(state.Pings);
        w.Signed(state.DataVersion);
        AggregateStateCodec.WriteProgress(w, state.Progress);
        return w.ToArray();
    }

    /// <summary>A new state holding what <paramref name="header"/> says; its parts are added by <see cref="Apply"/>.</summary>
    public static AggregateState ReadHeader(ReadOnlySpan<byte> header)
    {
        if (!header.StartsWith(HeaderMagic))
        {
            throw new InvalidDataException("not an aggregate state header");
        }
        var r = new VarintReader(header[HeaderMagic.Length..]);
        var state = new AggregateState
        {
            SchemaVersion = checked((int)r.Signed()),
            Pings = r.Signed(),
            DataVersion = r.Signed(),
        };
        AggregateStateCodec.ReadProgress(ref r, state.Progress, header.Length);
        r.End();
        return state;
    }

    /// <summary>A part holding the given series and layouts (the state's own objects; nothing is copied).</summary>
    public static byte[] Part(Dictionary<SeriesKey, HistogramAccumulator> series, Dictionary<string, MetricLayout> layouts) =>
        AggregateStateCodec.Write(new AggregateState { Series = series, Layouts = layouts });

    /// <summary>Adds a part to <paramref name="state"/>: its series and layouts replace those of earlier parts.</summary>
    public static void Apply(ReadOnlySpan<byte> part, AggregateState state)
    {
        var read = AggregateStateCodec.Read(part);
        if (read.Pings != 0 || read.DataVersion != 0 || read.Progress.Count != 0)
        {
            throw new InvalidDataException("an aggregate part holds header fields");
        }
        foreach (var (metric, layout) in read.Layouts)
        {
            state.Layouts[metric] = layout;
        }
        foreach (var (key, acc) in read.Series)
        {
            state.Series[key] = acc;
        }
    }
}

/// <summary>What one state write stores besides the header.</summary>
public sealed class AggregatePartWrite
{
    internal AggregatePartWrite(bool isBase, byte[]? part, List<(HistogramAccumulator Acc, long Count, long Sum)> series, List<(string Metric, MetricLayout Layout)> layouts)
    {
        IsBase = isBase;
        Part = part;
        Series = series;
        Layouts = layouts;
    }

    /// <summary>True: <see cref="Part"/> holds every series and replaces all stored parts. False: it is added after them.</summary>
    public bool IsBase { get; }

    /// <summary>The part to store; null when no series or layout changed (the header alone is written).</summary>
    public byte[]? Part { get; }

    /// <summary>Series in <see cref="Part"/>.</summary>
    public int SeriesWritten => Series.Count;

    internal List<(HistogramAccumulator Acc, long Count, long Sum)> Series { get; }
    internal List<(string Metric, MetricLayout Layout)> Layouts { get; }
}

/// <summary>
/// What the stored parts of one aggregate hold, as of the last read or write of its state, so that the
/// next write stores only series and layouts that changed. A series is known unchanged while its
/// accumulator is the same object with the same count and sum: adding a ping to a series always
/// increments its count, and reprocessing replaces accumulators with new objects.
/// A write stores a new base instead of a delta when half the series or more changed (as in an
/// aggregate receiving pings of every kind), or when the deltas since the last base would outgrow half
/// of it: a delta costs the same per series as a base, and reads stay bounded by 1.5 bases. A series
/// or layout removed, or an accumulator replaced (reprocessing replaced the content), also makes a base.
/// </summary>
public sealed class AggregatePartBook
{
    // By accumulator object, not series key: a third of the memory per series, and a series whose
    // accumulator was replaced is simply not found.
    private readonly Dictionary<HistogramAccumulator, (long Count, long Sum)> _series = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, MetricLayout> _layouts = new(StringComparer.Ordinal);
    private bool _known;
    private long _baseBytes;
    private long _deltaBytes;

    /// <summary>The book of a state read from its parts: every series and layout in it is stored as it is.</summary>
    public static AggregatePartBook Loaded(AggregateState state, long baseBytes, long deltaBytes)
    {
        var book = new AggregatePartBook { _known = true, _baseBytes = baseBytes, _deltaBytes = deltaBytes };
        foreach (var acc in state.Series.Values)
        {
            book._series[acc] = (acc.Count, acc.Sum);
        }
        foreach (var (metric, layout) in state.Layouts)
        {
            book._layouts[metric] = layout;
        }
        return book;
    }

    /// <summary>The book of a state whose stored parts are not known (read from the single-row form, or none yet): its next write is a base.</summary>
    public static AggregatePartBook Unknown() => new();

    public AggregatePartWrite Next(AggregateState state)
    {
        if (!_known || _layouts.Keys.Any(m => !state.Layouts.ContainsKey(m)))
        {
            return Base(state);
        }
        var layouts = new Dictionary<string, MetricLayout>(StringComparer.Ordinal);
        foreach (var (metric, layout) in state.Layouts)
        {
            if (!_layouts.TryGetValue(metric, out var stored) || stored != layout)
            {
                layouts[metric] = layout;
            }
        }
        var series = new Dictionary<SeriesKey, HistogramAccumulator>();
        int known = 0;
        foreach (var (key, acc) in state.Series)
        {
            if (_series.TryGetValue(acc, out var stored))
            {
                known++;
                if (stored.Count == acc.Count && stored.Sum == acc.Sum)
                {
                    continue;
                }
            }
            series[key] = acc;
            if (series.Count * 2 >= state.Series.Count)
            {
                return Base(state); // a delta would be most of a base: stop collecting it
            }
        }
        if (known < _series.Count)
        {
            return Base(state); // a stored series is gone (or its accumulator was replaced)
        }
        if (series.Count == 0 && layouts.Count == 0)
        {
            return new AggregatePartWrite(false, null, [], []);
        }
        var part = AggregateParts.Part(series, layouts);
        if ((_deltaBytes + part.Length) * 2 > _baseBytes)
        {
            return Base(state);
        }
        return new AggregatePartWrite(false, part, [.. series.Values.Select(a => (a, a.Count, a.Sum))], [.. layouts.Select(kv => (kv.Key, kv.Value))]);
    }

    private static AggregatePartWrite Base(AggregateState state) => new(true, AggregateParts.Part(state.Series, state.Layouts),
        [.. state.Series.Values.Select(a => (a, a.Count, a.Sum))], [.. state.Layouts.Select(kv => (kv.Key, kv.Value))]);

    /// <summary>Records that <paramref name="write"/> is stored (call only after its transaction committed).</summary>
    public void Stored(AggregatePartWrite write)
    {
        if (write.Part is null)
        {
            return;
        }
        if (write.IsBase)
        {
            _series.Clear();
            _layouts.Clear();
            _known = true;
            _baseBytes = write.Part.Length;
            _deltaBytes = 0;
        }
        else
        {
            _deltaBytes += write.Part.Length;
        }
        foreach (var (metric, layout) in write.Layouts)
        {
            _layouts[metric] = layout;
        }
        foreach (var (acc, count, sum) in write.Series)
        {
            _series[acc] = (count, sum);
        }
    }
}

/// <summary>The books of the states a storage provider has read or written, each kept as long as its state object lives.</summary>
public sealed class AggregatePartBooks
{
    private readonly ConditionalWeakTable<AggregateState, AggregatePartBook> _books = new();

    public AggregatePartBook Of(AggregateState state) => _books.GetValue(state, static _ => AggregatePartBook.Unknown());

    public void Set(AggregateState state, AggregatePartBook book) => _books.AddOrUpdate(state, book);
}
