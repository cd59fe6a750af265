using System.Diagnostics.Metrics;

namespace Telemetry.Grains.Sentry;

/// <summary>
/// This silo's Sentry metrics (docs/sentry.md, "Health"): events recorded and repeated, dead letters by
/// reason, evaluation rounds and their duration, and the age of the last completed round on the silo that
/// runs the evaluator, so a stalled evaluator shows as a growing age.
/// </summary>
public sealed class SentryMetrics
{
    public const string MeterName = "Telemetry.Sentry";

    private readonly Counter<long> _events;
    private readonly Counter<long> _deadLetters;
    private readonly Counter<long> _evaluations;
    private readonly Histogram<double> _evaluationSeconds;
    private readonly Counter<long> _alerts;
    private readonly Counter<long> _sqsMessages;
    private readonly Counter<long> _sqsFailures;
    private long _lastCompletedTicks;

    public SentryMetrics(IMeterFactory meterFactory, TimeProvider clock)
    {
        var meter = meterFactory.Create(MeterName);
        _events = meter.CreateCounter<long>("telemetry_sentry_events", description: "Sentry events received, by outcome (recorded, duplicate) and source (sqs, http)");
        _deadLetters = meter.CreateCounter<long>("telemetry_sentry_dead_letters", description: "Sentry messages that were not events, by reason and source");
        _evaluations = meter.CreateCounter<long>("alerts_evaluations", description: "Completed Sentry rule evaluation rounds (dry runs included), by outcome");
        _evaluationSeconds = meter.CreateHistogram<double>("alerts_evaluation_duration", unit: "s", description: "Duration of Sentry rule evaluation rounds");
        _alerts = meter.CreateCounter<long>("telemetry_sentry_alerts", description: "Sentry rule notifications (one per rule, issue and recipient), by rule");
        _sqsMessages = meter.CreateCounter<long>("telemetry_sentry_sqs_messages", description: "SQS messages received by this silo's consumers, by outcome (deleted, kept for redelivery)");
        _sqsFailures = meter.CreateCounter<long>("telemetry_sentry_sqs_failures", description: "Failed SQS calls and recording attempts of the consumers, by operation (queue, receive, record, delete)");
        meter.CreateObservableGauge<double>("alerts_evaluation_age", () =>
        {
            long ticks = Interlocked.Read(ref _lastCompletedTicks);
            return ticks == 0
                ? Array.Empty<Measurement<double>>()
                : [new Measurement<double>((clock.GetUtcNow() - new DateTimeOffset(ticks, TimeSpan.Zero)).TotalSeconds)];
        }, unit: "s", description: "Seconds since the last completed Sentry evaluation round on this silo (absent where the evaluator never ran)");
    }

    public void Event(bool recorded, string source) =>
        _events.Add(1, new KeyValuePair<string, object?>("outcome", recorded ? "recorded" : "duplicate"), new KeyValuePair<string, object?>("source", source));

    public void DeadLetter(string reason, string source) =>
        _deadLetters.Add(1, new KeyValuePair<string, object?>("reason", reason), new KeyValuePair<string, object?>("source", source));

    public void Evaluated(DateTimeOffset completedAt, TimeSpan duration, bool ok)
    {
        _evaluations.Add(1, new KeyValuePair<string, object?>("outcome", ok ? "ok" : "failed"));
        _evaluationSeconds.Record(duration.TotalSeconds);
        if (ok)
        {
            Interlocked.Exchange(ref _lastCompletedTicks, completedAt.UtcTicks);
        }
    }

    public void SqsMessages(int count, bool deleted) =>
        _sqsMessages.Add(count, new KeyValuePair<string, object?>("outcome", deleted ? "deleted" : "kept"));

    public void SqsFailure(string operation) => _sqsFailures.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void Alerted(string rule, int recipients) => _alerts.Add(recipients, new KeyValuePair<string, object?>("rule", rule));
}
