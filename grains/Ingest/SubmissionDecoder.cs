using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// The one way a stored body becomes aggregate input, shared by the submit endpoint (live) and
/// the partition grains (recovery, reprocessing) so both count a ping identically.
/// </summary>
public static class SubmissionDecoder
{
    public static DecodedPing Decode(ReadOnlyMemory<byte> body, bool declaredGzip, long maxInflated, SubmissionPath path, DateOnly submissionDate, ProbeSnapshot probes, DecodeSettings settings, string? country = null)
    {
        var json = PayloadInflater.Inflate(body, declaredGzip, maxInflated, out var rented);
        var raw = RawPing.Rent();
        try
        {
            PingReader.Read(json, raw);
            var ping = PingDecoder.Decode(raw, path, submissionDate, probes, settings);
            ping.Crash = Telemetry.Grains.Crash.CrashPingDecoder.Decode(raw, Telemetry.Grains.Crash.CrashPingDecoder.DocTypeOf(raw, path.DocType), country, submissionDate);
            return ping;
        }
        finally
        {
            raw.Return();
            PayloadInflater.Release(rented);
        }
    }

    /// <summary>
    /// The submit path's decode: the ping's aggregation input and what the counters need, with the
    /// decoding's working storage reused by the next ping on this thread (docs/ingest-cost.md).
    /// </summary>
    public static LandingDecode DecodeForLanding(ReadOnlyMemory<byte> body, bool declaredGzip, long maxInflated, SubmissionPath path, DateOnly submissionDate, ProbeSnapshot probes, DecodeSettings settings, string? country = null)
    {
        var json = PayloadInflater.Inflate(body, declaredGzip, maxInflated, out var rented);
        var raw = RawPing.Rent();
        try
        {
            PingReader.Read(json, raw);
            var ping = PingDecoder.Decode(raw, path, submissionDate, probes, settings, borrowStorage: true);
            ping.Crash = Telemetry.Grains.Crash.CrashPingDecoder.Decode(raw, Telemetry.Grains.Crash.CrashPingDecoder.DocTypeOf(raw, path.DocType), country, submissionDate);
            var result = new LandingDecode(PingAggregates.Of(ping), ping.InvalidHistograms.Count == 0 ? [] : [.. ping.InvalidHistograms], ping.DimensionMismatches);
            ping.Release();
            return result;
        }
        finally
        {
            raw.Return();
            PayloadInflater.Release(rented);
        }
    }

    /// <summary>The partition of a docId: a stable hash, the same on every silo and across restarts.</summary>
    public static int PartitionOf(string docId, int partitions)
    {
        uint hash = 2166136261;
        foreach (char c in docId)
        {
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash % (uint)partitions);
    }
}

/// <summary>What the submit path keeps of a decoded ping: its aggregation input, and what its counters need.</summary>
public sealed record LandingDecode(PingAggregates Aggregates, string[] InvalidHistograms, int DimensionMismatches)
{
    public Telemetry.Grains.Crash.CrashDecodeResult Crash => Aggregates.Crash;
}
