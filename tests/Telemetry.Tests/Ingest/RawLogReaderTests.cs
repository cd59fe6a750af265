using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Telemetry.Grains.Ingest;
using Xunit.Abstractions;

namespace Telemetry.Tests.Ingest;

public sealed class RawLogReaderTests(ITestOutputHelper output)
{
    // The seed's sample: one v1 record of 15 + 85 + 18255 bytes, then a stray '\n' (0x0A).
    private const string SeedPath = "17caa68c-25f5-450a-9cce-7d31318846d8/idle-daily/Firefox/23.0.1/release/20130814063812";
    private const int SeedRecordLength = 15 + 85 + 18255;

    private static readonly DateTimeOffset T0 = new(2014, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task RealSeedFile_YieldsOneV1RecordWithGzipBody()
    {
        var file = LoadSeedLog();
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream(file));

        var record = Assert.Single(records);
        output.WriteLine($"path={record.Path} arrival={record.ArrivalTime:O} body={record.Body.Length} bytes");
        Assert.Equal(SeedPath, record.Path);
        Assert.StartsWith("17caa68c-25f5-450a-9cce-7d31318846d8/idle-daily/Firefox/23.0.1/re", record.Path);

        // Preamble bytes 7..14 are 17 F5 3F 08 41 01 00 00 = 1378822911255 ms.
        Assert.Equal(1378822911255UL, BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(7, 8)));
        Assert.Equal(new DateTimeOffset(2013, 9, 10, 14, 21, 51, 255, TimeSpan.Zero), record.ArrivalTime);

