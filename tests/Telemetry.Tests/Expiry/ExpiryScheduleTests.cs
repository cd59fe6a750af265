using System.Collections.Immutable;
using Telemetry.Grains.Expiry;
using Telemetry.Tests.Probes;

namespace Telemetry.Tests.Expiry;

/// <summary>
/// A made-up calendar with round numbers (docs/expiry.md for the rules):
/// <code>
/// train  nightly start (expiry)  first notice (-42)  final notice (-14)   probes
/// 100    2030-01-07              2029-11-26          2029-12-24           OLD
/// 101    2030-02-04              2029-12-24          2030-01-21           A ("101"), B ("101.0"), C ("100.0b2")
/// 102    2030-03-04              2030-01-21          2030-02-18           D ("102", no owners)
/// 103    2030-04-01 (projected)  2030-02-18          2030-03-18           E ("103")
/// </code>
/// </summary>
public sealed class ExpiryScheduleTests
{
    internal const string List = "dev-telemetry-alerts@lists.example.org";
    internal const string Sheriff = "telemetry-sheriff@example.org";

    internal static readonly ReleaseCalendar Calendar = new(
    [
        new ReleaseTrain(100, D("2030-01-07"), D("2030-03-04")),
        new ReleaseTrain(101, D("2030-02-04"), D("2030-04-01")),
        new ReleaseTrain(102, D("2030-03-04"), D("2030-04-29")),
    ]);

    internal static readonly ExpiryNoticeSettings Settings = new() { ListAddress = List, SheriffAddress = Sheriff };

    internal static readonly ExpiringProbe[] Definitions =
    [
        new("A", "101", ["a@x.org"]),
        new("B", "101.0", ["b@x.org", "A@X.org"]),
        new("C", "100.0b2", ["c@x.org"]),
        new("D", "102", []),
        new("E", "103", ["a@x.org"]),
        new("OLD", "100", ["old@x.org"]),
        new("NEVER", "never", ["a@x.org"]),
        new("DEFAULT", "default", ["a@x.org"]),
        new("ABSENT", null, ["a@x.org"]),
        new("STAR", "*", ["a@x.org"]),
        new("BROKEN", "101 beta", ["a@x.org"]),
    ];

    internal static readonly ExpirySchedule Schedule = new(Definitions, Calendar, Settings);

    private static readonly IReadOnlySet<NoticeKey> NothingSent = ImmutableHashSet<NoticeKey>.Empty;

    internal static DateOnly D(string text) => DateOnly.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A mail as one readable line: "first list [to] A,B,C".</summary>
    internal static string Describe(ExpiryMail mail) =>
        $"{mail.Stage.WireName()} {(mail.Audience == MailAudience.List ? "list" : "owner")}{(mail.AlreadySent ? " (sent)" : "")} " +
        $"[{string.Join(",", mail.To)}] {string.Join(",", mail.Probes.Select(p => p.Name))}";

    private static string[] Describe(ExpiryRun run) => run.Mails.Select(Describe).ToArray();

    /// <summary>A run for one day, the day after a run the day before.</summary>
    private static ExpiryRun Daily(string day, IReadOnlySet<NoticeKey>? sent = null) =>
        Schedule.Due(D(day), sent ?? NothingSent, D(day).AddDays(-1));

    [Fact]
    public void ExpiringProbesAreResolvedAgainstTheCalendar()
    {
        Seq.Equal(
            ["OLD 2030-01-07", "A 2030-02-04", "B 2030-02-04", "C 2030-02-04", "D 2030-03-04", "E 2030-04-01"],
            Schedule.Probes.Select(p => $"{p.Name} {p.ExpiryDate:yyyy-MM-dd}"));
        Assert.True(Schedule.Probes.Single(p => p.Name == "E").Train.Projected);
        Assert.Equal(101, Schedule.Probes.Single(p => p.Name == "C").Train.Major);

        var broken = Assert.Single(Schedule.InvalidVersions);
        Assert.Equal(("BROKEN", "101 beta"), (broken.Name, broken.ExpiresInVersion));
        Assert.Contains("unexpected blank", broken.Reason);
    }

