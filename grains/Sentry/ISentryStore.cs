namespace Telemetry.Grains.Sentry;

/// <summary>An issue as stored: its header and its kept days.</summary>
public sealed record StoredSentryIssue(SentryIssueHeader Header, IReadOnlyList<SentryIssueDay> Days);

/// <summary>One issue in a list: events summed over the range's days, users summed too (an upper bound of the distinct users).</summary>
public sealed record SentryIssueRow(
    string Project,
    string Fingerprint,
    string Message,
    long Events,
    long UsersSum,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string State,
    DateTimeOffset? SnoozedUntil);

/// <summary>An issue changed after some marker (docs/sentry.md, "Evaluation rounds").</summary>
public sealed record SentryChange(string Project, string Fingerprint, long Marker);

/// <summary>A message that was not an event, kept for admins.</summary>
public sealed record SentryDeadLetter(long Id, DateTimeOffset ReceivedAt, string Source, string Reason, string Body);

/// <summary>Sorts of <see cref="ISentryStore.ListAsync"/>.</summary>
public static class SentrySorts
{
    public const string Events = "events";
    public const string Users = "users";
    public const string LastSeen = "last_seen";
    public static readonly string[] All = [Events, Users, LastSeen];
}

/// <summary>
/// Where Sentry issues and dead letters live (memory in the embedded mode, PostgreSQL otherwise; docs/sentry.md).
/// A save is atomic: the header, the changed days and the change marker, or nothing.
/// </summary>
public interface ISentryStore
{
    Task<StoredSentryIssue?> LoadAsync(string project, string fingerprint, CancellationToken ct);

    /// <summary>Writes the header, the given days, drops the given days, and moves the issue's change marker past every earlier one.</summary>
    Task SaveAsync(SentryIssueHeader header, IReadOnlyList<SentryIssueDay> days, IReadOnlyList<DateOnly> droppedDays, CancellationToken ct);

    /// <summary>Issues with events in the inclusive range (a null project: every project), sorted, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SentryIssueRow>> ListAsync(string? project, DateOnly from, DateOnly to, string sort, int limit, CancellationToken ct);

    /// <summary>A marker such that every save that will ever get a marker at or below it has completed.</summary>
    Task<long> StableMarkerAsync(CancellationToken ct);

    /// <summary>Issues whose latest save got a marker in (<paramref name="after"/>, <paramref name="upTo"/>], oldest marker first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<SentryChange>> ChangedAsync(long after, long upTo, int limit, CancellationToken ct);

    Task<long> AddDeadLetterAsync(string source, string reason, string body, DateTimeOffset at, CancellationToken ct);

    Task<IReadOnlyList<SentryDeadLetter>> ListDeadLettersAsync(int limit, CancellationToken ct);

    Task<IReadOnlyDictionary<string, long>> DeadLetterCountsAsync(CancellationToken ct);
}
