using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using Telemetry.Contracts.Ingest;

namespace Telemetry.Silo.Ingest;

/// <summary>
/// This silo's ingest counters: exported as OpenTelemetry metrics and, as deltas, reported to the
/// cluster-wide stats grain by <see cref="IngestStatsReporter"/>.
/// </summary>
public sealed class IngestCounters : IDisposable
{
    public const string MeterName = "Telemetry.Ingest";

    private readonly Meter _meter;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _invalidHistograms;
    private readonly Counter<long> _mismatches;
    private readonly Counter<long> _crashRejected;
    private readonly Counter<long> _crashAggregated;
    private long _pendingAccepted, _pendingDuplicates, _pendingBytes;
    private readonly ConcurrentDictionary<string, long> _pendingRejected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _pendingInvalid = new(StringComparer.Ordinal);
    // Samples of rejected submissions for the admin API: at most SamplesPerReasonPerReport of each reason
    // between two reports, so a flood of bad pings costs a counter increment each and no memory.
    private readonly ConcurrentDictionary<string, int> _pendingSampleCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RejectSample> _pendingSamples = new();

    public const int SamplesPerReasonPerReport = 3;
    public const int SamplePathChars = 300;
    public const int SampleBodyBytes = 160;

    public IngestCounters(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _accepted = _meter.CreateCounter<long>("telemetry_ingest_accepted", description: "Submissions stored (200), including duplicates by outcome");
        _rejected = _meter.CreateCounter<long>("telemetry_ingest_rejected", description: "Submissions rejected, by reason");
        _bytes = _meter.CreateCounter<long>("telemetry_ingest_bytes", unit: "By", description: "Bytes received in submit bodies");
        _invalidHistograms = _meter.CreateCounter<long>("telemetry_ingest_invalid_histograms", description: "Histograms skipped as invalid");
        _mismatches = _meter.CreateCounter<long>("telemetry_ingest_dimension_mismatches", description: "URL segments that disagreed with the body");
        _crashRejected = _meter.CreateCounter<long>("telemetry_crash_rejected", description: "Main and crash pings left out of crash aggregates, by reason");
        _crashAggregated = _meter.CreateCounter<long>("telemetry_crash_aggregated", description: "Main and crash pings added to crash aggregates");
    }

    public Meter Meter => _meter;

    public void Accepted(long bytes, bool duplicate)
    {
        _accepted.Add(1, new KeyValuePair<string, object?>("outcome", duplicate ? "duplicate" : "accepted"));
        _bytes.Add(bytes);
        Interlocked.Add(ref _pendingBytes, bytes);
        if (duplicate)
        {
            Interlocked.Increment(ref _pendingDuplicates);
        }
        else
        {
            Interlocked.Increment(ref _pendingAccepted);
        }
    }

    public void Rejected(string reason, long bytes)
    {
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
        _bytes.Add(bytes);
        Interlocked.Add(ref _pendingBytes, bytes);
        _pendingRejected.AddOrUpdate(reason, 1, static (_, n) => n + 1);
    }

    /// <summary>Counts a rejection and keeps it as a sample unless this reason already has enough since the last report.</summary>
    public void Rejected(string reason, long bytes, string path, string message, ReadOnlySpan<byte> body)
    {
        Rejected(reason, bytes);
        if (_pendingSampleCounts.AddOrUpdate(reason, 1, static (_, n) => n + 1) > SamplesPerReasonPerReport)
        {
            return;
        }
        _pendingSamples.Enqueue(new RejectSample
        {
            Reason = reason,
            At = DateTimeOffset.UtcNow,
            Path = path.Length > SamplePathChars ? path[..SamplePathChars] + "…" : path,
            Message = message.Length > SamplePathChars ? message[..SamplePathChars] + "…" : message,
            Bytes = bytes,
            BodyStart = Printable(body[..Math.Min(body.Length, SampleBodyBytes)]),
        });
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (chars, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                chars[i] = b[i] is >= 0x20 and < 0x7f ? (char)b[i] : '.';
            }
        });
    }

    public void InvalidHistograms(IReadOnlyList<string> metrics)
    {
        foreach (var metric in metrics)
        {
            _invalidHistograms.Add(1);
            _pendingInvalid.AddOrUpdate(metric, 1, static (_, n) => n + 1);
        }
    }

    public void CrashOutcome(in Telemetry.Grains.Crash.CrashDecodeResult result)
    {
        if (result.RejectionName is { } reason)
        {
            _crashRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
        else if (result.Contribution is not null)
        {
            _crashAggregated.Add(1);
        }
    }

    public void DimensionMismatches(int count)
    {
        if (count > 0)
        {
            _mismatches.Add(count);
        }
    }

    /// <summary>Takes the counts gathered since the previous call.</summary>
    public IngestCounterReport TakeReport(string siloId)
    {
        return new IngestCounterReport
        {
            SiloId = siloId,
            At = DateTimeOffset.UtcNow,
            Accepted = Interlocked.Exchange(ref _pendingAccepted, 0),
            Duplicates = Interlocked.Exchange(ref _pendingDuplicates, 0),
            Bytes = Interlocked.Exchange(ref _pendingBytes, 0),
            RejectedByReason = Drain(_pendingRejected),
            InvalidHistogramsByMetric = Drain(_pendingInvalid),
            RejectSamples = DrainSamples(),
        };
    }

    /// <summary>Puts a report that could not be delivered back, so its counts are sent next time.</summary>
    public void Restore(IngestCounterReport report)
    {
        Interlocked.Add(ref _pendingAccepted, report.Accepted);
        Interlocked.Add(ref _pendingDuplicates, report.Duplicates);
        Interlocked.Add(ref _pendingBytes, report.Bytes);
        foreach (var (k, v) in report.RejectedByReason)
        {
            _pendingRejected.AddOrUpdate(k, v, (_, n) => n + v);
        }
        foreach (var (k, v) in report.InvalidHistogramsByMetric)
        {
            _pendingInvalid.AddOrUpdate(k, v, (_, n) => n + v);
        }
    }

    private ImmutableArray<RejectSample> DrainSamples()
    {
        _pendingSampleCounts.Clear();
        var samples = ImmutableArray.CreateBuilder<RejectSample>();
        while (_pendingSamples.TryDequeue(out var sample))
        {
            samples.Add(sample);
        }
        return samples.ToImmutable();
    }

    private static ImmutableDictionary<string, long> Drain(ConcurrentDictionary<string, long> source)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, long>(StringComparer.Ordinal);
        foreach (var key in source.Keys)
        {
            if (source.TryRemove(key, out long n) && n != 0)
            {
                builder[key] = n;
            }
        }
        return builder.ToImmutable();
    }

    public void Dispose() => _meter.Dispose();
}
