using System.Collections.Immutable;
using Telemetry.Contracts.Sentry;

namespace Telemetry.Grains.Sentry;

/// <summary>The per-issue part of an issue's stored state (everything but the days).</summary>
[GenerateSerializer]
public sealed class SentryIssueHeader
{
    [Id(0)] public string Project { get; set; } = "";
    [Id(1)] public string Fingerprint { get; set; } = "";
    [Id(2)] public string Message { get; set; } = "";
    [Id(3)] public string? GroupId { get; set; }
    [Id(4)] public string? Module { get; set; }
    [Id(5)] public ImmutableArray<SentryFrame> Frames { get; set; } = [];
    [Id(6)] public DateTimeOffset FirstSeen { get; set; }
    [Id(7)] public DateTimeOffset LastSeen { get; set; }
    /// <summary>When this system recorded the first event.</summary>
    [Id(8)] public DateTimeOffset RecordedAt { get; set; }
    /// <summary>The stored state; <see cref="SentryIssue.StateAt"/> reads an ended snooze as unresolved.</summary>
    [Id(9)] public string State { get; set; } = SentryIssueStates.Unresolved;
    [Id(10)] public DateTimeOffset? SnoozedUntil { get; set; }
    [Id(11)] public DateTimeOffset? RegressedAt { get; set; }
    [Id(12)] public Dictionary<string, DateTimeOffset> Releases { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Events per hour of <c>dateReceived</c> (hours since the Unix epoch), for the last 9 days.</summary>
    [Id(13)] public Dictionary<long, long> Hours { get; set; } = [];
    /// <summary>Events per minute of <c>dateReceived</c> (minutes since the Unix epoch), for the last 3 hours.</summary>
    [Id(14)] public Dictionary<long, long> Minutes { get; set; } = [];
    /// <summary>The ids of the latest events, oldest first (redelivery check once a day counts by sketch).</summary>
    [Id(15)] public List<string> RecentIds { get; set; } = [];
    [Id(16)] public List<SentryAlertEntry> Alerts { get; set; } = [];
    [Id(17)] public List<SentryHistoryEntry> History { get; set; } = [];
    /// <summary>Who was told what: key rule + '\n' + email.</summary>
    [Id(18)] public Dictionary<string, SentryNoticeCount> Notices { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One UTC day of an issue: its distinct events and users.</summary>
[GenerateSerializer]
public sealed class SentryIssueDay
{
    [Id(0)] public DateOnly Date { get; set; }
    [Id(1)] public DistinctCounter Events { get; set; } = new();
    [Id(2)] public DistinctCounter Users { get; set; } = new();
}

/// <summary>
/// One Sentry issue and its arithmetic (docs/sentry.md, "Issues"): recording events (a redelivered event
/// counts once), first/last seen, per-day distinct events and users, releases, the hourly and per-minute
/// counts the spike rule reads, the states and their actions. Plain class; the issue grain persists it.
/// </summary>
public sealed class SentryIssue
{
    /// <summary>At least this many recent event ids are kept to recognise a redelivery after a day's count became a sketch.</summary>
    public const int RecentIdCapacity = 2000;

    /// <summary>The oldest ids are dropped this many at a time, not one per event (each drop shifts the list).</summary>
    private const int RecentIdSlack = 256;
    public const int MaxHistory = 200;
    public const int MaxAlerts = 200;
    public const int MaxReleases = 500;
    private static readonly TimeSpan MinuteSpan = TimeSpan.FromHours(3);
    private static readonly TimeSpan HourSpan = TimeSpan.FromDays(9);

    private readonly Dictionary<DateOnly, SentryIssueDay> _days;
    private readonly HashSet<DateOnly> _dirtyDays = [];
    private readonly HashSet<string> _recent;
    private readonly int _exactLimit;
    private readonly int _retentionDays;
    private long _prunedAtMinute = long.MinValue;

    public SentryIssue(SentryIssueHeader header, IEnumerable<SentryIssueDay> days, int exactLimit, int retentionDays)
    {
        Header = header;
        _days = days.ToDictionary(d => d.Date);
        _recent = new HashSet<string>(header.RecentIds, StringComparer.Ordinal);
        _exactLimit = exactLimit;
        _retentionDays = retentionDays;
    }

    public static SentryIssue Empty(string project, string fingerprint, int exactLimit, int retentionDays) =>
        new(new SentryIssueHeader { Project = project, Fingerprint = fingerprint }, [], exactLimit, retentionDays);

    /// <summary>The issue as a store gave it back, or a new one when the store has none.</summary>
    public static SentryIssue FromStored(StoredSentryIssue? stored, string project, string fingerprint, int exactLimit, int retentionDays) =>
        stored is null ? Empty(project, fingerprint, exactLimit, retentionDays) : new(stored.Header, stored.Days, exactLimit, retentionDays);

    public SentryIssueHeader Header { get; }

    /// <summary>True once an event was recorded.</summary>
    public bool Exists => Header.RecordedAt != default;

    public IEnumerable<SentryIssueDay> Days => _days.Values;

    /// <summary>Days changed since <see cref="ClearDirty"/>: what the next save writes.</summary>
    public IReadOnlyList<SentryIssueDay> DirtyDays => _dirtyDays.Where(_days.ContainsKey).Select(d => _days[d]).ToList();

    /// <summary>Days dropped by retention since <see cref="ClearDirty"/>.</summary>
    public List<DateOnly> DroppedDays { get; } = [];

    public void ClearDirty()
    {
        _dirtyDays.Clear();
        DroppedDays.Clear();
    }

    /// <summary>Records an event; false when its id was already recorded for this issue (a redelivery).</summary>
    public bool Record(SentryEvent e, DateTimeOffset now)
    {
        var received = e.DateReceived.ToUniversalTime();
        var date = DateOnly.FromDateTime(received.UtcDateTime);
        if (_recent.Contains(e.EventId))
        {
            return false;
        }
        if (!_days.TryGetValue(date, out var day))
        {
            if (date < Today(now).AddDays(-_retentionDays))
            {
                // Older than anything kept: nothing to count it in (it may still set first_seen below).
                day = null;
            }
            else
            {
                day = new SentryIssueDay { Date = date, Events = new DistinctCounter(_exactLimit), Users = new DistinctCounter(_exactLimit) };
                _days[date] = day;
            }
        }
        if (day is not null)
        {
            bool exactBefore = day.Events.IsExact;
            bool added = day.Events.Add(e.EventId);
            if (exactBefore && !added)
            {
                return false;
            }
            if (e.UserId is { Length: > 0 } user)
            {
                day.Users.Add(user);
            }
            _dirtyDays.Add(date);
        }
        Remember(e.EventId);
        if (!Exists)
        {
            Header.Message = e.Message;
            Header.GroupId = e.GroupId;
            Header.Module = e.Module;
            Header.Frames = e.Frames;
            Header.FirstSeen = received;
            Header.LastSeen = received;
            Header.RecordedAt = now;
        }
        else
        {
            if (received < Header.FirstSeen)
            {
                Header.FirstSeen = received;
            }
            if (received > Header.LastSeen)
            {
                Header.LastSeen = received;
            }
        }
        if (e.Release is { Length: > 0 } release
            && (Header.Releases.TryGetValue(release, out var seen) ? received < seen : Header.Releases.Count < MaxReleases))
        {
            Header.Releases[release] = received;
        }
        long minute = received.ToUnixTimeSeconds() / 60;
        Header.Minutes[minute] = Header.Minutes.GetValueOrDefault(minute) + 1;
        Header.Hours[minute / 60] = Header.Hours.GetValueOrDefault(minute / 60) + 1;
        if (Header.State == SentryIssueStates.Resolved)
        {
            Header.State = SentryIssueStates.Regressed;
            Header.RegressedAt = now;
        }
        Prune(now);
        return true;
    }

    private void Remember(string id)
    {
        Header.RecentIds.Add(id);
        _recent.Add(id);
        if (Header.RecentIds.Count > RecentIdCapacity + RecentIdSlack)
        {
            int drop = Header.RecentIds.Count - RecentIdCapacity;
            foreach (var old in Header.RecentIds.Take(drop))
            {
                _recent.Remove(old);
            }
            Header.RecentIds.RemoveRange(0, drop);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        // Everything pruned is older than a minute boundary: once per minute of the clock is enough.
        long minuteNow = now.ToUnixTimeSeconds() / 60;
        if (minuteNow == _prunedAtMinute)
        {
            return;
        }
        _prunedAtMinute = minuteNow;
        long oldestMinute = (now - MinuteSpan).ToUnixTimeSeconds() / 60;
        long oldestHour = (now - HourSpan).ToUnixTimeSeconds() / 3600;
        foreach (var m in Header.Minutes.Keys.Where(m => m < oldestMinute).ToList())
        {
            Header.Minutes.Remove(m);
        }
        foreach (var h in Header.Hours.Keys.Where(h => h < oldestHour).ToList())
        {
            Header.Hours.Remove(h);
        }
        var oldestDay = Today(now).AddDays(-_retentionDays);
        foreach (var d in _days.Keys.Where(d => d < oldestDay).ToList())
        {
            _days.Remove(d);
            DroppedDays.Add(d);
        }
    }

    public static DateOnly Today(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime);

    /// <summary>The state at <paramref name="now"/>: a snooze that ended reads <c>unresolved</c>.</summary>
    public string StateAt(DateTimeOffset now) =>
        Header.State == SentryIssueStates.Snoozed && Header.SnoozedUntil is { } until && until <= now ? SentryIssueStates.Unresolved : Header.State;

    /// <summary>Distinct events over the inclusive UTC date range (a day's events are distinct within it; an event belongs to one day).</summary>
    public long EventsBetween(DateOnly from, DateOnly to) => _days.Values.Where(d => d.Date >= from && d.Date <= to).Sum(d => d.Events.Count);

    /// <summary>Distinct users over the inclusive range: the union of the days, not their sum.</summary>
    public long UsersBetween(DateOnly from, DateOnly to) =>
        DistinctCounter.CountUnion(_days.Values.Where(d => d.Date >= from && d.Date <= to).Select(d => d.Users), _exactLimit);

    /// <summary>Events with <c>dateReceived</c> in (now − 60 min, now].</summary>
    public long LastHourEvents(DateTimeOffset now)
    {
        long end = now.ToUnixTimeSeconds() / 60;
        return Header.Minutes.Where(kv => kv.Key > end - 60 && kv.Key <= end).Sum(kv => kv.Value);
    }

    /// <summary>
    /// Events in the 168 hours before the last 60 minutes: whole hours from the hourly counts, the hour the
    /// window ends in from the per-minute counts, and the hour it starts in pro rata (its minutes are gone).
    /// </summary>
    public long WeekBeforeEvents(DateTimeOffset now)
    {
        long endMinute = now.ToUnixTimeSeconds() / 60 - 60;        // exclusive upper bound: minutes <= endMinute belong to the window
        long startMinute = endMinute - (168 * 60);                 // minutes > startMinute
        long endHour = endMinute / 60;                             // partial (minutes of it up to endMinute)
        long startHour = startMinute / 60;                         // partial (minutes after startMinute)
        double total = Header.Minutes.Where(kv => kv.Key / 60 == endHour && kv.Key <= endMinute).Sum(kv => kv.Value);
        total += Header.Hours.Where(kv => kv.Key > startHour && kv.Key < endHour).Sum(kv => kv.Value);
        double inside = (60 - (startMinute - (startHour * 60)) - 1) / 60.0;
        total += Header.Hours.GetValueOrDefault(startHour) * Math.Clamp(inside, 0, 1);
        return (long)Math.Round(total);
    }

    /// <summary>Applies an action; the error names why it is not allowed now (the API answers 409).</summary>
    public string? Act(SentryIssueAction action, DateTimeOffset now)
    {
        string state = StateAt(now);
        string? error = action.Action switch
        {
            "resolve" when state == SentryIssueStates.Resolved => "the issue is already resolved",
            "resolve" => Set(SentryIssueStates.Resolved, null),
            "unresolve" when state is SentryIssueStates.Resolved or SentryIssueStates.Regressed => Set(SentryIssueStates.Unresolved, null),
            "unresolve" => $"only a resolved or regressed issue can be unresolved (it is {state})",
            "mute" when state == SentryIssueStates.Muted => "the issue is already muted",
            "mute" => Set(SentryIssueStates.Muted, null),
            "unmute" when state == SentryIssueStates.Muted => Set(SentryIssueStates.Unresolved, null),
            "unmute" => $"only a muted issue can be unmuted (it is {state})",
            "snooze" when action.Until is not { } until || until <= now => "snooze needs \"until\", a time in the future",
            "snooze" when state == SentryIssueStates.Muted => "a muted issue cannot be snoozed; unmute it first",
            "snooze" => Set(SentryIssueStates.Snoozed, action.Until),
            // A note in the history that leaves the state as it is (triage discussion, a bug link).
            "comment" when string.IsNullOrWhiteSpace(action.Comment) => "comment needs a non-empty \"comment\"",
            "comment" => null,
            _ => $"unknown action \"{action.Action}\": one of resolve, unresolve, mute, unmute, snooze, comment",
        };
        if (error is null)
        {
            Header.History.Add(new SentryHistoryEntry(action.Action, action.By, now, action.Comment, action.Until));
            if (Header.History.Count > MaxHistory)
            {
                Header.History.RemoveRange(0, Header.History.Count - MaxHistory);
            }
        }
        return error;
    }

    private string? Set(string state, DateTimeOffset? until)
    {
        Header.State = state;
        Header.SnoozedUntil = until;
        return null;
    }

    /// <summary>Adds notifications that went out: the renotification ledger and the issue's alert list.</summary>
    public void AddNotices(IEnumerable<SentryNotice> notices)
    {
        foreach (var n in notices)
        {
            Header.Alerts.Add(new SentryAlertEntry(n.Rule, n.At, n.Recipients));
            foreach (var email in n.Recipients)
            {
                string key = n.Rule + "\n" + email;
                int count = Header.Notices.TryGetValue(key, out var c) ? c.Count : 0;
                Header.Notices[key] = new SentryNoticeCount(n.Rule, email, count + 1, n.At);
            }
        }
        if (Header.Alerts.Count > MaxAlerts)
        {
            Header.Alerts.RemoveRange(0, Header.Alerts.Count - MaxAlerts);
        }
    }

    public SentryIssueView View(int days, DateTimeOffset now)
    {
        var today = Today(now);
        var from = today.AddDays(1 - days);
        var perDay = new List<SentryDayCount>();
        for (var d = from; d <= today; d = d.AddDays(1))
        {
            perDay.Add(_days.TryGetValue(d, out var day) ? new SentryDayCount(d, day.Events.Count, day.Users.Count) : new SentryDayCount(d, 0, 0));
        }
        return new SentryIssueView
        {
            Project = Header.Project,
            Fingerprint = Header.Fingerprint,
            Message = Header.Message,
            Events = EventsBetween(from, today),
            Users = UsersBetween(from, today),
            FirstSeen = Header.FirstSeen,
            LastSeen = Header.LastSeen,
            State = StateAt(now),
            SnoozedUntil = StateAt(now) == SentryIssueStates.Snoozed ? Header.SnoozedUntil : null,
            GroupId = Header.GroupId,
            Module = Header.Module,
            Frames = Header.Frames,
            Days = [.. perDay],
            Releases = [.. Header.Releases.OrderBy(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Select(r => new SentryReleaseSeen(r.Key, r.Value))],
            Alerts = [.. Header.Alerts.AsEnumerable().Reverse()],
            History = [.. Header.History],
        };
    }

    public SentryIssueFacts Facts(DateTimeOffset now, IEnumerable<int> eventDays)
    {
        var today = Today(now);
        return new SentryIssueFacts
        {
            Project = Header.Project,
            Fingerprint = Header.Fingerprint,
            Message = Header.Message,
            GroupId = Header.GroupId,
            Frames = Header.Frames,
            State = StateAt(now),
            FirstSeen = Header.FirstSeen,
            LastSeen = Header.LastSeen,
            RecordedAt = Header.RecordedAt,
            RegressedAt = Header.RegressedAt,
            LastHourEvents = LastHourEvents(now),
            WeekBeforeEvents = WeekBeforeEvents(now),
            EventsToday = EventsBetween(today, today),
            UsersToday = UsersBetween(today, today),
            Events7Days = EventsBetween(today.AddDays(-6), today),
            Users7Days = UsersBetween(today.AddDays(-6), today),
            EventsOverDays = eventDays.Distinct().ToImmutableDictionary(n => n, n => EventsBetween(today.AddDays(1 - n), today)),
            Notices = [.. Header.Notices.Values],
        };
    }
}
