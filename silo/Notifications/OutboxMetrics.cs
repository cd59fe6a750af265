using System.Diagnostics.Metrics;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>
/// The outbox's metrics, on the silo's meter (<see cref="Ingest.IngestCounters.MeterName"/>).
/// The gauges are the store's counts (cluster-wide in PostgreSQL mode: every silo reports the same
/// value), refreshed by the dispatcher; the counters are this silo's deliveries.
/// </summary>
public sealed class OutboxMetrics
{
    private readonly Counter<long> _sent;
    private readonly Counter<long> _failedAttempts;
    private readonly Counter<long> _folded;
    private long _pending = -1, _failed = -1;

    public OutboxMetrics(Meter meter)
    {
        _sent = meter.CreateCounter<long>("telemetry_mail_sent", description: "Mails handed to the mail server (or logged, in console mode)");
        _failedAttempts = meter.CreateCounter<long>("telemetry_mail_failed_attempts", description: "Delivery attempts that failed (each is retried until Smtp:MaxAttempts)");
        _folded = meter.CreateCounter<long>("telemetry_mail_folded", description: "Alert mails held back by flood control for the recipient's next digest");
        meter.CreateObservableGauge("telemetry_outbox_pending", () => Observe(ref _pending),
            description: "Outbox rows waiting for delivery (pending or being sent)");
        meter.CreateObservableGauge("telemetry_outbox_failed", () => Observe(ref _failed),
            description: "Outbox rows that failed for good and wait for an admin (POST /api/outbox/{id}/retry)");
    }

    public void Sent() => _sent.Add(1);

    public void FailedAttempt() => _failedAttempts.Add(1);

    public void Folded() => _folded.Add(1);

    public void SetCounts(OutboxCounts counts)
    {
        Volatile.Write(ref _pending, counts.Pending);
        Volatile.Write(ref _failed, counts.Failed);
    }

    public OutboxCounts? LastCounts =>
        Volatile.Read(ref _pending) is >= 0 and var p ? new OutboxCounts(p, Volatile.Read(ref _failed)) : null;

    // Nothing until the first count: a 0 before the store answered would look like an empty outbox.
    private static IEnumerable<Measurement<long>> Observe(ref long field) =>
        Volatile.Read(ref field) is >= 0 and var v ? [new Measurement<long>(v)] : [];
}