    [Fact]
    public void FirstNoticeGoesOutExactly42DaysBefore()
    {
        var run = Daily("2029-12-24");
        Assert.Equal(D("2029-12-24"), run.From);
        Seq.Equal(
        [
            $"first list [{List}] A,B,C",
            "first owner [a@x.org] A,B",
            "first owner [b@x.org] B",
            "first owner [c@x.org] C",
            // OLD's final notice falls on the same day.
            $"final list [{List},{Sheriff}] OLD",
            "final owner [old@x.org] OLD",
        ], Describe(run));
        Assert.All(run.Mails, m => Assert.False(m.AlreadySent));
        Seq.Equal(
        [
            new NoticeKey("A", "101.0a1", NoticeStage.First),
            new NoticeKey("B", "101.0a1", NoticeStage.First),
            new NoticeKey("C", "100.0b2", NoticeStage.First),
            new NoticeKey("OLD", "100.0a1", NoticeStage.Final),
        ], run.NewNotices);
    }

    [Theory]
    [InlineData("2029-12-23")]
    [InlineData("2029-12-25")]
    [InlineData("2030-01-20")]
    [InlineData("2030-01-22")]
    [InlineData("2030-02-04")]
    [InlineData("2030-02-05")]
    public void NothingIsDueTheDayBeforeOrAfter(string day)
    {
        var run = Daily(day);
        Assert.Empty(run.Mails);
        Assert.Empty(run.NewNotices);
    }

    [Fact]
    public void FinalNoticeGoesOutExactly14DaysBeforeWithTheSheriff()
    {
        var run = Daily("2030-01-21");
        Seq.Equal(
        [
            // D has no owners: the list alone hears about it.
            $"first list [{List}] D",
            $"final list [{List},{Sheriff}] A,B,C",
            "final owner [a@x.org] A,B",
            "final owner [b@x.org] B",
            "final owner [c@x.org] C",
        ], Describe(run));
    }

    [Fact]
    public void VersionsNotInTheCalendarUseTheNextKnownOrProjectedOne()
    {
        // C ("100.0b2") is after 100.0a1, so it expires on 101's merge day, with A and B.
        Assert.Equal(D("2030-02-04"), Schedule.Probes.Single(p => p.Name == "C").ExpiryDate);

        // E ("103") is beyond the calendar: projected 28 days after 102's merge day, 2030-04-01.
        Seq.Equal(
        [
            $"first list [{List}] E",
            "first owner [a@x.org] E",
            $"final list [{List},{Sheriff}] D",
        ], Describe(Daily("2030-02-18")));
        Seq.Equal(
        [
            $"final list [{List},{Sheriff}] E",
            "final owner [a@x.org] E",
        ], Describe(Daily("2030-03-18")));
    }

    [Fact]
    public void NeverDefaultAbsentAndStarAreNeverMailedNorListed()
    {
        // A whole year in one catch-up run.
        var run = Schedule.Due(D("2030-12-31"), NothingSent, D("2029-01-01"));
        var mailed = run.Mails.SelectMany(m => m.Probes).Select(p => p.Name).ToHashSet();
        Seq.Equal(["A", "B", "C", "D", "E", "OLD"], mailed.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(Schedule.Expiring(D("2030-01-01"), 100_000), s => s.Name is "NEVER" or "DEFAULT" or "ABSENT" or "STAR" or "BROKEN");
    }

    [Fact]
    public void AlreadyExpiredProbesAreNotMailedAgainButListed()
    {
        var run = Daily("2030-02-10");
        Assert.Empty(run.Mails);

        var expiring = Schedule.Expiring(D("2030-02-10"), withinDays: 30);
        Seq.Equal(
        [
            "A 2030-02-04 -6 expired",
            "B 2030-02-04 -6 expired",
            "C 2030-02-04 -6 expired",
            "D 2030-03-04 22 ",
        ], expiring.Select(s => $"{s.Name} {s.ExpiryDate:yyyy-MM-dd} {s.DaysLeft} {(s.Expired ? "expired" : "")}"));
        Seq.Equal(["b@x.org", "A@X.org"], expiring[1].Owners);
        Assert.Equal("101.0", expiring[1].ExpiresInVersion);
    }

    [Fact]
    public void ExpiringCountsTheExpiryDayAsExpiredAndKeepsBothEndsOfTheWindow()
    {
        var onTheDay = Schedule.Expiring(D("2030-03-04"), withinDays: 28);
        Seq.Equal(["A -28 True", "B -28 True", "C -28 True", "D 0 True", "E 28 False"],
            onTheDay.Select(s => $"{s.Name} {s.DaysLeft} {s.Expired}"));
        Assert.True(onTheDay.Single(s => s.Name == "E").Projected);
        Assert.False(onTheDay.Single(s => s.Name == "D").Projected);

        Seq.Equal(["D"], Schedule.Expiring(D("2030-03-04"), withinDays: 0).Select(s => s.Name));
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.Expiring(D("2030-03-04"), withinDays: -1));
    }

