using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Contracts.Ingest;
using Telemetry.Silo.Ingest;
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

    private static readonly string Today = DateTime.UtcNow.ToString("yyyy-MM-dd");
    private static string BySubmission => $"/aggregates_by/submission_date/channels/release/?version=23&dates={DateTime.UtcNow:yyyyMMdd}&metric=CYCLE_COLLECTOR";
    private const string ByBuild = "/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=SIMPLE_MEASURES_UPTIME";

    private static async Task SubmitAsync(SiloHost silo, string prefix, int from, int to)
    {
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        for (int i = from; i < to; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{prefix}-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", body)).StatusCode);
        }
    }

    private static async Task AssertCountedOnceAsync(SiloHost silo, long expected)
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(p => silo.Grains.GetGrain<IPartitionGrain>(p).CatchUp()));
        Assert.Equal(expected, await CountAsync(silo, BySubmission));
        Assert.Equal(expected, await CountAsync(silo, ByBuild));
    }

    private static async Task<HttpResponseMessage> PostReprocessAsync(SiloHost silo)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/reprocess") { Content = JsonContent.Create(new { from = Today, to = Today }) };
        request.Headers.Authorization = new("Bearer", SiloHost.AdminToken);
        return await silo.Http.SendAsync(request);
    }

    [Fact]
    public async Task A_job_that_outlives_its_lease_keeps_the_pause_by_renewing_it_and_counts_stay_exact()
    {
        // Lease 2 s (renewed every 0.5 s); the job spends 6 s before replacing, while pings keep arriving.
        await using var silo = await SiloHost.StartAsync(null, "--Ingest:ReprocessLeaseSeconds=2");
        await SubmitAsync(silo, "lease", 0, 20);
        await AssertCountedOnceAsync(silo, 20);
        var jobs = silo.Services.GetRequiredService<ReprocessJobs>();
        var pausedDuringJob = new List<string?>();
        jobs.BeforeReplace = async id =>
        {
            await SubmitAsync(silo, "lease", 20, 30);
            await Task.Delay(TimeSpan.FromSeconds(6));
            pausedDuringJob.AddRange((await Task.WhenAll(Enumerable.Range(0, 8).Select(p => silo.Grains.GetGrain<IPartitionGrain>(p).GetStatus()))).Select(s => s.PausedBy));
        };

        var job = await silo.ReprocessAsync(Today, Today, TimeSpan.FromSeconds(60));

        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        string id = job.GetProperty("id").GetString()!;
        Assert.Equal(Enumerable.Repeat<string?>(id, 8), pausedDuringJob);
        Assert.Equal(20, job.GetProperty("counts").GetProperty("rows").GetInt64());
        await AssertCountedOnceAsync(silo, 30);
    }

    [Fact]
    public async Task A_job_whose_pause_lapsed_replaces_nothing_and_counts_stay_exact()
    {
        await using var silo = await SiloHost.StartAsync();
        await SubmitAsync(silo, "lapse", 0, 20);
        await AssertCountedOnceAsync(silo, 20);
        var jobs = silo.Services.GetRequiredService<ReprocessJobs>();
        jobs.BeforeReplace = async id =>
        {
            // What a lapsed lease does: partition 0 stops waiting for the job and goes on applying and checkpointing.
            var partition = silo.Grains.GetGrain<IPartitionGrain>(0);
            await partition.Resume(id);
            await SubmitAsync(silo, "lapse", 20, 40);
            await partition.CatchUp();
        };

        var job = await silo.ReprocessAsync(Today, Today, TimeSpan.FromSeconds(60));

        Assert.Equal("failed", job.GetProperty("state").GetString());
        Assert.Contains("nothing was replaced", job.GetProperty("error").GetString());
        Assert.False(job.GetProperty("counts").TryGetProperty("aggregates_replaced", out _));
        await AssertCountedOnceAsync(silo, 40);
    }

    [Fact]
    public async Task Two_jobs_requested_at_once_run_one_at_a_time()
    {
        await using var silo = await SiloHost.StartAsync();
        await SubmitAsync(silo, "twice", 0, 10);
        await AssertCountedOnceAsync(silo, 10);
        var release = new TaskCompletionSource();
        silo.Services.GetRequiredService<ReprocessJobs>().BeforeReplace = _ => release.Task;

        var answers = await Task.WhenAll(PostReprocessAsync(silo), PostReprocessAsync(silo));

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var accepted = JsonDocument.Parse(await answers.Single(a => a.StatusCode == HttpStatusCode.Accepted).Content.ReadAsStringAsync()).RootElement;
        var refused = JsonDocument.Parse(await answers.Single(a => a.StatusCode == HttpStatusCode.Conflict).Content.ReadAsStringAsync()).RootElement;
        string running = accepted.GetProperty("jobId").GetString()!;
        Assert.Equal(running, refused.GetProperty("running_job").GetString());
        Assert.Contains(running, refused.GetProperty("detail").GetString());

        release.SetResult();
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await silo.GetAsync($"/api/jobs/{running}", SiloHost.AdminToken);
            return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(60)));
        // The slot is free again.
        var next = await silo.ReprocessAsync(Today, Today, TimeSpan.FromSeconds(60));
        Assert.Equal("succeeded", next.GetProperty("state").GetString());
        await AssertCountedOnceAsync(silo, 10);
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
