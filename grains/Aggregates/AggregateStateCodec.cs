using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// The stored form of an <see cref="AggregateState"/> (docs/ingest-cost.md, "Aggregate state writes"):
/// every distinct string once in a table, series keys as indexes into it, bucket counts as varints of
/// their non-zero buckets only. It is the form of a whole state in <c>orleansstorage</c> (before
/// aggregate states had tables of their own) and of every part in <c>aggregate_parts</c>
/// (<see cref="AggregateParts"/>). With the Orleans serializer one build-date aggregate of the
/// benchmark took ≈ 25 ms of silo CPU and 378 KiB per write (seven strings and a tagged field per
/// bucket for each of its thousands of series), in this form ≈ 4.5 ms and 130 KiB. States written
/// before this format (Orleans serializer) are still read: see <see cref="TelemetryGrainStorageSerializer"/>.
/// </summary>
public static class AggregateStateCodec
{
    // 0xFF can not start an Orleans-serialized value (an extended wire type with a reserved tag).
    private static ReadOnlySpan<byte> Magic => [0xFF, (byte)'A', (byte)'G', (byte)'S', 1];

    private const int MaxBuckets = 1 << 20;

    public static bool IsCompact(ReadOnlySpan<byte> data) => data.StartsWith(Magic);

    public static byte[] Write(AggregateState state)
    {
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = new List<string>();
        int Id(string s)
        {
            if (!strings.TryGetValue(s, out int id))
            {
                id = order.Count;
                strings[s] = id;
                order.Add(s);
            }
            return id;
        }
        // Body first (string ids are assigned as they are met), then the header and string table.
        var body = new VarintWriter(64 * 1024);
        body.Signed(state.SchemaVersion);
        body.Signed(state.Pings);
        body.Signed(state.DataVersion);
        body.Unsigned((ulong)state.Layouts.Count);
        foreach (var (metric, layout) in state.Layouts)
        {
            body.Unsigned((ulong)Id(metric));
            WriteLayout(body, layout);
        }
        WriteProgress(body, state.Progress);
        body.Unsigned((ulong)state.Series.Count);
        foreach (var (key, acc) in state.Series)
        {
            body.Unsigned((ulong)Id(key.Metric));
            body.Unsigned((ulong)Id(key.Label));
            body.Unsigned((ulong)Id(key.Process));
            body.Unsigned((ulong)Id(key.Application));
            body.Unsigned((ulong)Id(key.Architecture));
            body.Unsigned((ulong)Id(key.Os));
            body.Unsigned((ulong)Id(key.OsVersion));
            WriteAccumulator(body, acc);
        }

        var head = new VarintWriter(16 * 1024);
        head.Bytes(Magic);
        head.Unsigned((ulong)order.Count);
        foreach (var s in order)
        {
            head.String(s);
        }
        // One copy of the body, straight into the stored array.
        var stored = new byte[head.Length + body.Length];
        head.Written.CopyTo(stored);
        body.Written.CopyTo(stored.AsSpan(head.Length));
        return stored;
    }

    /// <summary>Reads a state written by <see cref="Write"/>; throws <see cref="InvalidDataException"/> for anything else.</summary>
    public static AggregateState Read(ReadOnlySpan<byte> data)
    {
        if (!IsCompact(data))
        {
            throw new InvalidDataException("not a compact aggregate state");
        }
        var r = new VarintReader(data[Magic.Length..]);
        int stringCount = r.Count(data.Length);
        var strings = new string[stringCount];
        for (int i = 0; i < stringCount; i++)
        {
            strings[i] = r.String();
        }
        string S(ref VarintReader reader)
        {
            ulong id = reader.Unsigned();
            return id < (ulong)strings.Length ? strings[id] : throw new InvalidDataException("string id out of range");
        }
        var state = new AggregateState
        {
            SchemaVersion = checked((int)r.Signed()),
            Pings = r.Signed(),
            DataVersion = r.Signed(),
        };
        int layouts = r.Count(data.Length);
        for (int i = 0; i < layouts; i++)
        {
            string metric = S(ref r);
            state.Layouts[metric] = ReadLayout(ref r);
        }
        ReadProgress(ref r, state.Progress, data.Length);
        int series = r.Count(data.Length);
        state.Series.EnsureCapacity(series);
        for (int i = 0; i < series; i++)
        {
            var key = new SeriesKey
            {
                Metric = S(ref r),
                Label = S(ref r),
                Process = S(ref r),
                Application = S(ref r),
                Architecture = S(ref r),
                Os = S(ref r),
                OsVersion = S(ref r),
            };
            var acc = ReadAccumulator(ref r, data.Length);
            if (!state.Series.TryAdd(key, acc))
            {
                throw new InvalidDataException("duplicate series");
            }
        }
        r.End();
        return state;
    }

