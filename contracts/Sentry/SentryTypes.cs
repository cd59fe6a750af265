using System.Collections.Immutable;

namespace Telemetry.Contracts.Sentry;

/// <summary>States of a Sentry issue (docs/sentry.md, "Issues").</summary>
public static class SentryIssueStates
{
    public const string Unresolved = "unresolved";
    public const string Resolved = "resolved";
    public const string Regressed = "regressed";
    public const string Muted = "muted";
    public const string Snoozed = "snoozed";
}

/// <summary>The key of an issue grain: project and fingerprint, unambiguous whatever characters either holds.</summary>
public static class SentryIssueKey
{
    public static string Format(string project, string fingerprint) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{project.Length}:{project}:{fingerprint}");

    public static (string Project, string Fingerprint) Parse(string key)
    {
        int colon = key.IndexOf(':', StringComparison.Ordinal);
        int length = int.Parse(key.AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture);
        return (key.Substring(colon + 1, length), key[(colon + 2 + length)..]);
    }
}

/// <summary>
/// One Sentry issue (project + fingerprint; key <see cref="SentryIssueKey"/>): its events per UTC day,
/// users, releases and state (docs/sentry.md). Every change is durable before the call returns.
/// </summary>
public interface ISentryIssueGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records events of this issue; per event, true when it was new, false when its id was already
    /// recorded. Returns only once the events are durable.
    /// </summary>
    Task<ImmutableArray<bool>> Record(ImmutableArray<SentryEvent> events);

    /// <summary>The issue with counts over the <paramref name="days"/> UTC days up to today; null when it has no event.</summary>
    Task<SentryIssueView?> Get(int days);

    /// <summary>Resolve, unresolve, mute, unmute or snooze, recorded with who and when.</summary>
    Task<SentryActionResult> Act(SentryIssueAction action);

    /// <summary>What the rules read (counts in their windows, state, who was told what).</summary>
    Task<SentryIssueFacts?> Facts(DateTimeOffset now, ImmutableArray<int> eventDays);

    /// <summary>Records notifications that went out (the renotification ledger and the issue's alert list).</summary>
    Task RecordNotices(ImmutableArray<SentryNotice> notices);
}

/// <summary>
/// The cluster's one rule evaluator (key 0): a reminder runs a round every <c>Sentry:EvaluationMinutes</c> over
/// the issues changed since the last completed round (docs/sentry.md, "Rules").
/// </summary>
public interface ISentryEvaluatorGrain : IGrainWithIntegerKey
{
    Task Start();

    /// <summary>One round now. A dry run records and sends nothing and leaves the round marker where it was.</summary>
    Task<SentryEvaluation> Evaluate(bool dryRun);

    Task<SentryEvaluatorStatus> Status();
}

