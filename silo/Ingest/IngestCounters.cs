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

    public void InvalidHistograms(List<string> metrics)
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