    [Fact]
    public void ExpiringCanBeFilteredByOwner()
    {
        Seq.Equal(["A", "B", "E"], Schedule.Expiring(D("2030-02-01"), 90, owner: " A@x.ORG ").Select(s => s.Name));
        Seq.Equal(["C"], Schedule.Expiring(D("2030-02-01"), 90, owner: "c@x.org").Select(s => s.Name));
        Assert.Empty(Schedule.Expiring(D("2030-02-01"), 90, owner: "nobody@x.org"));
        Assert.Equal(6, Schedule.Expiring(D("2030-02-01"), 90, owner: "").Length);
    }

    [Fact]
    public void TenDaysOfDowntimeAreCaughtUpWithBothStagesInOneRun()
    {
        // Last run 2030-01-11; the next one is 2030-01-21: days 12 … 21 are covered.
        var run = Schedule.Due(D("2030-01-21"), NothingSent, lastRunDate: D("2030-01-11"));
        Assert.Equal(D("2030-01-12"), run.From);
        Seq.Equal(Describe(Daily("2030-01-21")), Describe(run));

        // Down from 2030-01-16 to 2030-02-19: a probe's first and final notice can come together.
        var longOutage = Schedule.Due(D("2030-02-20"), NothingSent, lastRunDate: D("2030-01-15"));
        Seq.Equal(
        [
            $"first list [{List}] D,E",
            "first owner [a@x.org] E",
            $"final list [{List},{Sheriff}] A,B,C,D",
            "final owner [a@x.org] A,B",
            "final owner [b@x.org] B",
            "final owner [c@x.org] C",
        ], Describe(longOutage));
    }

    [Fact]
    public void NoticesAlreadySentAreReportedButNeverSentAgain()
    {
        var first = Daily("2029-12-24");
        var sent = first.NewNotices.ToImmutableHashSet();

        // The same day again (a retry, a second silo): everything is reported as sent.
        var again = Schedule.Due(D("2029-12-24"), sent, lastRunDate: D("2029-12-24"));
        Assert.Equal(first.Mails.Length, again.Mails.Length);
        Assert.All(again.Mails, m => Assert.True(m.AlreadySent));
        Assert.Empty(again.ToSend);
        Assert.Empty(again.NewNotices);

        // A catch-up run over that day later on does not send them either.
        var later = Schedule.Due(D("2029-12-30"), sent, lastRunDate: D("2029-12-20"));
        Assert.Empty(later.ToSend);

        // Only part sent (a crash between mails): the rest goes out, the sent part is reported.
        var partly = ImmutableHashSet.Create(new NoticeKey("A", "101.0a1", NoticeStage.First));
        var resumed = Daily("2029-12-24", partly);
        Seq.Equal(
        [
            $"first list [{List}] B,C",
            // The first spelling seen names the owner: B lists "A@X.org".
            "first owner [A@X.org] B",
            "first owner [b@x.org] B",
            "first owner [c@x.org] C",
            $"first list (sent) [{List}] A",
            "first owner (sent) [a@x.org] A",
            $"final list [{List},{Sheriff}] OLD",
            "final owner [old@x.org] OLD",
        ], Describe(resumed));
        Assert.DoesNotContain(new NoticeKey("A", "101.0a1", NoticeStage.First), resumed.NewNotices);
    }

