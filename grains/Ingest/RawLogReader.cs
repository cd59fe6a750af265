using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Telemetry.Grains.Ingest;

/// <summary>Record layout of a seed-server raw log, told apart by its preamble length.</summary>
public enum RawLogFormat
{
    /// <summary>No valid record has been seen yet.</summary>
    Unknown = 0,

    /// <summary>15-byte preamble: separator, u16 path length, u32 data length, u64 arrival time.</summary>
    V1 = 1,

    /// <summary>16-byte preamble: as v1 with a u8 client IP length after the separator, IP bytes before the path.</summary>
    V2 = 2,
}

/// <summary>One submission as the seed telemetry-server appended it to its raw log.</summary>
/// <param name="Path">The URL path after <c>/submit/telemetry/</c>: <c>docId/docType/app/version/channel/buildId</c>.</param>
/// <param name="ArrivalTime">When the seed server received the submission (millisecond precision, UTC).</param>
/// <param name="ClientIp">The client address a v2 file records (may be an X-Forwarded-For list); null in v1 files.</param>
/// <param name="Body">The body exactly as received: gzip (starts 1F 8B) or JSON. Owned by the record.</param>
/// <param name="Offset">Byte offset of the record's 0x1E separator in the stream.</param>
public sealed record RawLogRecord(
    string Path,
    DateTimeOffset ArrivalTime,
    string? ClientIp,
    ReadOnlyMemory<byte> Body,
    long Offset);

/// <summary>
/// Streams the records of a raw log written by the seed telemetry-server (<c>http/server.js</c>),
/// skipping and counting corrupt stretches the way the seed's own <c>unpack</c> did.
/// </summary>
/// <remarks>
/// The stream is read forward only through a buffer that holds at most one record (plus read-ahead),
/// so files of any size work and the stream need not be seekable. An instance keeps the counters of
/// its latest <see cref="ReadAsync"/> call: use one instance per file and do not share it between threads.
/// </remarks>
public sealed class RawLogReader
{
    public const byte RecordSeparator = 0x1E;

    /// <summary>The seed server refused longer paths (<c>max_path_length</c>).</summary>
    public const int MaxPathLength = 10 * 1024;

    public const int DefaultMaxDataLength = 64 * 1024 * 1024;

    /// <summary>The largest <see cref="MaxDataLength"/> a single buffered record can hold.</summary>
    public const int MaxSupportedDataLength = 1024 * 1024 * 1024;

    private const int V1PreambleLength = 15; // separator + u16 path + u32 data + u64 time
    private const int V2PreambleLength = 16; // separator + u8 ip + u16 path + u32 data + u64 time
    private const int InitialBufferSize = 64 * 1024;

    private readonly int _maxDataLength = DefaultMaxDataLength;

    private Stream? _stream;
    private byte[] _buffer = [];
    private int _position; // index in _buffer of the next unconsumed byte
    private int _length; // number of valid bytes in _buffer
    private long _bufferOffset; // stream offset of _buffer[0]
    private bool _endOfStream;
    private ulong _minTimestamp;
    private ulong _maxTimestamp;

