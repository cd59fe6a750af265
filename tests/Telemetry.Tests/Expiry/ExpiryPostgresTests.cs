using System.Globalization;
using System.Net;
using Npgsql;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Probes;
using static Telemetry.Tests.Expiry.ExpiryMailTests;
using static Telemetry.Tests.Expiry.ExpiryTestKit;

namespace Telemetry.Tests.Expiry;

/// <summary>
/// Expiry in PostgreSQL mode, through maildev: the once-only promise with two silos running the same
/// day at once, and the catch-up of the days a stopped silo missed; the uploaded calendar is the same
/// for every silo and survives the restart.
/// </summary>
[Collection("postgres")]
public sealed class ExpiryPostgresTests(PostgresFixture pg)
{
    [Fact]
    public async Task Two_silos_running_the_same_day_at_once_mail_each_person_once()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var smtp = await MaildevServer.StartAsync();
        await using var a = await SiloHost.StartAsync(cs, SmtpArgs(smtp));
        var uploaded = await PutCalendarAsync(a);
        await UploadProbesAsync(a, Histograms);

        // A second silo on the same database (its own cluster: its grains cannot serialise the runs for
        // the first one's, only the database can) uses the calendar the first one stored.
        await using var b = await SiloHost.StartAsync(cs, SmtpArgs(smtp));
        var (_, calendarOnB) = await SendAsync(b, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
        Assert.Equal("upload", calendarOnB.GetProperty("source").GetString());
        Assert.Equal(uploaded.GetProperty("versions").ToString(), calendarOnB.GetProperty("versions").ToString());

        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => RunAsync(i % 2 == 0 ? a : b, FirstNoticeOf121)));

        string[] expected =
        [
            $"first [{ListAddress}] GC_MS,GC_SLICE_MS,NO_OWNER_FLAG",
            $"first [{GcOwner}] GC_MS,GC_SLICE_MS",
            $"first [{SharedOwner}] GC_MS",
        ];
        var reported = runs.SelectMany(Mails).ToList();
        foreach (var mail in expected)
        {
            Assert.Single(reported, r => r == mail + " new");
            Assert.Equal(5, reported.Count(r => r == mail + " sent"));
        }
        Assert.Equal(18, reported.Count);

        await smtp.WaitForMailsAsync(3, Wait);
        await Task.Delay(Settle);
        Seq.Equal(
        [
            $"{GcOwner} | [Telemetry] First notice: 2 probes expire on 2023-09-25 (Firefox 121)",
            $"{ListAddress} | [Telemetry] First notice: 3 probes expire on 2023-09-25 (Firefox 121)",
            $"{SharedOwner} | [Telemetry] First notice: 1 probe expires on 2023-09-25 (Firefox 121)",
        ], Describe(await smtp.GetMailsAsync()));
        Assert.Equal(3L, await ScalarAsync(cs, "SELECT count(*) FROM expiry_notices WHERE stage = 'first'"));
    }

    [Fact]
    public async Task A_silo_that_was_down_catches_up_the_notices_it_missed_at_start_and_never_repeats_them()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var smtp = await MaildevServer.StartAsync();
        var today = TodayUtc();
        string Date(int days) => Day(today.AddDays(days));

        // Expiry dates around today: with a downtime of the last 20 days, FINAL_PROBE's final notice
        // (3 days ago) and FIRST_PROBE's first notice (10 days ago) were missed; OLD_PROBE's final notice
        // (24 days ago) was before it, and LATER_PROBE's first notice is 18 days ahead.
        var calendar = $$"""
            {"versions": [
              {"version": "129", "nightly_start": "{{Date(-10)}}", "release": "{{Date(46)}}"},
              {"version": "130", "nightly_start": "{{Date(11)}}", "release": "{{Date(67)}}"},
              {"version": "131", "nightly_start": "{{Date(32)}}", "release": "{{Date(88)}}"},
              {"version": "132", "nightly_start": "{{Date(60)}}", "release": "{{Date(116)}}"}
            ]}
            """;
        const string histograms = """
            {
              "OLD_PROBE": {"kind": "flag", "expires_in_version": "129", "alert_emails": ["old@example.org"], "description": "d"},
              "FINAL_PROBE": {"kind": "flag", "expires_in_version": "130", "alert_emails": ["final@example.org"], "description": "d"},
              "FIRST_PROBE": {"kind": "flag", "expires_in_version": "131", "alert_emails": ["first@example.org"], "description": "d"},
              "LATER_PROBE": {"kind": "flag", "expires_in_version": "132", "alert_emails": ["later@example.org"], "description": "d"}
            }
            """;
        await using (var before = await SiloHost.StartAsync(cs, SmtpArgs(smtp)))
        {
            await PutCalendarAsync(before, calendar);
            await UploadProbesAsync(before, histograms);
        }

        // The silo stopped 20 days ago: the last day it evaluated was then.
        await ScalarAsync(cs, $"UPDATE expiry_runs SET last_run = '{Date(-20)}' RETURNING 1");

        await using var after = await SiloHost.StartAsync(cs, SmtpArgs(smtp));
        var (_, stored) = await SendAsync(after, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
        Assert.Equal("upload", stored.GetProperty("source").GetString());
        Seq.Equal(["129", "130", "131", "132"], stored.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));

        await smtp.WaitForMailsAsync(5, Wait);
        await Task.Delay(Settle);
        Seq.Equal(
        [
            $"final@example.org | [Telemetry] Final notice: 1 probe expires on {Date(11)} (Firefox 130)",
            $"first@example.org | [Telemetry] First notice: 1 probe expires on {Date(32)} (Firefox 131)",
            $"{ListAddress} | [Telemetry] Final notice: 1 probe expires on {Date(11)} (Firefox 130)",
            $"{ListAddress} | [Telemetry] First notice: 1 probe expires on {Date(32)} (Firefox 131)",
            $"{SheriffAddress} | [Telemetry] Final notice: 1 probe expires on {Date(11)} (Firefox 130)",
        ], Describe(await smtp.GetMailsAsync()));

        // From now on the daily reminder, kept in the database across restarts, runs at 00:10 UTC.
        Assert.Equal(86_400_000L, await ScalarAsync(cs, "SELECT period FROM orleansreminderstable WHERE remindername = 'expiry-daily'"));
        var start = (DateTime)(await ScalarAsync(cs, "SELECT starttime FROM orleansreminderstable WHERE remindername = 'expiry-daily'"))!;
        Assert.Equal(new TimeSpan(0, 10, 0), start.ToUniversalTime().TimeOfDay);

        // The missed day run by hand now: reported as sent, not mailed again.
        Seq.Equal(
        [
            $"final [{ListAddress},{SheriffAddress}] FINAL_PROBE sent",
            "final [final@example.org] FINAL_PROBE sent",
        ], Mails(await RunAsync(after, Date(-3))));
        await Task.Delay(Settle);
        Assert.Equal(5, (await smtp.GetMailsAsync()).Count);
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
