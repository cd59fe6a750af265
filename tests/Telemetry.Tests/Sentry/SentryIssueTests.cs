using System.Collections.Immutable;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Sentry;

namespace Telemetry.Tests.Sentry;

/// <summary>One issue's arithmetic: redeliveries, days, users, first/last seen, states, the spike windows.</summary>
public sealed class SentryIssueTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 30, 0, TimeSpan.Zero);

    internal static SentryEvent Event(string id, DateTimeOffset at, string? user = null, string fingerprint = "fp", string project = "default", string? release = null) => new()
    {
        EventId = id,
        DateReceived = at,
        Fingerprints = [.. fingerprint.Split(':')],
        Message = "TypeError: x is undefined",
        Project = project,
        UserId = user,
        Release = release,
    };

    private static SentryIssue NewIssue(int limit = 1000) => SentryIssue.Empty("default", "fp", limit, 91);

    [Fact]
    public void A_resubmitted_event_is_counted_once()
    {
        var issue = NewIssue();
        Assert.True(issue.Record(Event("e1", Now), Now));
        Assert.False(issue.Record(Event("e1", Now), Now));
        Assert.Equal(1, issue.EventsBetween(SentryIssue.Today(Now), SentryIssue.Today(Now)));
        Assert.Equal(1, issue.LastHourEvents(Now));
    }

    [Fact]
    public void Two_events_a_day_apart_give_two_in_total_and_one_for_the_second_day()
    {
        var issue = NewIssue();
        issue.Record(Event("e1", Now.AddDays(-1)), Now);
        issue.Record(Event("e2", Now), Now);
        var today = SentryIssue.Today(Now);
        Assert.Equal(2, issue.EventsBetween(today.AddDays(-6), today));
        Assert.Equal(1, issue.EventsBetween(today, today));
        var view = issue.View(2, Now);
        Assert.Equal([1L, 1L], view.Days.Select(d => d.Events));
    }

    [Fact]
    public void Last_seen_never_moves_backwards_and_first_seen_is_the_earliest_event()
    {
        var issue = NewIssue();
        issue.Record(Event("late", Now), Now);
        issue.Record(Event("early", Now.AddHours(-5)), Now);
        issue.Record(Event("middle", Now.AddHours(-1)), Now);
        Assert.Equal(Now.AddHours(-5), issue.Header.FirstSeen);
        Assert.Equal(Now, issue.Header.LastSeen);
        // The first event recorded defines the message and the stack, whatever its date.
        Assert.Equal(Now, issue.Header.RecordedAt);
    }

    [Fact]
    public void Users_over_a_range_are_distinct_not_summed_over_days()
    {
        var issue = NewIssue();
        for (int d = 0; d < 3; d++)
        {
            issue.Record(Event($"a{d}", Now.AddDays(-d), user: "ann"), Now);
            issue.Record(Event($"b{d}", Now.AddDays(-d), user: $"user{d}"), Now);
        }
        issue.Record(Event("anon", Now), Now);
        var today = SentryIssue.Today(Now);
        Assert.Equal(4, issue.UsersBetween(today.AddDays(-2), today)); // ann + user0..2
        Assert.Equal(7, issue.EventsBetween(today.AddDays(-2), today));
        Assert.Equal(2, issue.UsersBetween(today, today));
    }

    [Fact]
    public void A_hundred_thousand_distinct_events_count_within_two_percent_and_redeliveries_add_nothing()
    {
        var issue = NewIssue();
        for (int i = 0; i < 100_000; i++)
        {
            issue.Record(Event($"event-{i}", Now.AddMinutes(-(i % 600)), user: $"user-{i % 40_000}"), Now);
        }
        var today = SentryIssue.Today(Now);
        long events = issue.EventsBetween(today, today);
        long users = issue.UsersBetween(today, today);
        Assert.InRange(events, 98_000, 102_000);
        Assert.InRange(users, 39_200, 40_800);
        // SQS redelivers recent messages (a consumer died before deleting them): nothing changes.
        for (int i = 99_000; i < 100_000; i++)
        {
            Assert.False(issue.Record(Event($"event-{i}", Now.AddMinutes(-(i % 600))), Now));
        }
        Assert.Equal(events, issue.EventsBetween(today, today));
    }

    [Fact]
    public void Releases_keep_the_time_each_was_first_seen()
    {
        var issue = NewIssue();
        issue.Record(Event("e1", Now, release: "2.0"), Now);
        issue.Record(Event("e2", Now.AddHours(-3), release: "2.0"), Now);
        issue.Record(Event("e3", Now.AddHours(-1), release: "1.9"), Now);
        var view = issue.View(7, Now);
        Assert.Equal([("2.0", Now.AddHours(-3)), ("1.9", Now.AddHours(-1))], view.Releases.Select(r => (r.Release, r.FirstSeen)));
    }

    [Fact]
    public void An_event_for_a_resolved_issue_makes_it_regressed_but_a_redelivery_does_not()
    {
        var issue = NewIssue();
        issue.Record(Event("e1", Now), Now);
        Assert.Null(issue.Act(new SentryIssueAction { Action = "resolve", By = "ann@example.org" }, Now));
        Assert.Equal(SentryIssueStates.Resolved, issue.StateAt(Now));
        Assert.False(issue.Record(Event("e1", Now), Now.AddMinutes(1)));
        Assert.Equal(SentryIssueStates.Resolved, issue.StateAt(Now));
        Assert.True(issue.Record(Event("e2", Now.AddMinutes(2)), Now.AddMinutes(2)));
        Assert.Equal(SentryIssueStates.Regressed, issue.StateAt(Now.AddMinutes(2)));
        Assert.Equal(Now.AddMinutes(2), issue.Header.RegressedAt);
    }

    [Fact]
    public void Actions_follow_the_states_and_are_recorded_with_who_and_when()
    {
        var issue = NewIssue();
        issue.Record(Event("e1", Now), Now);
        SentryIssueAction A(string action, DateTimeOffset? until = null) => new() { Action = action, Until = until, By = "bob@example.org", Comment = "seen" };
        Assert.Equal("only a muted issue can be unmuted (it is unresolved)", issue.Act(A("unmute"), Now));
        Assert.Contains("future", issue.Act(A("snooze", Now.AddHours(-1)), Now));
        Assert.Null(issue.Act(A("snooze", Now.AddHours(2)), Now));
        Assert.Equal(SentryIssueStates.Snoozed, issue.StateAt(Now.AddHours(1)));
        Assert.Equal(SentryIssueStates.Unresolved, issue.StateAt(Now.AddHours(2)));
        Assert.Null(issue.Act(A("mute"), Now));
        Assert.Contains("unmute it first", issue.Act(A("snooze", Now.AddHours(2)), Now));
        Assert.Null(issue.Act(A("unmute"), Now));
        Assert.Contains("unknown action", issue.Act(A("delete"), Now));
        Assert.Equal(["snooze", "mute", "unmute"], issue.Header.History.Select(h => h.Action));
        Assert.All(issue.Header.History, h => Assert.Equal(("bob@example.org", Now, "seen"), (h.By, h.At, h.Comment)));
    }

    [Fact]
    public void The_spike_windows_are_the_last_60_minutes_and_the_168_hours_before_them()
    {
        var issue = NewIssue();
        int id = 0;
        void At(DateTimeOffset t, int n)
        {
            for (int i = 0; i < n; i++)
            {
                issue.Record(Event($"e{id++}", t), Now);
            }
        }
        At(Now, 3);                        // in the last hour
        At(Now.AddMinutes(-59), 4);        // in the last hour
        At(Now.AddMinutes(-61), 5);        // the week before (the hour the week ends in, from per-minute counts)
        At(Now.AddHours(-30), 6);          // the week before
        At(Now.AddHours(-168), 7);         // the week before (its first hour)
        At(Now.AddHours(-200), 8);         // older than both
        Assert.Equal(7, issue.LastHourEvents(Now));
        Assert.Equal(18, issue.WeekBeforeEvents(Now));
        Assert.Equal(0, issue.LastHourEvents(Now.AddHours(3)));
    }

    [Fact]
    public void Days_older_than_the_retention_are_dropped_and_reported_for_deletion()
    {
        var issue = SentryIssue.Empty("default", "fp", 1000, 8);
        issue.Record(Event("old", Now.AddDays(-7)), Now.AddDays(-7));
        issue.ClearDirty();
        issue.Record(Event("new", Now.AddDays(2)), Now.AddDays(2));
        Assert.Equal([SentryIssue.Today(Now.AddDays(-7))], issue.DroppedDays);
        Assert.Equal([SentryIssue.Today(Now.AddDays(2))], issue.DirtyDays.Select(d => d.Date));
    }
}
