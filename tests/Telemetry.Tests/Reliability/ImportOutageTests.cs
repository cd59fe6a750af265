using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using Telemetry.Grains.Ingest;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Ingest;
using Xunit.Abstractions;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// PostgreSQL stops in the middle of a raw-log import. Every record read is accounted for
/// (imported, duplicate, rejected, not landed); an outage within the retry budget loses nothing;
/// one past it fails the job, names the records not landed, and importing the file again lands
/// exactly those. The class has its own server: stopping it disturbs no other test.
/// </summary>
public sealed class ImportOutageTests(PostgresFixture pg, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private const int Records = 3000;
    private const int MalformedEvery = 500; // records 250, 750, ... are not pings
    private const int Malformed = Records / MalformedEvery;
    private const int Valid = Records - Malformed;
    private const int StopAfterRows = 300;
    private const long CycleCollectorSumPerPing = 13370;
    private const string AggregatesUrl = "/aggregates_by/submission_date/channels/release/?version=23&dates=20130910&metric=CYCLE_COLLECTOR";

    [Fact]
    public async Task An_outage_past_the_retry_budget_fails_the_job_naming_the_records_not_landed_and_importing_again_lands_exactly_those()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs, "--Import:LandingRetrySeconds=5");
        var file = WriteRawLog("past-budget");
        try
        {
            // The first import goes through the CLI, which must report the failure in its exit code.
            using var cli = StartCli(file, silo);
            var stdout = cli.StandardOutput.ReadToEndAsync();
            var stderr = cli.StandardError.ReadToEndAsync();
            long before = await WaitForRowsAsync(cs, StopAfterRows);
            await pg.Server.StopAsync(immediate: true);
            output.WriteLine($"stopped PostgreSQL (immediate) with {before} rows landed");
            JsonElement first;
            try
            {
                using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
                {
                    await cli.WaitForExitAsync(timeout.Token);
                }
                output.WriteLine(await stdout);
                output.WriteLine(await stderr);
                Assert.Equal(1, cli.ExitCode);
                Assert.Matches(@"not_landed\s+[1-9]", await stdout);
                Assert.Contains($"of {Records} records were not landed", await stderr);

                // Polls are answered while PostgreSQL is still down.
                string jobId = Regex.Match(await stdout, @"job (import-[0-9a-f]+)").Groups[1].Value;
                first = await GetJobAsync(silo, jobId);
            }
            finally
            {
                await pg.Server.StartAgainAsync();
            }

            Assert.Equal("failed", first.GetProperty("state").GetString());
            var c1 = Counts(first);
            long notLanded = c1.GetValueOrDefault("not_landed");
            Assert.Equal(Records, c1["read"]);
            Assert.Equal(c1["read"], c1.GetValueOrDefault("imported") + c1.GetValueOrDefault("duplicate") + Rejected(c1) + notLanded);
            Assert.Equal(Malformed, Rejected(c1));
            Assert.Equal(0, c1.GetValueOrDefault("duplicate")); // a fresh database: nothing was stored before
            Assert.InRange(c1.GetValueOrDefault("imported"), 1, Valid - 1);
            Assert.InRange(notLanded, 1, Valid - 1);
            Assert.StartsWith($"{notLanded} of {Records} records were not landed (landing log unavailable: ", first.GetProperty("error").GetString());

            // Every record counted imported is stored. A commit whose answer was lost when the server
            // went down is stored too, though its record (then never retried successfully) counts as
            // not landed: the first job could not tell, the second one finds it as a duplicate.
            long rows1 = await CountRowsAsync(cs);
            long lostAnswers = rows1 - c1["imported"];
            output.WriteLine($"first import: {Format(c1)}; {rows1} rows stored, {lostAnswers} of them by commits whose answer was lost");
            Assert.InRange(lostAnswers, 0, notLanded);

            var second = await ImportAsync(silo, file);
            var c2 = Counts(second);
            output.WriteLine($"second import: {Format(c2)}");
            Assert.Equal("succeeded", second.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, second.GetProperty("error").ValueKind);
            Assert.Equal(Records, c2["read"]);
            Assert.Equal(notLanded - lostAnswers, c2.GetValueOrDefault("imported"));
            Assert.Equal(rows1, c2.GetValueOrDefault("duplicate"));
            Assert.Equal(Malformed, Rejected(c2));
            Assert.Equal(0, c2.GetValueOrDefault("not_landed"));
            Assert.Equal(Valid, await CountRowsAsync(cs));

            await AssertAggregatedOnceAsync(silo);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task An_outage_within_the_default_retry_budget_is_ridden_out_and_every_record_lands_once()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs);
        var file = WriteRawLog("within-budget");
        try
        {
            string jobId = await StartImportAsync(silo, file);
            long before = await WaitForRowsAsync(cs, StopAfterRows);
            var down = Stopwatch.StartNew();
            await pg.Server.StopAsync(immediate: false);
            output.WriteLine($"stopped PostgreSQL (fast) with {before} rows landed");
            string? retrying = null;
            try
            {
                // Down for a few seconds (a restart): the job shows it is waiting, not failing.
                while (down.Elapsed < TimeSpan.FromSeconds(6))
                {
                    var status = await GetJobAsync(silo, jobId);
                    Assert.Equal("running", status.GetProperty("state").GetString());
                    if (status.GetProperty("detail").GetString() is { } detail && detail.Contains("waiting to retry", StringComparison.Ordinal))
                    {
                        retrying = detail;
                    }
                    await Task.Delay(250);
                }
            }
            finally
            {
                await pg.Server.StartAgainAsync();
            }
            output.WriteLine($"PostgreSQL back after {down.Elapsed.TotalSeconds:0.0} s; the job said: {retrying}");
            Assert.NotNull(retrying);

            var status1 = await WaitJobAsync(silo, jobId);
            var c = Counts(status1);
            output.WriteLine($"import: {Format(c)}");
            Assert.Equal("succeeded", status1.GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Null, status1.GetProperty("error").ValueKind);
            Assert.Equal(Records, c["read"]);
            Assert.Equal(Valid, c.GetValueOrDefault("imported"));
            Assert.Equal(0, c.GetValueOrDefault("duplicate"));
            Assert.Equal(Malformed, Rejected(c));
            Assert.Equal(0, c.GetValueOrDefault("not_landed"));
            Assert.Equal(Valid, await CountRowsAsync(cs));

            await AssertAggregatedOnceAsync(silo);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A raw log of <see cref="Records"/> copies of the real ping under distinct docIds, some records not pings at all.</summary>
    private static string WriteRawLog(string name)
    {
        var ping = SiloHost.Gzip(File.ReadAllBytes(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        var notAPing = Encoding.UTF8.GetBytes("this is not a ping");
        var arrival = new DateTimeOffset(2013, 9, 10, 12, 0, 0, TimeSpan.Zero);
        string run = Guid.NewGuid().ToString("N")[..8];
        var file = Path.Combine(Path.GetTempPath(), $"import-outage-{name}-{run}.log");
        RawLogWriter.WriteFile(file, RawLogFormat.V1, Enumerable.Range(0, Records).Select(i => new RawLogRecord(
            $"{name}-{run}-{i:D5}/idle-daily/Firefox/23.0.1/release/20130814063812",
            arrival.AddMilliseconds(i),
            null,
            i % MalformedEvery == MalformedEvery / 2 ? notAPing : ping,
            0)));
        return file;
    }

    private static Process StartCli(string file, SiloHost silo)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dll = Path.Combine(TestPaths.RepoRoot, "silo", "bin", configuration, "net10.0", "Telemetry.Silo.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { dll, "import-raw-log", file, "--url", silo.BaseUrl, "--token", SiloHost.AdminToken })
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    private static async Task<string> StartImportAsync(SiloHost silo, string file)
    {
        await using var body = File.OpenRead(file);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/import/raw-log") { Content = new StreamContent(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        var response = await silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("jobId").GetString()!;
    }

    private static async Task<JsonElement> ImportAsync(SiloHost silo, string file) => await WaitJobAsync(silo, await StartImportAsync(silo, file));

    private static async Task<JsonElement> GetJobAsync(SiloHost silo, string jobId)
    {
        var response = await silo.GetAsync($"/api/jobs/{jobId}", SiloHost.AdminToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private static async Task<JsonElement> WaitJobAsync(SiloHost silo, string jobId)
    {
        JsonElement status = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            status = await GetJobAsync(silo, jobId);
            return status.GetProperty("state").GetString() != "running";
        }, TimeSpan.FromMinutes(3)), "the import did not finish");
        return status;
    }

    private static Dictionary<string, long> Counts(JsonElement status) =>
        status.GetProperty("counts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());

    private static long Rejected(Dictionary<string, long> counts) =>
        counts.Where(kv => kv.Key.StartsWith("rejected_", StringComparison.Ordinal)).Sum(kv => kv.Value);

    private static string Format(Dictionary<string, long> counts) => string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>Waits until at least <paramref name="rows"/> rows have landed; returns how many there were.</summary>
    private static async Task<long> WaitForRowsAsync(string cs, long rows)
    {
        long seen = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            seen = await CountRowsAsync(cs);
            if (seen >= rows)
            {
                Assert.True(seen < Valid, $"the import was over ({seen} rows) before PostgreSQL could be stopped in its middle");
                return seen;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"only {seen} rows landed in 90 s");
    }

    private static async Task<long> CountRowsAsync(string cs)
    {
        // No pooling: a pooled connection would not survive the server's restart.
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM landing", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The aggregates count each landed ping exactly once, and stay so.</summary>
    private async Task AssertAggregatedOnceAsync(SiloHost silo)
    {
        long count = -1, sum = -1;
        async Task<bool> Matches()
        {
            var r = await silo.GetAsync(AggregatesUrl);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }
            var data = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
            count = data.EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
            sum = data.EnumerateArray().Sum(e => e.GetProperty("sum").GetInt64());
            return count == Valid;
        }
        bool settled = await TestPaths.EventuallyAsync(Matches, TimeSpan.FromSeconds(90));
        output.WriteLine($"aggregated count {count}, sum {sum}");
        Assert.True(settled, $"aggregates count {count} never matched the {Valid} landed pings");
        Assert.Equal(CycleCollectorSumPerPing * Valid, sum);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.True(await Matches(), $"aggregates count moved to {count} after matching");
    }
}
