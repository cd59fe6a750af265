using System.IO.Compression;
using Telemetry.Grains.Ingest;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Ingest;

/// <summary>PayloadInflater without a silo: gzip detection, limits and corrupt streams (docs/exactly-once.md).</summary>
public sealed class PayloadInflaterTests
{
    private const long Limit = 16L * 1024 * 1024;

    private static PingRejection RejectionOf(byte[] body, bool declaredGzip = false, long limit = Limit)
    {
        var e = Assert.Throws<PingFormatException>(() =>
        {
            var json = PayloadInflater.Inflate(body, declaredGzip, limit, out var rented);
            PayloadInflater.Release(rented);
            _ = json;
        });
        return e.Reason;
    }

    [Fact]
    public void Gzip_is_detected_by_magic_bytes_and_inflated_exactly()
    {
        var json = IngestTestData.RealPing;
        var inflated = PayloadInflater.Inflate(SiloHost.Gzip(json), declaredGzip: false, Limit, out var rented);
        try
        {
            Assert.Equal(json, inflated.ToArray());
        }
        finally
        {
            PayloadInflater.Release(rented);
        }
        var plain = PayloadInflater.Inflate(json, declaredGzip: false, Limit, out var none);
        Assert.Null(none);
        Assert.Equal(json.Length, plain.Count);
    }

    [Fact]
    public void Empty_body_declared_gzip_with_plain_body_and_corrupt_crc()
    {
        Assert.Equal(PingRejection.Empty, RejectionOf([]));
        Assert.Equal(PingRejection.BadGzip, RejectionOf(IngestTestData.RealPing, declaredGzip: true));
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        gz[^6] ^= 0xFF;
        Assert.Equal(PingRejection.BadGzip, RejectionOf(gz));
    }

    [Fact]
    public void Inflation_stops_at_the_limit()
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize))
        {
            gz.Write(new byte[5000]);
        }
        Assert.Equal(PingRejection.TooLarge, RejectionOf(ms.ToArray(), limit: 4096));
        var ok = PayloadInflater.Inflate(ms.ToArray(), false, 5000, out var rented);
        Assert.Equal(5000, ok.Count);
        PayloadInflater.Release(rented);
    }

    [Theory]
    [InlineData(1)]      // one byte of the ISIZE trailer missing
    [InlineData(4)]      // the whole ISIZE missing
    [InlineData(8)]      // CRC32 and ISIZE missing
    [InlineData(5000)]   // cut in the middle of the deflate data
    public void Truncated_gzip_is_bad_gzip(int cut)
    {
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        Assert.Equal(PingRejection.BadGzip, RejectionOf(gz[..^cut]));
    }

    [Fact]
    public void Gzip_header_without_data_is_bad_gzip()
    {
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        Assert.Equal(PingRejection.BadGzip, RejectionOf(gz[..10]));
    }
}
