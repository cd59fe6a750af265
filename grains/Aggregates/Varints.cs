using System.Text;

namespace Telemetry.Grains.Aggregates;

/// <summary>
/// Appends LEB128 varints (zigzag for signed values) and length-prefixed UTF-8 strings: the encoding
/// of every stored form of an aggregate (<see cref="AggregateStateCodec"/>, <see cref="AggregateRowCodec"/>).
/// </summary>
internal sealed class VarintWriter(int capacity)
{
    private byte[] _buffer = new byte[Math.Max(capacity, 16)];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => Written.ToArray();

    public void Clear() => _length = 0;

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

/// <summary>Reads what <see cref="VarintWriter"/> wrote; anything malformed or truncated is an <see cref="InvalidDataException"/>.</summary>
internal ref struct VarintReader(ReadOnlySpan<byte> data)
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

    public readonly void End()
    {
        if (!AtEnd)
        {
            throw new InvalidDataException("trailing bytes after the aggregate state");
        }
    }
}
