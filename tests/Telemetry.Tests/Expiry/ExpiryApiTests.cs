using System.Net;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Probes;
using static Telemetry.Tests.Expiry.ExpiryTestKit;

namespace Telemetry.Tests.Expiry;

public sealed class ExpirySiloFixture : IAsyncLifetime
{
    public SiloHost Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = await SiloHost.StartAsync(null, SiloArgs);
        await PutCalendarAsync(Silo);
        await UploadProbesAsync(Silo, Histograms);
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// The expiry endpoints on a real embedded silo with the calendar and definitions of
/// <see cref="ExpiryTestKit"/>: shapes, dates, ordering, and 400s that name the parameter.
/// </summary>
public sealed class ExpiryApiTests(ExpirySiloFixture fixture) : IClassFixture<ExpirySiloFixture>
{
    private SiloHost Silo => fixture.Silo;

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string url) =>
        await SendAsync(Silo, new HttpRequestMessage(HttpMethod.Get, url));

    private static string[] Lines(JsonElement expiring) =>
        [.. expiring.GetProperty("probes").EnumerateArray().Select(p =>
            $"{p.GetProperty("name").GetString()} {p.GetProperty("expires_in_version").GetString()} {p.GetProperty("expiry_date").GetString()} " +
            $"{p.GetProperty("days_left").GetInt32()} {(p.GetProperty("expired").GetBoolean() ? "expired" : "live")} " +
            $"[{string.Join(",", p.GetProperty("owners").EnumerateArray().Select(o => o.GetString()))}]")];

    [Fact]
    public async Task Expiring_lists_probes_by_expiry_date_then_name_with_days_left_and_owners()
    {
        var (status, body) = await GetAsync("/api/expiring?within_days=90&as_of=2023-08-20");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2023-08-20", body.GetProperty("as_of").GetString());
        Seq.Equal(
        [
            $"GC_MS 121 2023-09-25 36 live [{GcOwner},{SharedOwner}]",
            $"GC_SLICE_MS 121.0 2023-09-25 36 live [{GcOwner}]",
            "NO_OWNER_FLAG 121 2023-09-25 36 live []",
            $"NET_RTT 122 2023-10-23 64 live [{NetOwner}]",
        ], Lines(body));

        // 124 lies beyond the calendar: projected two cadences (2 x 28 days) after 122's merge day.
        (_, body) = await GetAsync("/api/expiring?within_days=120&as_of=2023-08-20&owner=NET-OWNER@example.org");
        Seq.Equal([$"NET_RTT 122 2023-10-23 64 live [{NetOwner}]", $"FAR_AWAY 124 2023-12-18 120 live [{NetOwner}]"], Lines(body));
        Assert.True(body.GetProperty("probes")[1].GetProperty("projected").GetBoolean());
    }

    [Fact]
    public async Task Probes_that_expired_within_the_window_are_listed_with_negative_days_left()
    {
        var (_, body) = await GetAsync("/api/expiring?within_days=10&as_of=2023-10-01");
        Seq.Equal(
        [
            $"GC_MS 121 2023-09-25 -6 expired [{GcOwner},{SharedOwner}]",
            $"GC_SLICE_MS 121.0 2023-09-25 -6 expired [{GcOwner}]",
            "NO_OWNER_FLAG 121 2023-09-25 -6 expired []",
        ], Lines(body));

        // On the expiry day itself the probe no longer records.
        (_, body) = await GetAsync("/api/expiring?within_days=0&as_of=2023-10-23");
        Seq.Equal([$"NET_RTT 122 2023-10-23 0 expired [{NetOwner}]"], Lines(body));
    }

