using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Npgsql;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// The central invariant (docs/exactly-once.md): kill -9 a PostgreSQL-mode silo while pings are being
/// ingested, restart it, and every acknowledged ping is counted exactly once.
/// </summary>
[Collection("postgres")]
public sealed class CrashRecoveryTests(PostgresFixture pg, ITestOutputHelper output)
{
    private const string BuildId = "20130814063812";

    [Fact]
    public async Task Kill_dash_9_during_ingest_loses_nothing_acknowledged_and_counts_nothing_twice()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        int httpPort = TestPaths.FreePort(), siloPort = TestPaths.FreePort(), gatewayPort = TestPaths.FreePort();
        string baseUrl = $"http://127.0.0.1:{httpPort}";
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
        var acknowledged = new ConcurrentBag<string>();
        int failures = 0;

        var silo = StartSiloProcess(cs, httpPort, siloPort, gatewayPort);
        try
        {
            Assert.True(await SiloProcess.WaitReadyAsync(http, TimeSpan.FromSeconds(60)), "silo did not become ready");
            using var stopLoad = new CancellationTokenSource();
            var load = Enumerable.Range(0, 24).Select(worker => Task.Run(async () =>
            {
                for (int i = 0; !stopLoad.IsCancellationRequested; i++)
                {
                    string docId = $"crash-{worker}-{i}-{Guid.NewGuid():N}";
                    try
                    {
                        using var content = new ByteArrayContent(body);
                        var r = await http.PostAsync($"/submit/telemetry/{docId}/idle-daily/Firefox/23.0.1/release/{BuildId}", content);
                        if (r.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add(docId);
                        }
                        else
                        {
                            Interlocked.Increment(ref failures);
                        }
                    }
                    catch (Exception) when (!stopLoad.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref failures);
                        await Task.Delay(50);
                    }
                    catch (Exception)
                    {
                        return;
                    }
                }
            })).ToArray();

            // Kill while the load is well under way (a busy CI machine may be slow to get there).
            await TestPaths.EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 300), TimeSpan.FromSeconds(60));
            int beforeKill = acknowledged.Count;
            await silo.KillAsync(); // SIGKILL: no shutdown, no flush
            output.WriteLine($"killed the silo after {beforeKill} acknowledged pings");
            Assert.True(beforeKill > 50, $"too little load before the kill ({beforeKill})");

            silo = StartSiloProcess(cs, httpPort, siloPort, gatewayPort);
            Assert.True(await SiloProcess.WaitReadyAsync(http, TimeSpan.FromSeconds(90)), "restarted silo did not become ready");
            await Task.Delay(TimeSpan.FromSeconds(3));
            stopLoad.Cancel();
            await Task.WhenAll(load);
            output.WriteLine($"acknowledged {acknowledged.Count}, failed or unanswered {failures}");

            var stored = new HashSet<string>(StringComparer.Ordinal);
            await using (var conn = new NpgsqlConnection(cs))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT doc_id FROM landing", conn);
                await using var reader = await cmd.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    stored.Add(reader.GetString(0));
                }
            }
            var lost = acknowledged.Where(d => !stored.Contains(d)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged pings are not in the landing log, e.g. {lost.FirstOrDefault()}");

            // Every stored ping is counted exactly once: counts and sums match the landing log exactly.
            long count = -1, sum = -1;
            bool settled = await TestPaths.EventuallyAsync(async () =>
            {
                var r = await http.GetAsync($"/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR");
                if (r.StatusCode != HttpStatusCode.OK)
                {
                    output.WriteLine($"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                    return false;
                }
                var data = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
                count = data.EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
                sum = data.EnumerateArray().Sum(e => e.GetProperty("sum").GetInt64());
                return count == stored.Count;
            }, TimeSpan.FromSeconds(60));
            output.WriteLine($"stored {stored.Count}, aggregated count {count}");
            Assert.True(settled, $"aggregates count {count} never matched the {stored.Count} stored pings");
            Assert.Equal(13370L * stored.Count, sum);

            // And it stays exact: no late double application once recovery has finished.
            await Task.Delay(TimeSpan.FromSeconds(4));
            var again = JsonDocument.Parse(await http.GetStringAsync($"/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR"))
                .RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
            Assert.Equal(stored.Count, again);
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    private static SiloProcess StartSiloProcess(string cs, int httpPort, int siloPort, int gatewayPort) =>
        SiloProcess.Start(cs, httpPort, siloPort, gatewayPort, "crash-test", "--Ingest:CheckpointSeconds=1", "--Ingest:PersistSeconds=1");
}
