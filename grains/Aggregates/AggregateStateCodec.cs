using System.Text;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// The stored form of an <see cref="AggregateState"/> (docs/ingest-cost.md, "Aggregate state writes"):
/// every distinct string once in a table, series keys as indexes into it, bucket counts as varints of
/// their non-zero buckets only. An aggregate rewrites its whole state every <c>PersistSeconds</c>;
/// with the Orleans serializer one build-date aggregate of the benchmark took ≈ 25 ms of silo CPU
/// and 378 KiB per write (seven strings and a tagged field per bucket for each of its thousands of
/// series). States written before this format (Orleans serializer) are still read: see
/// <see cref="TelemetryGrainStorageSerializer"/>.
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
        var body = new Writer(64 * 1024);
        body.Signed(state.SchemaVersion);
        body.Signed(state.Pings);
        body.Signed(state.DataVersion);
        body.Unsigned((ulong)state.Layouts.Count);
        foreach (var (metric, layout) in state.Layouts)
        {
            body.Unsigned((ulong)Id(metric));
            body.Signed(layout.Kind);
            body.Signed(layout.Low);
            body.Signed(layout.High);
            body.Signed(layout.BucketCount);
            body.Byte(layout.Undeclared ? (byte)1 : (byte)0);
        }
        body.Unsigned((ulong)state.Progress.Count);
        foreach (var (partition, progress) in state.Progress)
        {
            body.Signed(partition);
            body.Signed(progress.Checkpoint);
            body.Unsigned((ulong)progress.Applied.Count);
            foreach (long batch in progress.Applied)
            {
                body.Signed(batch);
            }
        }
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
            body.Signed(acc.Sum);
            body.Signed(acc.Count);
            var counts = acc.Counts;
            body.Unsigned((ulong)counts.Length);
            int nonZero = 0;
            foreach (long c in counts)
            {
                if (c != 0)
                {
                    nonZero++;
                }
            }
            body.Unsigned((ulong)nonZero);
            int last = -1;
            for (int i = 0; i < counts.Length; i++)
            {
                if (counts[i] != 0)
                {
                    body.Unsigned((ulong)(i - last - 1));
                    body.Signed(counts[i]);
                    last = i;
                }
            }
        }

        var head = new Writer(16 * 1024);
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
        var r = new Reader(data[Magic.Length..]);
        int stringCount = r.Count(data.Length);
        var strings = new string[stringCount];
        for (int i = 0; i < stringCount; i++)
        {
            strings[i] = r.String();
        }
        string S(ref Reader reader)
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
            state.Layouts[metric] = new MetricLayout
            {
                Kind = checked((int)r.Signed()),
                Low = r.Signed(),
                High = r.Signed(),
                BucketCount = checked((int)r.Signed()),
                Undeclared = r.Byte() != 0,
            };
        }
        int partitions = r.Count(data.Length);
        for (int i = 0; i < partitions; i++)
        {
            int partition = checked((int)r.Signed());
            var progress = new PartitionProgress { Checkpoint = r.Signed() };
            int applied = r.Count(data.Length);
            for (int k = 0; k < applied; k++)
            {
                progress.Applied.Add(r.Signed());
            }
            state.Progress[partition] = progress;
        }
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
            var acc = new HistogramAccumulator { Sum = r.Signed(), Count = r.Signed() };
            ulong length = r.Unsigned();
            if (length > MaxBuckets)
            {
                throw new InvalidDataException("bucket count out of range");
            }
            var counts = new long[length];
            int nonZero = r.Count(counts.Length);
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
            if (!state.Series.TryAdd(key, acc))
            {
                throw new InvalidDataException("duplicate series");
            }
        }
        if (!r.AtEnd)
        {
            throw new InvalidDataException("trailing bytes after the aggregate state");
        }
        return state;
    }

    private sealed class Writer(int capacity)
    {
        private byte[] _buffer = new byte[Math.Max(capacity, 64)];
        private int _length;

        public int Length => _length;

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

        private Span<byte> Reserve(int bytes)
        {
            if (_length + bytes > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes));
            }
            return _buffer.AsSpan(_length);
        }

        public void Byte(byte b)
        {
            Reserve(1)[0] = b;
            _length++;
        }

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(Reserve(bytes.Length));
            _length += bytes.Length;
        }

        public void Unsigned(ulong v)
        {
            var span = Reserve(10);
            int n = 0;
            while (v >= 0x80)
            {
                span[n++] = (byte)(v | 0x80);
                v >>= 7;
            }
            span[n++] = (byte)v;
            _length += n;
        }

        public void Signed(long v) => Unsigned((ulong)((v << 1) ^ (v >> 63)));

        public void String(string s)
        {
            int max = Encoding.UTF8.GetMaxByteCount(s.Length);
            Unsigned((ulong)Encoding.UTF8.GetByteCount(s));
            _length += Encoding.UTF8.GetBytes(s, Reserve(max));
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool AtEnd => _position == _data.Length;

        public byte Byte()
        {
            if (_position >= _data.Length)
            {
                throw new InvalidDataException("truncated aggregate state");
            }
            return _data[_position++];
        }

        public ulong Unsigned()
        {
            ulong v = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                byte b = Byte();
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return v;
                }
            }
            throw new InvalidDataException("malformed varint in aggregate state");
        }

        public long Signed()
        {
            ulong v = Unsigned();
            return (long)(v >> 1) ^ -(long)(v & 1);
        }

        /// <summary>A count of items, each at least one byte: more than the data holds is corrupt.</summary>
        public int Count(int max)
        {
            ulong v = Unsigned();
            return v <= (ulong)max ? (int)v : throw new InvalidDataException("count out of range in aggregate state");
        }

        public string String()
        {
            ulong length64 = Unsigned();
            if (length64 > (ulong)(_data.Length - _position))
            {
                throw new InvalidDataException("truncated aggregate state");
            }
            int length = (int)length64;
            var s = Encoding.UTF8.GetString(_data.Slice(_position, length));
            _position += length;
            return s;
        }
    }
}
