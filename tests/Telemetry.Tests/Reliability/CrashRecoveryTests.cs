using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Npgsql;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Sentry;
using Xunit.Abstractions;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// The central invariant (docs/exactly-once.md): kill -9 a PostgreSQL-mode silo while pings are being
/// ingested, restart it, and every acknowledged ping is counted exactly once.
/// </summary>
[Collection("postgres")]
public sealed class CrashRecoveryTests(PostgresFixture pg, FauxqsFixture fauxqs, ITestOutputHelper output) : IClassFixture<FauxqsFixture>
{
    private const string BuildId = "20130814063812";

    /// <summary>Where the silos keep bodies: a directory (the default), an S3 bucket (fauxqs), or the PostgreSQL rows.</summary>
    public static TheoryData<string> BodyStores => new() { "filesystem", "s3", "database" };

    private string[] BodyStoreArgs(string kind, string bucket) => kind switch
    {
        "s3" => fauxqs.Server.S3SiloArgs(bucket),
        "database" => ["--Ingest:BodyStore:Kind=database"],
        _ => [],
    };

    [Theory]
    [MemberData(nameof(BodyStores))]
    public async Task Kill_dash_9_during_ingest_loses_nothing_acknowledged_and_counts_nothing_twice(string bodyStore)
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        string[] storeArgs = BodyStoreArgs(bodyStore, "crash-" + Guid.NewGuid().ToString("N")[..12]);
        int httpPort = TestPaths.FreePort(), siloPort = TestPaths.FreePort(), gatewayPort = TestPaths.FreePort();
        string baseUrl = $"http://127.0.0.1:{httpPort}";
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(10) };
        var acknowledged = new ConcurrentBag<string>();
        int failures = 0;

        var silo = StartSiloProcess(cs, httpPort, siloPort, gatewayPort, storeArgs);
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

            silo = StartSiloProcess(cs, httpPort, siloPort, gatewayPort, storeArgs);
            Assert.True(await SiloProcess.WaitReadyAsync(http, TimeSpan.FromSeconds(90)), "restarted silo did not become ready");
            await Task.Delay(TimeSpan.FromSeconds(3));
            stopLoad.Cancel();
            await Task.WhenAll(load);
            output.WriteLine($"acknowledged {acknowledged.Count}, failed or unanswered {failures}");

            var stored = await StoredAndAcknowledgedAsync(cs, acknowledged);
            Assert.Equal(bodyStore == "database" ? 0 : stored.Count, await CountBodiesElsewhereAsync(cs));

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

    private static SiloProcess StartSiloProcess(string cs, int httpPort, int siloPort, int gatewayPort, string[] storeArgs, string name = "crash-test") =>
        SiloProcess.Start(cs, httpPort, siloPort, gatewayPort, name, ["--Ingest:CheckpointSeconds=1", "--Ingest:PersistSeconds=1", .. storeArgs]);

    /// <summary>The docIds in the landing log, after checking that every acknowledged one is among them.</summary>
    private static async Task<HashSet<string>> StoredAndAcknowledgedAsync(string cs, IEnumerable<string> acknowledged)
    {
        var stored = await PostgresServer.LandedDocIdsAsync(cs);
        var lost = acknowledged.Where(d => !stored.Contains(d)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged pings are not in the landing log, e.g. {lost.FirstOrDefault()}");
        return stored;
    }

    /// <summary>Rows whose body is in the body store rather than in the row.</summary>
    private static async Task<long> CountBodiesElsewhereAsync(string cs)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM landing l JOIN landing_objects o USING (batch_id) WHERE l.body IS NULL", conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>
    /// Two silos land concurrently into one database and one S3 bucket; one is killed and never comes
    /// back. The other aggregates everything either acknowledged, reading the dead silo's batches
    /// (whose pushes died with it) from the object store, and counts nothing twice.
    /// </summary>
    [Fact]
    public async Task Two_silos_land_into_one_object_store_and_a_dead_silos_batches_are_aggregated_by_the_other()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        string[] storeArgs = BodyStoreArgs("s3", "two-" + Guid.NewGuid().ToString("N")[..12]);
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        int[] http = [TestPaths.FreePort(), TestPaths.FreePort()];
        var silos = new[]
        {
            StartSiloProcess(cs, http[0], TestPaths.FreePort(), TestPaths.FreePort(), storeArgs, "two-silos-a"),
            StartSiloProcess(cs, http[1], TestPaths.FreePort(), TestPaths.FreePort(), storeArgs, "two-silos-b"),
        };
        var clients = http.Select(p => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{p}"), Timeout = TimeSpan.FromSeconds(10) }).ToArray();
        try
        {
            foreach (var c in clients)
            {
                Assert.True(await SiloProcess.WaitReadyAsync(c, TimeSpan.FromSeconds(90)), "a silo did not become ready");
            }
            var acknowledged = new ConcurrentBag<string>();
            using var stopLoad = new CancellationTokenSource();
            // Twelve workers per silo; those of the killed silo stop at their first failure.
            var load = Enumerable.Range(0, 24).Select(worker => Task.Run(async () =>
            {
                var client = clients[worker % 2];
                for (int i = 0; !stopLoad.IsCancellationRequested; i++)
                {
                    string docId = $"two-{worker}-{i}-{Guid.NewGuid():N}";
                    try
                    {
                        using var content = new ByteArrayContent(body);
                        var r = await client.PostAsync($"/submit/telemetry/{docId}/idle-daily/Firefox/23.0.1/release/{BuildId}", content);
                        if (r.StatusCode == HttpStatusCode.OK)
                        {
                            acknowledged.Add(docId);
                        }
                    }
                    catch (Exception) when (worker % 2 == 0)
                    {
                        return; // silo A is gone
                    }
                    catch (Exception)
                    {
                        await Task.Delay(50);
                    }
                }
            })).ToArray();

            await TestPaths.EventuallyAsync(() => Task.FromResult(acknowledged.Count >= 400), TimeSpan.FromSeconds(60));
            await silos[0].KillAsync();
            output.WriteLine($"killed silo A after {acknowledged.Count} acknowledged pings");
            await Task.Delay(TimeSpan.FromSeconds(3));
            stopLoad.Cancel();
            await Task.WhenAll(load);

            var storedIds = await StoredAndAcknowledgedAsync(cs, acknowledged);
            long stored = await CountBodiesElsewhereAsync(cs);
            Assert.Equal(storedIds.Count, stored); // every body is in the object store
            long count = -1;
            bool settled = await TestPaths.EventuallyAsync(async () =>
            {
                var r = await clients[1].GetAsync("/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR");
                if (r.StatusCode != HttpStatusCode.OK)
                {
                    return false;
                }
                count = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
                return count == stored;
            }, TimeSpan.FromSeconds(150));
            output.WriteLine($"acknowledged {acknowledged.Count}, stored {stored}, aggregated by silo B {count}");
            Assert.True(settled, $"silo B's count {count} never matched the {stored} stored pings");
            await Task.Delay(TimeSpan.FromSeconds(4));
            var again = JsonDocument.Parse(await clients[1].GetStringAsync("/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR"))
                .RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
            Assert.Equal(stored, again);
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
            foreach (var s in silos)
            {
                await s.DisposeAsync();
            }
        }
    }
}