[GenerateSerializer, Immutable]
public sealed record SentryIssueAction
{
    /// <summary><c>resolve</c>, <c>unresolve</c>, <c>mute</c>, <c>unmute</c> or <c>snooze</c>.</summary>
    [Id(0)] public required string Action { get; init; }
    [Id(1)] public DateTimeOffset? Until { get; init; }
    [Id(2)] public string? Comment { get; init; }
    [Id(3)] public required string By { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record SentryActionResult([property: Id(0)] SentryIssueView? Issue, [property: Id(1)] string? Error, [property: Id(2)] bool NotFound);

[GenerateSerializer, Immutable]
public sealed record SentryDayCount([property: Id(0)] DateOnly Date, [property: Id(1)] long Events, [property: Id(2)] long Users);

[GenerateSerializer, Immutable]
public sealed record SentryReleaseSeen([property: Id(0)] string Release, [property: Id(1)] DateTimeOffset FirstSeen);

[GenerateSerializer, Immutable]
public sealed record SentryAlertEntry(
    [property: Id(0)] string Rule,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] ImmutableArray<string> Recipients);

[GenerateSerializer, Immutable]
public sealed record SentryHistoryEntry(
    [property: Id(0)] string Action,
    [property: Id(1)] string By,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string? Comment,
    [property: Id(4)] DateTimeOffset? Until);

[GenerateSerializer, Immutable]
public sealed record SentryIssueView
{
    [Id(0)] public required string Project { get; init; }
    [Id(1)] public required string Fingerprint { get; init; }
    [Id(2)] public required string Message { get; init; }
    [Id(3)] public required long Events { get; init; }
    [Id(4)] public required long Users { get; init; }
    [Id(5)] public required DateTimeOffset FirstSeen { get; init; }
    [Id(6)] public required DateTimeOffset LastSeen { get; init; }
    /// <summary>The state now (a snooze that ended reads <c>unresolved</c>).</summary>
    [Id(7)] public required string State { get; init; }
    [Id(8)] public DateTimeOffset? SnoozedUntil { get; init; }
    [Id(9)] public string? GroupId { get; init; }
    [Id(10)] public string? Module { get; init; }
    [Id(11)] public required ImmutableArray<SentryFrame> Frames { get; init; }
    [Id(12)] public required ImmutableArray<SentryDayCount> Days { get; init; }
    [Id(13)] public required ImmutableArray<SentryReleaseSeen> Releases { get; init; }
    [Id(14)] public required ImmutableArray<SentryAlertEntry> Alerts { get; init; }
    [Id(15)] public required ImmutableArray<SentryHistoryEntry> History { get; init; }
}

/// <summary>A (rule, recipient) pair already told about an issue: how often and when last.</summary>
[GenerateSerializer, Immutable]
public sealed record SentryNoticeCount([property: Id(0)] string Rule, [property: Id(1)] string Email, [property: Id(2)] int Count, [property: Id(3)] DateTimeOffset LastAt);

/// <summary>A notification that went out: one rule about this issue, to these people.</summary>
[GenerateSerializer, Immutable]
public sealed record SentryNotice([property: Id(0)] string Rule, [property: Id(1)] DateTimeOffset At, [property: Id(2)] ImmutableArray<string> Recipients);

[GenerateSerializer, Immutable]
public sealed record SentryIssueFacts
{
    [Id(0)] public required string Project { get; init; }
    [Id(1)] public required string Fingerprint { get; init; }
    [Id(2)] public required string Message { get; init; }
    [Id(3)] public string? GroupId { get; init; }
    [Id(4)] public required ImmutableArray<SentryFrame> Frames { get; init; }
    /// <summary>The state now (snoozed until a time in the past reads <c>unresolved</c>).</summary>
    [Id(5)] public required string State { get; init; }
    [Id(6)] public required DateTimeOffset FirstSeen { get; init; }
    [Id(7)] public required DateTimeOffset LastSeen { get; init; }
    /// <summary>When the system recorded the issue's first event (new-issue fires for issues recorded since the last round).</summary>
    [Id(8)] public required DateTimeOffset RecordedAt { get; init; }
    /// <summary>When an event last arrived for the issue while it was resolved; null if never.</summary>
    [Id(9)] public DateTimeOffset? RegressedAt { get; init; }
    /// <summary>Events with <c>dateReceived</c> in the 60 minutes before now.</summary>
    [Id(10)] public required long LastHourEvents { get; init; }
    /// <summary>Events in the 168 hours before those 60 minutes.</summary>
    [Id(11)] public required long WeekBeforeEvents { get; init; }
    [Id(12)] public required long EventsToday { get; init; }
    [Id(13)] public required long UsersToday { get; init; }
    [Id(14)] public required long Events7Days { get; init; }
    [Id(15)] public required long Users7Days { get; init; }
    /// <summary>Events over the last N UTC days (today included), for each N asked for.</summary>
    [Id(16)] public required ImmutableDictionary<int, long> EventsOverDays { get; init; }
    [Id(17)] public required ImmutableArray<SentryNoticeCount> Notices { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record SentryFiredAlert
{
    [Id(0)] public required string Rule { get; init; }
    [Id(1)] public required string Project { get; init; }
    [Id(2)] public required string Fingerprint { get; init; }
    [Id(3)] public required string Message { get; init; }
    /// <summary>Events over the last 7 days.</summary>
    [Id(4)] public required long Events { get; init; }
    [Id(5)] public required ImmutableArray<string> Recipients { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record SentryEvaluation
{
    [Id(0)] public required bool DryRun { get; init; }
    [Id(1)] public required DateTimeOffset At { get; init; }
    [Id(2)] public required int IssuesExamined { get; init; }
    [Id(3)] public required ImmutableArray<SentryFiredAlert> Alerts { get; init; }
    [Id(4)] public required TimeSpan Duration { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record SentryEvaluatorStatus
{
    [Id(0)] public DateTimeOffset? LastCompletedAt { get; init; }
    [Id(1)] public TimeSpan? LastDuration { get; init; }
    [Id(2)] public required long Rounds { get; init; }
    [Id(3)] public required long ChangeMarker { get; init; }
    [Id(4)] public required int EvaluationMinutes { get; init; }
}