    /// <summary>Records whose body is longer than this are treated as corrupt. Default 64 MiB.</summary>
    public int MaxDataLength
    {
        get => _maxDataLength;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxSupportedDataLength);
            _maxDataLength = value;
        }
    }

    /// <summary>
    /// Arrival times outside [<see cref="EarliestArrivalTime"/>, <see cref="LatestArrivalTime"/>]
    /// mark a record as corrupt. The eight timestamp bytes are the strongest evidence that a 0x1E
    /// found while resynchronising (gzip bodies are full of them) really starts a record.
    /// </summary>
    public DateTimeOffset EarliestArrivalTime { get; init; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <inheritdoc cref="EarliestArrivalTime"/>
    public DateTimeOffset LatestArrivalTime { get; init; } = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The layout detected from the first valid record; <see cref="RawLogFormat.Unknown"/> until then.</summary>
    public RawLogFormat Format { get; private set; }

    /// <summary>Bytes that belong to no valid record (corrupt records, garbage, trailing newlines).</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>
    /// Corrupt stretches skipped: each run of bytes between two valid records (or a file end) that
    /// holds anything but ASCII whitespace counts once, however many broken records it held.
    /// A whitespace-only run cannot hide a record (records start with 0x1E), so it only adds to
    /// <see cref="SkippedBytes"/>: the seed's own sample file ends with a newline.
    /// </summary>
    public int CorruptRecords { get; private set; }

    /// <summary>Bytes read from the stream so far (runs ahead of the yielded records by the read-ahead).</summary>
    public long BytesRead { get; private set; }

    /// <summary>Reads the records of <paramref name="stream"/> from its current position to its end.</summary>
    public async IAsyncEnumerable<RawLogRecord> ReadAsync(
        Stream stream,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (LatestArrivalTime < EarliestArrivalTime)
        {
            throw new InvalidOperationException("LatestArrivalTime is before EarliestArrivalTime.");
        }

        Reset(stream);
        try
        {
            var stretchCounted = false; // whether the current skipped stretch was already counted as corrupt
            while (await EnsureAsync(1, ct).ConfigureAwait(false))
            {
                if (_buffer[_position] == RecordSeparator)
                {
                    var candidate = await TryReadCandidateAsync(ct).ConfigureAwait(false);
                    if (candidate is { } c)
                    {
                        stretchCounted = false;
                        yield return Take(c);
                        continue;
                    }
                }

                // This byte starts no valid record: skip it and everything up to the next separator
                // already buffered; each later separator is validated as a candidate on its own.
                var rest = _buffer.AsSpan(_position + 1, _length - _position - 1);
                var next = rest.IndexOf(RecordSeparator);
                var skipped = _buffer.AsSpan(_position, 1 + (next < 0 ? rest.Length : next));
                SkippedBytes += skipped.Length;
                _position += skipped.Length;
                if (!stretchCounted && skipped.IndexOfAnyExcept(" \t\r\n"u8) >= 0)
                {
                    CorruptRecords++;
                    stretchCounted = true;
                }
            }
        }
        finally
        {
            _stream = null;
            _buffer = [];
        }
    }

    private void Reset(Stream stream)
    {
        _stream = stream;
        _buffer = new byte[InitialBufferSize];
        _position = 0;
        _length = 0;
        _bufferOffset = 0;
        _endOfStream = false;
        _minTimestamp = (ulong)Math.Max(0, EarliestArrivalTime.ToUnixTimeMilliseconds());
        _maxTimestamp = (ulong)Math.Max(0, LatestArrivalTime.ToUnixTimeMilliseconds());
        Format = RawLogFormat.Unknown;
        SkippedBytes = 0;
        CorruptRecords = 0;
        BytesRead = 0;
    }

    /// <summary>Validates the record starting at the buffered 0x1E without consuming it.</summary>
    private async ValueTask<Candidate?> TryReadCandidateAsync(CancellationToken ct)
    {
        if (Format != RawLogFormat.Unknown)
        {
            return await TryReadCandidateAsync(Format, ct).ConfigureAwait(false);
        }

        // The first record decides the format for the whole file. Each layout puts the timestamp
        // where the other has length or path bytes, so at most one normally validates; when both
        // do, prefer the one followed by a separator or the end of the stream.
        var v1 = await TryReadCandidateAsync(RawLogFormat.V1, ct).ConfigureAwait(false);
        var v2 = await TryReadCandidateAsync(RawLogFormat.V2, ct).ConfigureAwait(false);
        Candidate? chosen = (v1, v2) switch
        {
            (null, null) => null,
            ({ } one, null) => one,
            (null, { } two) => two,
            ({ } one, { } two) =>
                !await IsFollowedByRecordBoundaryAsync(one, ct).ConfigureAwait(false)
                && await IsFollowedByRecordBoundaryAsync(two, ct).ConfigureAwait(false)
                    ? two
                    : one,
        };
        if (chosen is { } c)
        {
            Format = c.Format;
        }

        return chosen;
    }

    private async ValueTask<Candidate?> TryReadCandidateAsync(RawLogFormat format, CancellationToken ct)
    {
        var preambleLength = format == RawLogFormat.V1 ? V1PreambleLength : V2PreambleLength;
        if (!await EnsureAsync(preambleLength, ct).ConfigureAwait(false))
        {
            return null; // stream ends mid-preamble
        }

        if (!TryParsePreamble(format, out var candidate))
        {
            return null;
        }

        // Check the path before buffering the body so a false separator cannot make us read 64 MiB.
        if (!await EnsureAsync(candidate.DataStart, ct).ConfigureAwait(false) || !HasPlausibleText(candidate))
        {
            return null;
        }

        return await EnsureAsync(candidate.TotalLength, ct).ConfigureAwait(false) ? candidate : null;
    }

    private bool TryParsePreamble(RawLogFormat format, out Candidate candidate)
    {
        var preamble = _buffer.AsSpan(_position);
        var ipLength = 0;
        var at = 1;
        if (format == RawLogFormat.V2)
        {
            ipLength = preamble[at];
            at += 1;
        }

        int pathLength = BinaryPrimitives.ReadUInt16LittleEndian(preamble[at..]);
        var dataLength = BinaryPrimitives.ReadUInt32LittleEndian(preamble[(at + 2)..]);
        var timestamp = BinaryPrimitives.ReadUInt64LittleEndian(preamble[(at + 6)..]);
        var preambleLength = at + 14;
        candidate = new Candidate(format, preambleLength, ipLength, pathLength, (int)Math.Min(dataLength, int.MaxValue), timestamp);
        return pathLength is > 0 and <= MaxPathLength
            && dataLength <= (uint)_maxDataLength
            && timestamp >= _minTimestamp
            && timestamp <= _maxTimestamp;
    }

    private bool HasPlausibleText(Candidate c)
    {
        var ip = _buffer.AsSpan(_position + c.PreambleLength, c.IpLength);
        var path = _buffer.AsSpan(_position + c.PreambleLength + c.IpLength, c.PathLength);
        return !ip.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E)
            && !path.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E)
            && path.Contains((byte)'/');
    }

    private async ValueTask<bool> IsFollowedByRecordBoundaryAsync(Candidate c, CancellationToken ct) =>
        !await EnsureAsync(c.TotalLength + 1, ct).ConfigureAwait(false)
        || _buffer[_position + c.TotalLength] == RecordSeparator;

    private RawLogRecord Take(Candidate c)
    {
        var start = _position;
        var ip = c.Format == RawLogFormat.V2
            ? Encoding.ASCII.GetString(_buffer, start + c.PreambleLength, c.IpLength)
            : null;
        var path = Encoding.ASCII.GetString(_buffer, start + c.PreambleLength + c.IpLength, c.PathLength);
        var body = _buffer.AsSpan(start + c.DataStart, c.DataLength).ToArray(); // the buffer is reused
        var arrival = DateTimeOffset.FromUnixTimeMilliseconds((long)c.Timestamp);
        _position += c.TotalLength;
        return new RawLogRecord(path, arrival, ip, body, _bufferOffset + start);
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available from <see cref="_position"/>; false at end of stream.</summary>
    private async ValueTask<bool> EnsureAsync(int count, CancellationToken ct)
    {
        while (_length - _position < count)
        {
            if (_endOfStream)
            {
                return false;
            }

            if (_buffer.Length - _position < count)
            {
                var kept = _length - _position;
                if (count > _buffer.Length)
                {
                    var grown = new byte[(int)Math.Min(Array.MaxLength, Math.Max(count, 2L * _buffer.Length))];
                    Buffer.BlockCopy(_buffer, _position, grown, 0, kept);
                    _buffer = grown;
                }
                else
                {
                    Buffer.BlockCopy(_buffer, _position, _buffer, 0, kept);
                }

                _bufferOffset += _position;
                _position = 0;
                _length = kept;
            }

            var read = await _stream!.ReadAsync(_buffer.AsMemory(_length), ct).ConfigureAwait(false);
            if (read == 0)
            {
                _endOfStream = true;
                return false;
            }

            _length += read;
            BytesRead += read;
        }

        return true;
    }

    private readonly record struct Candidate(
        RawLogFormat Format,
        int PreambleLength,
        int IpLength,
        int PathLength,
        int DataLength,
        ulong Timestamp)
    {
        public int DataStart => PreambleLength + IpLength + PathLength;

        public int TotalLength => DataStart + DataLength;
    }
}
