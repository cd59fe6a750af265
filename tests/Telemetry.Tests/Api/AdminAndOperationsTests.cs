using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

public sealed class SiloFixture : IAsyncLifetime
{
    public SiloHost Silo { get; private set; } = null!;
    public async Task InitializeAsync() => Silo = await SiloHost.StartAsync(null, "--Aggregates:RestrictedChannels:0=");
    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>Admin API (probes, raw-log import), health, metrics, OpenAPI and the dashboard on a real embedded silo.</summary>
public sealed class AdminAndOperationsTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private SiloHost Silo => fixture.Silo;

    private HttpRequestMessage Admin(HttpMethod method, string url, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        return request;
    }

    [Fact]
    public async Task Admin_routes_answer_401_without_and_403_with_a_wrong_token()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Silo.Http.GetAsync("/api/probes/revisions")).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/probes/revisions");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        Assert.Equal(HttpStatusCode.Forbidden, (await Silo.Http.SendAsync(wrong)).StatusCode);
    }

    [Fact]
    public async Task Seed_revisions_are_loaded_and_definitions_have_their_buckets()
    {
        var list = JsonDocument.Parse(await (await Silo.Http.SendAsync(Admin(HttpMethod.Get, "/api/probes/revisions"))).Content.ReadAsStringAsync()).RootElement;
        var names = list.EnumerateArray().Select(r => r.GetProperty("revision").GetString()).ToList();
        Assert.Contains("a55c55edf302", names);
        Assert.Contains("8d3810543edc", names);
        Assert.Contains("modern-sample", names);
        var def = JsonDocument.Parse(await (await Silo.Http.SendAsync(Admin(HttpMethod.Get, "/api/probes/revisions/a55c55edf302/histograms/A11Y_UPDATE_TIME"))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("exponential", def.GetProperty("kind").GetString());
        var buckets = def.GetProperty("buckets").EnumerateArray().Select(b => b.GetInt64()).ToArray();
        Assert.Equal(50, buckets.Length);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20 }, buckets[..14]);
        Assert.Equal(10000, buckets[^1]);
        Assert.Equal(HttpStatusCode.NotFound, (await Silo.Http.SendAsync(Admin(HttpMethod.Get, "/api/probes/revisions/a55c55edf302/histograms/NO_SUCH"))).StatusCode);
    }

    [Fact]
    public async Task Uploading_a_revision_reports_bad_definitions_by_name_and_a_channel_can_point_at_it()
    {
        const string doc = """
            {"GOOD_ONE": {"kind": "linear", "high": "80 + 20", "n_buckets": 10, "description": "d"},
             "BROKEN_ONE": {"kind": "nonsense", "description": "x"},
             "CPP_CONSTANT": {"kind": "enumerated", "n_values": "JS::gcreason::NUM_TELEMETRY_REASONS", "description": "c"}}
            """;
        var put = await Silo.Http.SendAsync(Admin(HttpMethod.Put, "/api/probes/revisions/test-rev-1/histograms", new StringContent(doc, Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var result = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(2, result.GetProperty("loaded").GetInt32());
        var error = Assert.Single(result.GetProperty("errors").EnumerateArray());
        Assert.Equal("BROKEN_ONE", error.GetProperty("name").GetString());

        var def = JsonDocument.Parse(await (await Silo.Http.SendAsync(Admin(HttpMethod.Get, "/api/probes/revisions/test-rev-1/histograms/GOOD_ONE"))).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(new long[] { 0, 1, 13, 26, 38, 51, 63, 75, 88, 100 }, def.GetProperty("buckets").EnumerateArray().Select(b => b.GetInt64()).ToArray());

        var notJson = await Silo.Http.SendAsync(Admin(HttpMethod.Put, "/api/probes/revisions/test-rev-2/histograms", new StringContent("[1,2]")));
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);

        var map = await Silo.Http.SendAsync(Admin(HttpMethod.Put, "/api/probes/channels/aurora", new StringContent("""{"revision":"test-rev-1"}""", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.NoContent, map.StatusCode);
        var unknown = await Silo.Http.SendAsync(Admin(HttpMethod.Put, "/api/probes/channels/aurora", new StringContent("""{"revision":"nope"}""", Encoding.UTF8, "application/json")));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var list = await (await Silo.Http.SendAsync(Admin(HttpMethod.Get, "/api/probes/revisions"))).Content.ReadAsStringAsync();
        var rev = JsonDocument.Parse(list).RootElement.EnumerateArray().Single(r => r.GetProperty("revision").GetString() == "test-rev-1");
        Assert.Contains("aurora", rev.GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
    }

    [Fact]
    public async Task Importing_the_real_raw_log_lands_its_ping_once_with_the_record_date()
    {
        var file = await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "telemetry1.log"));
        for (int run = 0; run < 2; run++)
        {
            var response = await Silo.Http.SendAsync(Admin(HttpMethod.Post, "/api/import/raw-log", new ByteArrayContent(file)));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("jobId").GetString();
            JsonElement status = default;
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                status = JsonDocument.Parse(await (await Silo.Http.SendAsync(Admin(HttpMethod.Get, $"/api/jobs/{id}"))).Content.ReadAsStringAsync()).RootElement;
                return status.GetProperty("state").GetString() != "running";
            }, TimeSpan.FromSeconds(30)));
            Assert.Equal("succeeded", status.GetProperty("state").GetString());
            var counts = status.GetProperty("counts");
            Assert.Equal(1, counts.GetProperty("read").GetInt64());
            // The CLI test may have imported the same file first: the second run here is a duplicate in any case.
            var outcome = counts.EnumerateObject().Single(p => p.Name is "imported" or "duplicate").Name;
            if (run == 1)
            {
                Assert.Equal("duplicate", outcome);
            }
        }
        // The record arrived on 2013-09-10: that is its submission date.
        var url = "/aggregates_by/submission_date/channels/release/?version=23&dates=20130910&metric=CYCLE_COLLECTOR";
        long count = 0;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await Silo.GetAsync(url);
            if (r.StatusCode != HttpStatusCode.OK) return false;
            count = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data")[0].GetProperty("count").GetInt64();
            return true;
        }, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task Cli_import_shows_progress_and_final_counts()
    {
        string configuration = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
        string dll = Path.Combine(TestPaths.RepoRoot, "silo", "bin", configuration, "net10.0", "Telemetry.Silo.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "import-raw-log", TestPaths.SharedData("pings", "telemetry1.log"), "--url", Silo.BaseUrl, "--token", SiloHost.AdminToken })
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi)!;
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("100%", stdout);
        Assert.Matches(@"read\s+1", stdout);
    }

    [Fact]
    public async Task Health_metrics_openapi_and_dashboard_are_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await Silo.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Silo.Http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync("m-1/main/Firefox/1/nightly", [1])).StatusCode);
        string metrics = "";
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            metrics = await Silo.Http.GetStringAsync("/metrics");
            return metrics.Contains("telemetry_ingest_rejected") && metrics.Contains("reason=\"bad_path\"");
        }, TimeSpan.FromSeconds(10)), metrics.Length > 2000 ? metrics[..2000] : metrics);
        Assert.True(await TestPaths.EventuallyAsync(async () => (await Silo.Http.GetStringAsync("/metrics")).Contains("telemetry_aggregation_lag_seconds"), TimeSpan.FromSeconds(15)));
        var openapi = JsonDocument.Parse(await Silo.Http.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = openapi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(paths, p => p.StartsWith("/submit/telemetry/", StringComparison.Ordinal));
        Assert.Contains("/aggregates_by/{prefix}/channels/{channel}", paths);
        Assert.Contains("/api/probes/revisions", paths);
        var dashboard = await Silo.Http.GetAsync("/dashboard/");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("html", (await dashboard.Content.ReadAsStringAsync()).ToLowerInvariant());
    }
}
