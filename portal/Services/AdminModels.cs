using System.Collections.Immutable;

namespace Telemetry.Portal.Services;

/// <summary>A probe revision as <c>GET /api/probes/revisions</c> lists it.</summary>
public sealed record ProbeRevision(string Revision, int Histograms, int Scalars, DateTimeOffset UploadedAt,
    IReadOnlyList<string> Channels, IReadOnlyList<ProbeDefinitionError> Errors);

/// <summary>A definition the silo could not understand, and why.</summary>
public sealed record ProbeDefinitionError(string Name, string Reason);

/// <summary>What an upload stored, and what it could not understand.</summary>
public sealed record ProbeUploadOutcome(int Loaded, IReadOnlyList<ProbeDefinitionError> Errors);

/// <summary>One release train of the calendar.</summary>
public sealed record CalendarTrain(string Version, DateOnly NightlyStart, DateOnly Release);

/// <summary>The release calendar in use (<c>GET /api/release-calendar</c>).</summary>
public sealed record ReleaseCalendarView(string Source, DateTimeOffset? UpdatedAt, int CadenceDays, string? Comment, IReadOnlyList<CalendarTrain> Versions);

/// <summary>An import or reprocessing job (<c>GET /api/jobs/{id}</c>).</summary>
public sealed record AdminJob(string Id, string Kind, string State, double Progress, ImmutableDictionary<string, long> Counts,
    string? Error, string? Detail, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt)
{
    public bool Running => State == "running";
}

/// <summary>A rejected submission kept as a sample.</summary>
public sealed record RejectSampleItem(DateTimeOffset At, string Path, string Message, long Bytes, string BodyStart);

/// <summary>Rejections of one reason.</summary>
public sealed record RejectReason(string Reason, long Count, IReadOnlyList<RejectSampleItem> Samples);

/// <summary><c>GET /api/ingest/rejects</c>.</summary>
public sealed record IngestRejectsView(long Total, IReadOnlyList<RejectReason> Reasons);

/// <summary>A Sentry message that was not an event.</summary>
public sealed record DeadLetter(long Id, DateTimeOffset ReceivedAt, string Source, string Reason, string Body);

/// <summary><c>GET /api/sentry/dead-letters</c>.</summary>
public sealed record DeadLetterListing(IReadOnlyList<DeadLetter> DeadLetters, IReadOnlyDictionary<string, long> Counts);

/// <summary>An outbox row (no bodies).</summary>
public sealed record OutboxEntry(long Id, string AlertKey, string Recipient, string Kind, string Subject, string State, int Attempts,
    DateTimeOffset NextAttemptAt, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? SentAt);

/// <summary>One page of the outbox, newest first.</summary>
public sealed record OutboxPage(IReadOnlyList<OutboxEntry> Items, long? NextBefore);
