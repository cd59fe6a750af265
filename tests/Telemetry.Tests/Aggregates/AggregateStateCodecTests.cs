using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Aggregates;

namespace Telemetry.Tests.Aggregates;

/// <summary>
/// The compact stored form of aggregate states (docs/ingest-cost.md): it gives back exactly what was
/// written, rows written by the Orleans serializer before it are still read, other states keep the
/// Orleans serializer, and damaged data is refused instead of read as something else.
/// </summary>
public sealed class AggregateStateCodecTests
{
    private static readonly IGrainStorageSerializer Orleans =
        new OrleansGrainStorageSerializer(new ServiceCollection()
            .AddSerializer(s => s.AddAssembly(typeof(AggregateState).Assembly).AddAssembly(typeof(SeriesKey).Assembly)).BuildServiceProvider().GetRequiredService<Serializer>());

    internal static AggregateState Sample()
    {
        var state = new AggregateState { Pings = 1234, DataVersion = 77 };
        state.Layouts["GC_MS"] = new MetricLayout { Kind = 0, Low = 1, High = 10_000, BucketCount = 50 };
        state.Layouts["ÜNICODE_ñ"] = new MetricLayout { Kind = 4, Low = -5, High = long.MaxValue, BucketCount = 3, Undeclared = true };
        state.Progress[0] = new PartitionProgress { Checkpoint = 41 };
        state.Progress[7] = new PartitionProgress { Checkpoint = 0, Applied = [3, 5, long.MaxValue] };
        var counts = new long[50];
        counts[0] = 1;
        counts[2] = -3; // never negative in practice; kept exactly anyway
        counts[49] = long.MaxValue;
        state.Series[Key("GC_MS", "", "WINNT")] = new HistogramAccumulator { Counts = counts, Sum = long.MinValue, Count = 9 };
        state.Series[Key("GC_MS", "", "Linux")] = new HistogramAccumulator(50);
        state.Series[Key("ÜNICODE_ñ", "key \u001f with space", "Darwin")] = new HistogramAccumulator { Counts = [0, 0, 5], Sum = 5, Count = 1 };
        state.Series[Key("EMPTY", "", "")] = new HistogramAccumulator { Counts = [] };
        return state;
    }

    internal static SeriesKey Key(string metric, string label, string os) => new()
    {
        Metric = metric, Label = label, Process = "content", Application = "Firefox", Architecture = "x86-64", Os = os, OsVersion = "10.0",
    };

    internal static void AssertSame(AggregateState expected, AggregateState actual)
    {
        Assert.Equal((expected.SchemaVersion, expected.Pings, expected.DataVersion), (actual.SchemaVersion, actual.Pings, actual.DataVersion));
        Assert.Equal(expected.Layouts.OrderBy(kv => kv.Key, StringComparer.Ordinal), actual.Layouts.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Progress.Keys.Order(), actual.Progress.Keys.Order());
        foreach (var (p, progress) in expected.Progress)
        {
            Assert.Equal(progress.Checkpoint, actual.Progress[p].Checkpoint);
            Assert.Equal(progress.Applied.Order(), actual.Progress[p].Applied.Order());
        }
        Assert.Equal(expected.Series.Count, actual.Series.Count);
        foreach (var (key, acc) in expected.Series)
        {
            var other = actual.Series[key];
            Assert.Equal((acc.Sum, acc.Count), (other.Sum, other.Count));
            Assert.Equal(acc.Counts, other.Counts);
        }
        // The layouts dictionary keeps its ordinal comparer (lookups by metric name).
        Assert.Same(StringComparer.Ordinal, actual.Layouts.Comparer);
    }

    [Fact]
    public void EveryStoredFieldIsOneTheCodecKnows()
    {
        // The codec writes fields by name; a field added to a stored type without a place in the
        // codec would be dropped silently at the next write. This lists them, so adding one fails here.
        static string[] Fields(Type t) => [.. t.GetProperties().Where(p => p.GetCustomAttributes(typeof(IdAttribute), false).Length > 0).Select(p => p.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["DataVersion", "Layouts", "Pings", "Progress", "SchemaVersion", "Series"], Fields(typeof(AggregateState)));
        Assert.Equal(["Applied", "Checkpoint"], Fields(typeof(PartitionProgress)));
        Assert.Equal(["Count", "Counts", "Sum"], Fields(typeof(HistogramAccumulator)));
        Assert.Equal(["BucketCount", "High", "Kind", "Low", "Undeclared"], Fields(typeof(MetricLayout)));
        Assert.Equal(["Application", "Architecture", "Label", "Metric", "Os", "OsVersion", "Process"], Fields(typeof(SeriesKey)));
    }

    [Fact]
    public void A_state_reads_back_exactly_as_written()
    {
        var serializer = new TelemetryGrainStorageSerializer(Orleans);
        var state = Sample();
        var data = serializer.Serialize(state);
        Assert.True(AggregateStateCodec.IsCompact(data.ToMemory().Span));
        AssertSame(state, serializer.Deserialize<AggregateState>(data)!);
        AssertSame(new AggregateState(), serializer.Deserialize<AggregateState>(serializer.Serialize(new AggregateState()))!);
    }

    [Fact]
    public void A_state_stored_by_the_Orleans_serializer_before_is_still_read()
    {
        var state = Sample();
        var legacy = Orleans.Serialize(state);
        Assert.False(AggregateStateCodec.IsCompact(legacy.ToMemory().Span));
        AssertSame(state, new TelemetryGrainStorageSerializer(Orleans).Deserialize<AggregateState>(legacy)!);
    }

    [Fact]
    public void Other_states_keep_the_Orleans_serializer()
    {
        var serializer = new TelemetryGrainStorageSerializer(Orleans);
        var progress = new PartitionProgress { Checkpoint = 5, Applied = [6] };
        var data = serializer.Serialize(progress);
        Assert.Equal(Orleans.Serialize(progress).ToArray(), data.ToArray());
        Assert.Equal(5, serializer.Deserialize<PartitionProgress>(data)!.Checkpoint);
    }

    [Fact]
    public void Damaged_data_is_refused()
    {
        var data = AggregateStateCodec.Write(Sample());
        Assert.Throws<InvalidDataException>(() => AggregateStateCodec.Read(data.AsSpan(0, data.Length - 1)));
        Assert.Throws<InvalidDataException>(() => AggregateStateCodec.Read([.. data, 0]));
        Assert.Throws<InvalidDataException>(() => AggregateStateCodec.Read(data.AsSpan(0, 5)));
        // Every truncation fails cleanly (no other exception, no state read from part of the data).
        for (int n = 0; n < data.Length; n++)
        {
            var cut = data.AsSpan(0, n).ToArray();
            var e = Record.Exception(() => AggregateStateCodec.Read(cut));
            Assert.True(e is InvalidDataException or OverflowException, $"cut at {n}: {e?.GetType().Name ?? "no exception"}");
        }
    }
}
