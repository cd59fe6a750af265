using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

/// <summary>Reprocessing a date range rebuilds aggregates from the raw rows: same numbers, idempotent, ingest goes on.</summary>
public sealed class ReprocessTests
{
    [Fact]
    public async Task Reprocessing_today_twice_gives_identical_aggregates_and_ingest_continues()
    {
        await using var silo = await SiloHost.StartAsync(null, "--Aggregates:RestrictedChannels:0=");
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"reproc-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", body)).StatusCode);
        }
        string today = DateTime.UtcNow.ToString("yyyyMMdd");
        string bySubmission = $"/aggregates_by/submission_date/channels/release/?version=23&dates={today}&metric=CYCLE_COLLECTOR";
        string byBuild = "/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=SIMPLE_MEASURES_UPTIME";
        Assert.True(await TestPaths.EventuallyAsync(async () => await CountAsync(silo, bySubmission) == 30, TimeSpan.FromSeconds(10)));
        string before = await DataAsync(silo, bySubmission) + await DataAsync(silo, byBuild);

        for (int run = 0; run < 2; run++)
        {
            var job = await silo.ReprocessAsync(DateTime.UtcNow.ToString("yyyy-MM-dd"), DateTime.UtcNow.ToString("yyyy-MM-dd"), TimeSpan.FromSeconds(60));
            Assert.Equal("succeeded", job.GetProperty("state").GetString());
            Assert.Equal(30, job.GetProperty("counts").GetProperty("rows").GetInt64());
            Assert.Equal(before, await DataAsync(silo, bySubmission) + await DataAsync(silo, byBuild));
        }

        // Partitions resumed: new pings are counted once, old ones not again.
        for (int i = 30; i < 35; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"reproc-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", body)).StatusCode);
        }
        Assert.True(await TestPaths.EventuallyAsync(async () => await CountAsync(silo, bySubmission) == 35, TimeSpan.FromSeconds(15)));
        await Task.Delay(2500);
        Assert.Equal(35, await CountAsync(silo, bySubmission));
        Assert.Equal(35, await CountAsync(silo, byBuild));
    }

    [Fact]
    public async Task Reprocess_requires_the_admin_token_and_a_valid_range()
    {
        await using var silo = await SiloHost.StartAsync();
        var anonymous = await silo.Http.PostAsJsonAsync("/api/reprocess", new { from = "2026-01-01", to = "2026-01-02" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/reprocess") { Content = JsonContent.Create(new { from = "2026-01-01", to = "2026-01-02" }) };
        wrong.Headers.Authorization = new("Bearer", "not-the-token");
        Assert.Equal(HttpStatusCode.Forbidden, (await silo.Http.SendAsync(wrong)).StatusCode);
        var backwards = new HttpRequestMessage(HttpMethod.Post, "/api/reprocess") { Content = JsonContent.Create(new { from = "2026-01-05", to = "2026-01-02" }) };
        backwards.Headers.Authorization = new("Bearer", SiloHost.AdminToken);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.SendAsync(backwards)).StatusCode);
    }

    private static async Task<long> CountAsync(SiloHost silo, string url)
    {
        var r = await silo.GetAsync(url);
        if (r.StatusCode != HttpStatusCode.OK) return -1;
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
    }

    private static async Task<string> DataAsync(SiloHost silo, string url)
    {
        var r = await silo.GetAsync(url);
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data").GetRawText();
    }
}