    internal static void WriteLayout(VarintWriter w, MetricLayout layout)
    {
        w.Signed(layout.Kind);
        w.Signed(layout.Low);
        w.Signed(layout.High);
        w.Signed(layout.BucketCount);
        w.Byte(layout.Undeclared ? (byte)1 : (byte)0);
    }

    internal static MetricLayout ReadLayout(ref VarintReader r) => new()
    {
        Kind = checked((int)r.Signed()),
        Low = r.Signed(),
        High = r.Signed(),
        BucketCount = checked((int)r.Signed()),
        Undeclared = r.Byte() != 0,
    };

    internal static void WriteProgress(VarintWriter w, Dictionary<int, PartitionProgress> all)
    {
        w.Unsigned((ulong)all.Count);
        foreach (var (partition, progress) in all)
        {
            w.Signed(partition);
            w.Signed(progress.Checkpoint);
            w.Unsigned((ulong)progress.Applied.Count);
            foreach (long batch in progress.Applied)
            {
                w.Signed(batch);
            }
        }
    }

    internal static void ReadProgress(ref VarintReader r, Dictionary<int, PartitionProgress> into, int maxCount)
    {
        int partitions = r.Count(maxCount);
        for (int i = 0; i < partitions; i++)
        {
            int partition = checked((int)r.Signed());
            var progress = new PartitionProgress { Checkpoint = r.Signed() };
            int applied = r.Count(maxCount);
            for (int k = 0; k < applied; k++)
            {
                progress.Applied.Add(r.Signed());
            }
            into[partition] = progress;
        }
    }

    /// <summary>Sum, count, the number of buckets, then (gap, count) for each non-zero bucket.</summary>
    internal static void WriteAccumulator(VarintWriter w, HistogramAccumulator acc)
    {
        w.Signed(acc.Sum);
        w.Signed(acc.Count);
        var counts = acc.Counts;
        w.Unsigned((ulong)counts.Length);
        int nonZero = 0;
        foreach (long c in counts)
        {
            if (c != 0)
            {
                nonZero++;
            }
        }
        w.Unsigned((ulong)nonZero);
        int last = -1;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] != 0)
            {
                w.Unsigned((ulong)(i - last - 1));
                w.Signed(counts[i]);
                last = i;
            }
        }
    }

    internal static HistogramAccumulator ReadAccumulator(ref VarintReader r, int maxCount)
    {
        var acc = new HistogramAccumulator { Sum = r.Signed(), Count = r.Signed() };
        ulong length = r.Unsigned();
        if (length > MaxBuckets)
        {
            throw new InvalidDataException("bucket count out of range");
        }
        var counts = new long[length];
        int nonZero = r.Count(Math.Min(counts.Length, maxCount));
        long index = -1;
        for (int k = 0; k < nonZero; k++)
        {
            ulong gap = r.Unsigned();
            index += (long)Math.Min(gap, (ulong)MaxBuckets) + 1;
            if (index >= counts.Length)
            {
                throw new InvalidDataException("bucket index out of range");
            }
            counts[index] = r.Signed();
        }
        acc.Counts = counts;
        return acc;
    }
}
