using System.ComponentModel.DataAnnotations;

namespace Telemetry.Grains.Sentry;

/// <summary>Section <c>Sentry</c>: browser error alerts (docs/sentry.md).</summary>
public sealed class SentryOptions
{
    public const string Section = "Sentry";

    /// <summary>
    /// Consume the SQS queue. Off by default (the embedded default needs nothing but the SDK); on by itself
    /// when <see cref="SqsServiceUrl"/> is set.
    /// </summary>
    public bool SqsEnabled { get; set; }

    /// <summary>The queue, created if missing.</summary>
    public string QueueName { get; set; } = "sentry_errors";

    /// <summary>Endpoint for emulators (e.g. <c>http://127.0.0.1:4566</c>); empty: AWS itself.</summary>
    public string? SqsServiceUrl { get; set; }

    /// <summary>Empty: the AWS SDK's own resolution (<c>AWS_REGION</c>, profile), else <c>us-east-1</c>.</summary>
    public string? Region { get; set; }

    [Range(0, 64)] public int ConsumersPerSilo { get; set; } = 1;

    /// <summary>Long-poll wait per receive (≤ 20, and below the HTTP read timeout).</summary>
    [Range(0, 20)] public int WaitSeconds { get; set; } = 20;

    [Range(10, 43200)] public int VisibilityTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// After this many deliveries a message whose event still cannot be recorded, while the others of its
    /// batch can, is dead-lettered (<c>record_failed</c>) instead of being received again.
    /// </summary>
    [Range(2, 1000)] public int MaxReceiveCount { get; set; } = 10;

    /// <summary>When set, <c>POST /api/sentry/events</c> needs a valid <c>Sentry-Hook-Signature</c>.</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Distinct ids per issue and day counted exactly; above it a HyperLogLog sketch (≤ 2 % error).</summary>
    [Range(0, 1_000_000)] public int ExactDistinctLimit { get; set; } = 1000;

    /// <summary>Days of counts kept per issue (the longest <c>top_days</c> a subscription may ask for is 90).</summary>
    [Range(8, 400)] public int RetentionDays { get; set; } = 91;

    [Range(1, 1440)] public int EvaluationMinutes { get; set; } = 1;

    /// <summary>After this many hours <c>spike</c> and <c>regressed</c> may tell the same person about the same issue again.</summary>
    [Range(1, 8760)] public int RenotifyHours { get; set; } = 24;

    /// <summary>Reminder rounds evaluate but record and send nothing (they log what they would send).</summary>
    public bool DryRun { get; set; }

    /// <summary>Alerts are recorded and written to the log instead of being mailed.</summary>
    public bool Console { get; set; }

    /// <summary>Link to an issue in Sentry, <c>{groupId}</c> replaced (e.g. <c>https://sentry.example.org/org/proj/issues/{groupId}/</c>); empty: no link.</summary>
    public string? IssueUrlTemplate { get; set; }

    public bool ConsumeSqs => SqsEnabled || !string.IsNullOrWhiteSpace(SqsServiceUrl);
}
