using System.Text.Json.Nodes;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>
/// The submit path decodes into working storage reused from ping to ping on a thread
/// (SubmissionDecoder.DecodeForLanding). Reuse must never leak one ping's values into the next:
/// whatever order pings come in, each one's aggregation input equals a fresh decode of it.
/// </summary>
public sealed class PooledDecodeTests
{
    private static readonly DateOnly Day = new(2024, 1, 2);

    private static LandingDecode Pooled(byte[] json, string rest) =>
        SubmissionDecoder.DecodeForLanding(json, false, 16 << 20, SubmissionPath.Parse("doc-1/" + rest), Day, IngestTestData.Snapshot, DecodeSettings.Default);

    private static DecodedPing Fresh(byte[] json, string rest) =>
        SubmissionDecoder.Decode(json, false, 16 << 20, SubmissionPath.Parse("doc-1/" + rest), Day, IngestTestData.Snapshot, DecodeSettings.Default);

    private static void AssertSame(PingAggregates expected, PingAggregates actual)
    {
        Assert.Equal(expected.BuildIdKey, actual.BuildIdKey);
        Assert.Equal(expected.SubmissionDateKey, actual.SubmissionDateKey);
        PingHistograms e = expected.Histograms, a = actual.Histograms;
        Assert.Equal((e.Application, e.Os, e.OsVersion, e.Architecture), (a.Application, a.Os, a.OsVersion, a.Architecture));
        Assert.Equal(e.Metrics, a.Metrics);
        Assert.Equal(e.Labels, a.Labels);
        Assert.Equal(e.Processes, a.Processes);
        Assert.Equal(e.Sums, a.Sums);
        Assert.Equal(e.Ends, a.Ends);
        Assert.Equal(e.Buckets, a.Buckets);
        Assert.Equal(e.Counts, a.Counts);
        Assert.Equal(e.Layouts.Select(l => (l.Kind, l.Low, l.High, l.BucketCount, l.Undeclared)), a.Layouts.Select(l => (l.Kind, l.Low, l.High, l.BucketCount, l.Undeclared)));
    }

    [Fact]
    public void Each_ping_decoded_on_reused_storage_equals_its_fresh_decode_whatever_came_before()
    {
        const string classicRest = IngestTestData.RealPingPathRest;
        const string unifiedRest = IngestTestData.UnifiedPathRest;
        // A big ping, a unified one of another shape, the big one with a broken histogram, the big one again.
        var big = IngestTestData.RealPing;
        var unified = IngestTestData.UnifiedPing;
        var node = JsonNode.Parse(big)!.AsObject();
        node["histograms"]!.AsObject()["CYCLE_COLLECTOR"]!["values"]!.AsObject()["0"] = -3;
        var broken = System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());

        foreach (var (json, rest) in new[] { (big, classicRest), (unified, unifiedRest), (broken, classicRest), (big, classicRest), (unified, unifiedRest) })
        {
            var pooled = Pooled(json, rest);
            var fresh = Fresh(json, rest);
            AssertSame(PingAggregates.Of(fresh), pooled.Aggregates);
            Assert.Equal(fresh.InvalidHistograms, pooled.InvalidHistograms);
            Assert.Equal(fresh.DimensionMismatches, pooled.DimensionMismatches);
            Assert.Equal(ReferenceEquals(json, broken), pooled.InvalidHistograms.Contains("CYCLE_COLLECTOR"));
        }
    }
}