    [Fact]
    public async Task Without_as_of_expiring_counts_from_today()
    {
        var (status, body) = await GetAsync("/api/expiring");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Day(TodayUtc()), body.GetProperty("as_of").GetString());
        Assert.Equal(90, body.GetProperty("within_days").GetInt32());
        // The test calendar's trains lie years back; projected ones are far ahead: nothing near today.
        Assert.Empty(body.GetProperty("probes").EnumerateArray());
    }

    [Theory]
    [InlineData("/api/expiring?within_days=-1", "within_days")]
    [InlineData("/api/expiring?within_days=ninety", "within_days")]
    [InlineData("/api/expiring?within_days=3651", "within_days")]
    [InlineData("/api/expiring?as_of=2023-13-01", "as_of")]
    [InlineData("/api/expiring?as_of=20230801", "as_of")]
    [InlineData("/api/expiring?owner=nobody", "owner")]
    public async Task Bad_expiring_parameters_are_400_naming_them(string url, string parameter)
    {
        var (status, body) = await GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(parameter + " ", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dry_run_reports_the_mails_of_the_day_and_sends_nothing_then_a_real_run_sends_them_once()
    {
        // A day no other test of this class runs, so that what was sent is this test's doing.
        const string day = "2023-09-11"; // final notice of 121, first notice of 122
        string[] expected =
        [
            $"first [{ListAddress}] NET_RTT new",
            $"first [{NetOwner}] NET_RTT new",
            $"final [{ListAddress},{SheriffAddress}] GC_MS,GC_SLICE_MS,NO_OWNER_FLAG new",
            $"final [{GcOwner}] GC_MS,GC_SLICE_MS new",
            $"final [{SharedOwner}] GC_MS new",
        ];

        var dry = await RunAsync(Silo, day, dryRun: true);
        Assert.Equal(day, dry.GetProperty("as_of").GetString());
        Assert.True(dry.GetProperty("dry_run").GetBoolean());
        Seq.Equal(expected, Mails(dry));
        var probe = dry.GetProperty("mails")[0].GetProperty("probes")[0];
        Assert.Equal(("NET_RTT", "122", "2023-10-23"),
            (probe.GetProperty("name").GetString(), probe.GetProperty("expires_in_version").GetString(), probe.GetProperty("expiry_date").GetString()));
        Assert.DoesNotContain(await ExpiryOutboxAsync(), r => r.Contains(day, StringComparison.Ordinal));

        var real = await RunAsync(Silo, day);
        Assert.False(real.GetProperty("dry_run").GetBoolean());
        Seq.Equal(expected, Mails(real));
        Assert.Equal(6, (await ExpiryOutboxAsync()).Count(r => r.Contains(day, StringComparison.Ordinal))); // five mails; list and sheriff get a row each

        Seq.Equal(expected.Select(e => e.Replace(" new", " sent", StringComparison.Ordinal)), Mails(await RunAsync(Silo, day)));
        Seq.Equal(expected.Select(e => e.Replace(" new", " sent", StringComparison.Ordinal)), Mails(await RunAsync(Silo, day, dryRun: true)));
        Assert.Equal(6, (await ExpiryOutboxAsync()).Count(r => r.Contains(day, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Runs_need_an_admin_and_sensible_parameters()
    {
        var anonymous = await Silo.Http.PostAsync("/api/expiry/run?as_of=2023-08-14&dry_run=true", null);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        foreach (var (query, parameter) in new[]
        {
            ("as_of=14.08.2023", "as_of"),
            ("as_of=2023-08-14&dry_run=maybe", "dry_run"),
            ($"as_of={Day(TodayUtc().AddDays(1))}", "as_of"),
        })
        {
            var (status, body) = await SendAsync(Silo, Admin(HttpMethod.Post, "/api/expiry/run?" + query));
            Assert.True(status == HttpStatusCode.BadRequest, $"{query}: {(int)status}");
            Assert.StartsWith(parameter + " ", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Looking ahead is what a dry run is for.
        var ahead = await RunAsync(Silo, Day(TodayUtc().AddDays(30)), dryRun: true);
        Assert.True(ahead.GetProperty("dry_run").GetBoolean());

        // Without as_of: today.
        var (todayStatus, today) = await SendAsync(Silo, Admin(HttpMethod.Post, "/api/expiry/run?dry_run=true"));
        Assert.Equal(HttpStatusCode.OK, todayStatus);
        Assert.Equal(Day(TodayUtc()), today.GetProperty("as_of").GetString());
    }

    /// <summary>The expiry rows of the outbox as "recipient alert_key".</summary>
    private async Task<List<string>> ExpiryOutboxAsync()
    {
        var (_, body) = await SendAsync(Silo, Admin(HttpMethod.Get, "/api/outbox?limit=500"));
        return [.. body.GetProperty("items").EnumerateArray()
            .Where(i => i.GetProperty("kind").GetString() == "expiry")
            .Select(i => $"{i.GetProperty("recipient").GetString()} {i.GetProperty("alert_key").GetString()}")];
    }
}
