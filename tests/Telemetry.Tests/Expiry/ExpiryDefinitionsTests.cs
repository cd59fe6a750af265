using System.Collections.Immutable;
using System.Text.Json;
using Telemetry.Grains.Expiry;
using Telemetry.Grains.Probes;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Probes;

namespace Telemetry.Tests.Expiry;

/// <summary>The schedule's inputs as read from the real Histograms.json revisions and the sample calendar.</summary>
public sealed class ExpiryDefinitionsTests
{
    private static readonly string CalendarPath = Path.Combine(TestPaths.RepoRoot, "silo", "release-calendar.json");

    private static readonly ExpiryNoticeSettings Settings = new() { ListAddress = "list@example.org", SheriffAddress = "sheriff@example.org" };

    private static DateOnly NightlyStartInFile(string version)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(CalendarPath));
        var row = document.RootElement.GetProperty("versions").EnumerateArray().Single(e => e.GetProperty("version").GetString() == version);
        return DateOnly.Parse(row.GetProperty("nightly_start").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("8d3810543edc")]
    [InlineData("a55c55edf302")]
    [InlineData("ad0ae007aa9e")]
    public void The2013RevisionsPredateExpiryAndNeverExpire(string revision)
    {
        var parsed = HistogramsJsonParser.Parse(ProbeTestData.ReadBytes($"Histograms.{revision}.json"));
        Assert.NotEmpty(parsed.Definitions);
        Assert.All(parsed.Definitions.Values, d => Assert.Null(d.ExpiresInVersion));
        Assert.All(parsed.Definitions.Values, d => Assert.True(d.AlertEmails.IsEmpty && d.BugNumbers.IsEmpty));

        var schedule = new ExpirySchedule(parsed.Definitions.Values.Select(ExpiringProbe.FromHistogram), ReleaseCalendar.Load(CalendarPath), Settings);
        Assert.Empty(schedule.Probes);
        Assert.Empty(schedule.InvalidVersions);
    }

    [Fact]
    public void TheModernSampleExpiresTwoProbesOnTheirMergeDays()
    {
        var parsed = HistogramsJsonParser.Parse(ProbeTestData.ReadBytes("Histograms.modern-sample.json"));
        var schedule = new ExpirySchedule(parsed.Definitions.Values.Select(ExpiringProbe.FromHistogram), ReleaseCalendar.Load(CalendarPath), Settings);

        Seq.Equal(
        [
            $"A11Y_UIA_DETECTION_TIMING_MS 60 {NightlyStartInFile("60"):yyyy-MM-dd} dbolter@mozilla.com",
            $"ABOUT_CONFIG_FEATURES_USAGE 67 {NightlyStartInFile("67"):yyyy-MM-dd} pamadini@mozilla.com",
        ], schedule.Probes.Select(p => $"{p.Name} {p.ExpiresInVersion} {p.ExpiryDate:yyyy-MM-dd} {string.Join(",", p.Owners)}"));
        Assert.Empty(schedule.InvalidVersions);

        // A probe without alert_emails: parsed with no owners (never expires here).
        Assert.True(parsed.Definitions["BACKGROUNDFILESAVER_THREAD_COUNT"].AlertEmails.IsEmpty);
        Seq.Equal([1423989], parsed.Definitions["A11Y_UIA_DETECTION_TIMING_MS"].BugNumbers);

        var firstNoticeDay = NightlyStartInFile("60").AddDays(-42);
        var run = schedule.Due(firstNoticeDay, ImmutableHashSet<NoticeKey>.Empty, firstNoticeDay.AddDays(-1));
        Seq.Equal(
        [
            "first list [list@example.org] A11Y_UIA_DETECTION_TIMING_MS",
            "first owner [dbolter@mozilla.com] A11Y_UIA_DETECTION_TIMING_MS",
        ], run.Mails.Select(ExpiryScheduleTests.Describe));
    }

    [Fact]
    public void OwnersAndBugNumbersAreReadLeniently()
    {
        var parsed = HistogramsJsonParser.Parse("""
            {
              "ONE_OWNER": { "kind": "flag", "expires_in_version": "70", "alert_emails": "solo@x.org", "bug_numbers": [1, "2", "x"] },
              "NO_OWNER": { "kind": "flag", "expires_in_version": "70.0" },
              "NULL_OWNER": { "kind": "flag", "expires_in_version": 71, "alert_emails": null }
            }
            """);
        Assert.Empty(parsed.Errors);
        var probes = parsed.Definitions.Values.Select(ExpiringProbe.FromHistogram).ToDictionary(p => p.Name);
        Seq.Equal(["solo@x.org"], probes["ONE_OWNER"].Owners);
        Seq.Equal([1, 2], parsed.Definitions["ONE_OWNER"].BugNumbers);
        Assert.Empty(probes["NO_OWNER"].Owners);
        Assert.Empty(probes["NULL_OWNER"].Owners);
        Assert.Equal("71", probes["NULL_OWNER"].ExpiresInVersion);
    }

    [Fact]
    public void ScalarsExpireWithTheirNotificationEmails()
    {
        var scalars = ScalarsParser.Parse("""
            browser.engagement:
              tab_count:
                kind: uint
                description: tabs
                expires: "66"
                notification_emails: ["tabs@x.org"]
            """);
        var probe = ExpiringProbe.FromScalar(scalars["browser.engagement.tab_count"]);
        Assert.Equal(("browser.engagement.tab_count", "66"), (probe.Name, probe.ExpiresInVersion));
        Seq.Equal(["tabs@x.org"], probe.Owners);
    }
}