    [Fact]
    public void DailyRunsWithOutagesSendEveryNoticeOnceOnTheFirstRunAtOrAfterItsDay()
    {
        // An independent model: each notice is due on expiry - 42 / expiry - 14 (dates from the table above).
        var noticeDays = new Dictionary<(string, NoticeStage), DateOnly>
        {
            [("OLD", NoticeStage.First)] = D("2029-11-26"), [("OLD", NoticeStage.Final)] = D("2029-12-24"),
            [("A", NoticeStage.First)] = D("2029-12-24"), [("A", NoticeStage.Final)] = D("2030-01-21"),
            [("B", NoticeStage.First)] = D("2029-12-24"), [("B", NoticeStage.Final)] = D("2030-01-21"),
            [("C", NoticeStage.First)] = D("2029-12-24"), [("C", NoticeStage.Final)] = D("2030-01-21"),
            [("D", NoticeStage.First)] = D("2030-01-21"), [("D", NoticeStage.Final)] = D("2030-02-18"),
            [("E", NoticeStage.First)] = D("2030-02-18"), [("E", NoticeStage.Final)] = D("2030-03-18"),
        };
        bool Down(DateOnly day) =>
            (day >= D("2029-12-20") && day <= D("2030-01-02")) || (day >= D("2030-02-10") && day <= D("2030-02-25")) || day.Day % 7 == 3;

        var sent = new HashSet<NoticeKey>();
        var sentOn = new Dictionary<(string, NoticeStage), DateOnly>();
        DateOnly? lastRun = D("2029-11-01");
        var runDays = new List<DateOnly>();
        for (var day = D("2029-11-02"); day <= D("2030-05-01"); day = day.AddDays(1))
        {
            if (Down(day))
            {
                continue;
            }

            runDays.Add(day);
            var run = Schedule.Due(day, sent, lastRun);
            foreach (var mail in run.ToSend.Where(m => m.Audience == MailAudience.List))
            {
                foreach (var probe in mail.Probes)
                {
                    Assert.True(sentOn.TryAdd((probe.Name, mail.Stage), day), $"{probe.Name} {mail.Stage} mailed twice");
                }
            }

            sent.UnionWith(run.NewNotices);
            lastRun = day;
        }

        Assert.Equal(noticeDays.Count, sentOn.Count);
        foreach (var (notice, due) in noticeDays)
        {
            Assert.Equal(runDays.First(d => d >= due), sentOn[notice]);
        }
    }

    [Fact]
    public void EvaluationIsPure()
    {
        var sent = new HashSet<NoticeKey> { new("A", "101.0a1", NoticeStage.First) };
        var first = Schedule.Due(D("2030-01-21"), sent, D("2029-12-01"));
        var second = Schedule.Due(D("2030-01-21"), sent, D("2029-12-01"));
        Seq.Equal(Describe(first), Describe(second));
        Seq.Equal(first.NewNotices, second.NewNotices);
        Seq.Equal([new NoticeKey("A", "101.0a1", NoticeStage.First)], sent);
        Assert.Equal(6, Schedule.Probes.Length);
    }

    [Fact]
    public void ALastRunOnOrAfterTheAsOfDateCoversThatDayAlone()
    {
        Assert.Equal(D("2029-12-24"), Schedule.Due(D("2029-12-24"), NothingSent, D("2030-01-30")).From);
        Assert.Equal(D("2029-12-24"), Schedule.Due(D("2029-12-24"), NothingSent, lastRunDate: null).From);
        Seq.Equal(Describe(Daily("2029-12-24")), Describe(Schedule.Due(D("2029-12-24"), NothingSent, lastRunDate: null)));
    }

