using System.Buffers;
using System.IO.Compression;

namespace Telemetry.Grains.Ingest;

/// <summary>Turns a request body into JSON bytes: gzip is detected by its magic bytes and inflated up to a limit.</summary>
public static class PayloadInflater
{
    public static bool IsGzip(ReadOnlySpan<byte> body) => body.Length >= 2 && body[0] == 0x1F && body[1] == 0x8B;

    /// <summary>
    /// Returns the JSON bytes of <paramref name="body"/>. A gzip body is inflated into a buffer
    /// rented from the pool (return it with <see cref="Release"/>); inflation stops at
    /// <paramref name="maxInflated"/> bytes so a zip bomb costs no more than the limit.
    /// </summary>
    public static ArraySegment<byte> Inflate(ReadOnlyMemory<byte> body, bool declaredGzip, long maxInflated, out byte[]? rented)
    {
        rented = null;
        if (body.Length == 0)
        {
            throw new PingFormatException(PingRejection.Empty, "empty body");
        }
        if (!IsGzip(body.Span))
        {
            if (declaredGzip)
            {
                throw new PingFormatException(PingRejection.BadGzip, "Content-Encoding is gzip but the body is not gzip data");
            }
            return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out var seg) ? seg : new ArraySegment<byte>(body.ToArray());
        }
        int capacity = (int)Math.Min(maxInflated + 1, Math.Max(16 * 1024, (long)body.Length * 8));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(capacity);
        int used = 0;
        try
        {
            using var source = new ReadOnlyMemoryStream(body);
            using var gzip = new GZipStream(source, CompressionMode.Decompress);
            while (true)
            {
                if (used == buffer.Length)
                {
                    if (used > maxInflated)
                    {
                        throw new PingFormatException(PingRejection.TooLarge, $"body inflates beyond {maxInflated} bytes");
                    }
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, maxInflated + 1));
                    Buffer.BlockCopy(buffer, 0, bigger, 0, used);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int n = gzip.Read(buffer, used, buffer.Length - used);
                if (n == 0)
                {
                    break;
                }
                used += n;
                if (used > maxInflated)
                {
                    throw new PingFormatException(PingRejection.TooLarge, $"body inflates beyond {maxInflated} bytes");
                }
            }
        }
        catch (InvalidDataException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new PingFormatException(PingRejection.BadGzip, "corrupt gzip data");
        }
        catch (PingFormatException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        // GZipStream ends quietly on truncated input; the trailer's length field tells a whole body
        // from a cut one (clients send one gzip member).
        var span = body.Span;
        if (span.Length < 18 || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]) != unchecked((uint)used))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new PingFormatException(PingRejection.BadGzip, "truncated gzip data");
        }
        if (used == 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new PingFormatException(PingRejection.Empty, "gzip body inflates to nothing");
        }
        rented = buffer;
        return new ArraySegment<byte>(buffer, 0, used);
    }

    public static void Release(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => memory.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