        Assert.Equal(BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(3, 4)), (uint)record.Body.Length);
        Assert.Equal(18255, record.Body.Length);
        Assert.Equal(new byte[] { 0x1F, 0x8B }, record.Body[..2].ToArray()); // gzip, not plain JSON
        Assert.Null(record.ClientIp);
        Assert.Equal(0, record.Offset);

        // The body inflates to the seed's decoded ping, byte for byte.
        var json = Gunzip(record.Body);
        Assert.Equal(77740, json.Length);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(1, doc.RootElement.GetProperty("ver").GetInt32());

        Assert.Equal(RawLogFormat.V1, reader.Format);
        Assert.Equal(0, reader.CorruptRecords);
        Assert.Equal(1, reader.SkippedBytes); // the trailing newline
        Assert.Equal(file.Length, reader.BytesRead);
    }

    [Fact]
    public async Task RealSeedFile_ReadOneBytePerCall_GivesTheSameRecord()
    {
        var file = LoadSeedLog();
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new OneBytePerReadStream(file));

        var record = Assert.Single(records);
        Assert.Equal(SeedPath, record.Path);
        Assert.Equal(new DateTimeOffset(2013, 9, 10, 14, 21, 51, 255, TimeSpan.Zero), record.ArrivalTime);
        Assert.Equal(file.AsMemory(100, 18255).ToArray(), record.Body.ToArray());
        Assert.Equal(RawLogFormat.V1, reader.Format);
        Assert.Equal(1, reader.SkippedBytes);
        Assert.Equal(file.Length, reader.BytesRead);
    }

    [Fact]
    public async Task SyntheticV2File_ThreeRecords_RoundTrip()
    {
        var expected = new[]
        {
            new RawLogRecord("a1/saved-session/Firefox/30.0/release/20140605174243", T0,
                "203.0.113.7", Gzip("""{"ver":2,"info":{"reason":"saved-session"}}"""), 0),
            new RawLogRecord("b2/idle-daily/Fennec/31.0a1/nightly/20140301030202", T0.AddMilliseconds(1),
                "198.51.100.1, 10.0.0.2", Encoding.UTF8.GetBytes("""{"ver":1}"""), 0),
            // A body full of separators must come back whole, not be split into records.
            new RawLogRecord("c3/main/Thunderbird/24.0/esr/20130910000000", T0.AddDays(1),
                "::1", new byte[] { 0x1E, 0x1E, 0x00, 0x1E, 0xFF, 0x1E }, 0),
        };
        var file = BuildFile(RawLogFormat.V2, expected, out var offsets);
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream(file));

        Assert.Equal(3, records.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Path, records[i].Path);
            Assert.Equal(expected[i].ArrivalTime, records[i].ArrivalTime);
            Assert.Equal(expected[i].ClientIp, records[i].ClientIp);
            Assert.Equal(expected[i].Body.ToArray(), records[i].Body.ToArray());
            Assert.Equal(offsets[i], records[i].Offset);
        }

        Assert.Equal(RawLogFormat.V2, reader.Format);
        Assert.Equal(0, reader.CorruptRecords);
        Assert.Equal(0, reader.SkippedBytes);
        Assert.Equal(file.Length, reader.BytesRead);
    }

    [Fact]
    public async Task SyntheticV1File_IsDetectedAsV1()
    {
        var file = BuildFile(RawLogFormat.V1, [Rec("d/main/Firefox/40.0/beta/1", "{}"), Rec("e/main/Firefox/40.0/beta/1", "[]")], out _);
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream(file));

        Assert.Equal(["d/main/Firefox/40.0/beta/1", "e/main/Firefox/40.0/beta/1"], records.Select(r => r.Path));
        Assert.All(records, r => Assert.Null(r.ClientIp));
        Assert.Equal(RawLogFormat.V1, reader.Format);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GarbageBetweenRecordsAndTruncatedTail_YieldGoodRecordsAndCountCorruption(bool oneBytePerRead)
    {
        var good1 = BuildRecord(RawLogFormat.V2, Rec("g1/main/Firefox/33.0/release/1", """{"n":1}""", ip: "192.0.2.1"));
        var good2 = BuildRecord(RawLogFormat.V2, Rec("g2/main/Firefox/33.0/release/1", """{"n":2}""", ip: "192.0.2.2"));
        // Garbage holding separators with impossible preambles, and a plausible preamble whose path is binary.
        byte[] garbage =
        [
            .. "junk"u8, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1E, 0x1E,
            .. BuildRecord(RawLogFormat.V2, Rec("x/y", "{}", ip: "1.1.1.1"))[..16], 0x00, 0x01, 0x02,
        ];
        var truncated = BuildRecord(RawLogFormat.V2, Rec("g3/main/Firefox/33.0/release/1", """{"n":3,"pad":"0123456789"}""", ip: "192.0.2.3"));
        truncated = truncated[..^5];
        byte[] file = [.. good1, .. garbage, .. good2, .. truncated];
        var reader = new RawLogReader();

        Stream stream = oneBytePerRead ? new OneBytePerReadStream(file) : new MemoryStream(file);
        var records = await ReadAllAsync(reader, stream);

        Assert.Equal(["g1/main/Firefox/33.0/release/1", "g2/main/Firefox/33.0/release/1"], records.Select(r => r.Path));
        Assert.Equal("""{"n":2}""", Encoding.UTF8.GetString(records[1].Body.Span));
        Assert.Equal(good1.Length + garbage.Length, records[1].Offset);
        Assert.Equal(2, reader.CorruptRecords); // the garbage stretch and the truncated record
        Assert.Equal(garbage.Length + truncated.Length, reader.SkippedBytes);
        Assert.Equal(RawLogFormat.V2, reader.Format);
        Assert.Equal(file.Length, reader.BytesRead);
    }

    [Fact]
    public async Task DamagedPreamble_ResyncSkipsSeparatorsInsideGzipBody()
    {
        // The seed record's gzip body holds 63 stray 0x1E bytes; break its path length so the
        // reader must skip the whole record without mistaking any of them for a record start.
        var seed = LoadSeedLog()[..SeedRecordLength];
        seed[1] = 0xFF;
        seed[2] = 0xFF;
        Assert.Equal(63, seed.AsSpan(1).Count((byte)0x1E));
        var next = BuildRecord(RawLogFormat.V1, Rec("n1/main/Firefox/33.0/release/1", "{}"));
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream([.. seed, .. next]));

        var record = Assert.Single(records);
        Assert.Equal("n1/main/Firefox/33.0/release/1", record.Path);
        Assert.Equal(SeedRecordLength, record.Offset);
        Assert.Equal(1, reader.CorruptRecords);
        Assert.Equal(SeedRecordLength, reader.SkippedBytes);
        Assert.Equal(RawLogFormat.V1, reader.Format);
    }

    [Fact]
    public async Task GarbageBeforeFirstRecord_FormatIsStillDetected()
    {
        var record = BuildRecord(RawLogFormat.V2, Rec("f/main/Firefox/33.0/release/1", "{}", ip: "192.0.2.9"));
        byte[] file = [0x1E, 0x00, 0x00, .. "garbage"u8, .. record];
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream(file));

        Assert.Equal("192.0.2.9", Assert.Single(records).ClientIp);
        Assert.Equal(RawLogFormat.V2, reader.Format);
        Assert.Equal(1, reader.CorruptRecords);
        Assert.Equal(10, reader.SkippedBytes);
    }

    [Fact]
    public async Task ArrivalTimeOutsideWindow_IsCorrupt_UnlessTheWindowAllowsIt()
    {
        // Sane lengths and a printable path, but the timestamp bytes are text: 1970 + 150 million years.
        byte[] bogus = [0x1E, .. "\u0005\0"u8, .. "\u0002\0\0\0"u8, .. "ABCDEFGH"u8, .. "a/b/c"u8, .. "{}"u8];
        var epoch = Rec("epoch/main/Firefox/1.0/release/1", "{}") with { ArrivalTime = DateTimeOffset.UnixEpoch };
        var good = Rec("good/main/Firefox/33.0/release/1", "{}");
        byte[] file = [.. BuildRecord(RawLogFormat.V1, good), .. bogus, .. BuildRecord(RawLogFormat.V1, epoch), .. BuildRecord(RawLogFormat.V1, good)];

        var strict = new RawLogReader();
        var strictPaths = (await ReadAllAsync(strict, new MemoryStream(file))).Select(r => r.Path);
        var lenient = new RawLogReader { EarliestArrivalTime = DateTimeOffset.UnixEpoch };
        var lenientPaths = (await ReadAllAsync(lenient, new MemoryStream(file))).Select(r => r.Path);

        Assert.Equal([good.Path, good.Path], strictPaths);
        Assert.Equal(1, strict.CorruptRecords);
        Assert.Equal(bogus.Length + 15 + epoch.Path.Length + 2, strict.SkippedBytes);
        Assert.Equal([good.Path, epoch.Path, good.Path], lenientPaths);
        Assert.Equal(bogus.Length, lenient.SkippedBytes);
    }

    [Fact]
    public async Task BodyOverMaxDataLength_IsCountedAsCorrupt()
    {
        var big = Rec("big/main/Firefox/33.0/release/1", new string('x', 200));
        var small = Rec("small/main/Firefox/33.0/release/1", "{}");
        var file = BuildFile(RawLogFormat.V1, [big, small], out _);
        var reader = new RawLogReader { MaxDataLength = 100 };

        var records = await ReadAllAsync(reader, new MemoryStream(file));

        Assert.Equal("small/main/Firefox/33.0/release/1", Assert.Single(records).Path);
        Assert.Equal(1, reader.CorruptRecords);
        Assert.Equal(15 + big.Path.Length + 200, reader.SkippedBytes);
    }

    [Fact]
    public async Task EmptyStream_YieldsNothing()
    {
        var reader = new RawLogReader();

        var records = await ReadAllAsync(reader, new MemoryStream());

        Assert.Empty(records);
        Assert.Equal(RawLogFormat.Unknown, reader.Format);
        Assert.Equal(0, reader.CorruptRecords);
        Assert.Equal(0, reader.SkippedBytes);
    }

    private static RawLogRecord Rec(string path, string body, string? ip = null) =>
        new(path, T0, ip, Encoding.UTF8.GetBytes(body), 0);

    private static async Task<List<RawLogRecord>> ReadAllAsync(RawLogReader reader, Stream stream)
    {
        var records = new List<RawLogRecord>();
        await foreach (var record in reader.ReadAsync(stream))
        {
            records.Add(record);
        }

        return records;
    }

    private static byte[] BuildFile(RawLogFormat format, IReadOnlyList<RawLogRecord> records, out long[] offsets)
    {
        using var file = new MemoryStream();
        offsets = new long[records.Count];
        for (var i = 0; i < records.Count; i++)
        {
            offsets[i] = file.Length;
            file.Write(BuildRecord(format, records[i]));
        }

        return file.ToArray();
    }

    private static byte[] BuildRecord(RawLogFormat format, RawLogRecord record) => RawLogWriter.Record(format, record);

    private static byte[] Gzip(string text)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return compressed.ToArray();
    }

    private static byte[] Gunzip(ReadOnlyMemory<byte> body)
    {
        using var gzip = new GZipStream(new MemoryStream(body.ToArray()), CompressionMode.Decompress);
        using var inflated = new MemoryStream();
        gzip.CopyTo(inflated);
        return inflated.ToArray();
    }

    private static byte[] LoadSeedLog()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Telemetry.Orleans.sln")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var shared = Path.Combine(root.FullName, "..", "shared", "data", "pings", "telemetry1.log");
        var copy = Path.Combine(root.FullName, "tests", "Telemetry.Tests", "TestData", "telemetry1.log");
        return File.ReadAllBytes(File.Exists(shared) ? shared : copy);
    }

    /// <summary>A forward-only stream that hands out one byte per read, like a slow socket.</summary>
    private sealed class OneBytePerReadStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.IsEmpty || _position == data.Length)
            {
                return 0;
            }

            buffer[0] = data[_position++];
            return 1;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