    [Fact]
    public void OwnersWhoAreListRecipientsGetTheListMailOnly()
    {
        var schedule = new ExpirySchedule(
            [new ExpiringProbe("P", "101", [List, Sheriff, "p@x.org"])],
            Calendar,
            Settings);
        Seq.Equal(
        [
            $"first list [{List}] P",
            "first owner [p@x.org] P",
            // At the first stage the sheriff is not on the list mail, so gets an owner mail.
            $"first owner [{Sheriff}] P",
        ], schedule.Due(D("2029-12-24"), NothingSent, null).Mails.Select(Describe));
        Seq.Equal(
        [
            $"final list [{List},{Sheriff}] P",
            "final owner [p@x.org] P",
        ], schedule.Due(D("2030-01-21"), NothingSent, null).Mails.Select(Describe));
    }

    [Fact]
    public void WithoutASheriffTheFinalListMailGoesToTheListAlone()
    {
        var schedule = new ExpirySchedule(Definitions, Calendar, new ExpiryNoticeSettings { ListAddress = List });
        Seq.Equal([List], schedule.Due(D("2030-01-21"), NothingSent, null).Mails.Single(m => m.Stage == NoticeStage.Final && m.Audience == MailAudience.List).To);
    }

    [Fact]
    public void NoticeDaysFollowTheSettings()
    {
        var schedule = new ExpirySchedule(Definitions, Calendar, Settings with { FirstNoticeDays = 30, FinalNoticeDays = 0 });
        Assert.Empty(schedule.Due(D("2029-12-24"), NothingSent, null).Mails);
        Seq.Equal(["first A,B,C"], schedule.Due(D("2030-01-05"), NothingSent, null).Mails
            .Where(m => m.Audience == MailAudience.List).Select(m => $"{m.Stage.WireName()} {string.Join(",", m.Probes.Select(p => p.Name))}"));
        Seq.Equal(["final A,B,C"], schedule.Due(D("2030-02-04"), NothingSent, null).Mails
            .Where(m => m.Audience == MailAudience.List).Select(m => $"{m.Stage.WireName()} {string.Join(",", m.Probes.Select(p => p.Name))}"));
    }

    [Fact]
    public void ExtendingTheVersionStartsNewNoticesButRewritingItDoesNot()
    {
        var sent = Daily("2029-12-24").NewNotices.ToImmutableHashSet();
        ExpirySchedule With(string bVersion) => new(
            Definitions.Select(p => p.Name == "B" ? new ExpiringProbe("B", bVersion, p.Owners) : p), Calendar, Settings);

        // "101" → "101.0a1": the same version, already told.
        Assert.DoesNotContain(With("101.0a1").Due(D("2029-12-24"), sent, null).ToSend, m => m.Probes.Any(p => p.Name == "B"));

        // Extended to 102: B's notices start again for the new version.
        var extended = With("102").Due(D("2030-01-21"), sent, null);
        Assert.Contains(extended.NewNotices, k => k == new NoticeKey("B", "102.0a1", NoticeStage.First));
    }

    [Fact]
    public void InvalidInputIsRefused()
    {
        Assert.Throws<ArgumentException>(() => new ExpirySchedule([new("A", "60"), new("A", "61")], Calendar, Settings));
        var error = Assert.Throws<ArgumentException>(() =>
            new ExpirySchedule([], Calendar, Settings with { FirstNoticeDays = 14, FinalNoticeDays = 14 }));
        Assert.Contains("FinalNoticeDays", error.Message);
        Assert.Throws<ArgumentException>(() => new ExpirySchedule([], Calendar, new ExpiryNoticeSettings { ListAddress = " " }));
    }

    [Fact]
    public void SettingsSayWhatIsWrong()
    {
        Assert.Empty(Settings.Validate());
        Assert.Equal(3, new ExpiryNoticeSettings { ListAddress = "", FirstNoticeDays = 0, FinalNoticeDays = -1 }.Validate().Count);
        Assert.Single(new ExpiryNoticeSettings { ListAddress = List, FirstNoticeDays = 400 }.Validate());
    }

    [Fact]
    public void OwnersAreTrimmedAndDeduplicated()
    {
        var probe = new ExpiringProbe("P", "60", [" a@x.org ", "A@x.org", "", "  ", "b@x.org"]);
        Seq.Equal(["a@x.org", "b@x.org"], probe.Owners);
        Assert.Empty(new ExpiringProbe("Q", "60").Owners);
    }
}
