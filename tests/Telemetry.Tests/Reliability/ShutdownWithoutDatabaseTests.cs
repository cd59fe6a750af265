using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// Container platforms send SIGTERM and kill 30 s later. With PostgreSQL gone the silo must still
/// end within that, and after both come back every acknowledged ping is counted exactly once.
/// </summary>
[Collection("postgres")]
public sealed class ShutdownWithoutDatabaseTests(ITestOutputHelper output)
{
    private const string BuildId = "20130814063812";
    private const string Query = "/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR";
    private const int Pings = 40;

    [Fact]
    public async Task Sigterm_with_postgres_stopped_ends_the_silo_within_30_s_and_loses_or_doubles_nothing()
    {
        // A server of its own: this test stops it.
        await using var server = await PostgresServer.StartAsync();
        var cs = await server.CreateDatabaseAsync();
        int httpPort = TestPaths.FreePort(), siloPort = TestPaths.FreePort(), gatewayPort = TestPaths.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(10) };
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        // Aggregates persist every 30 s (the default): when the database goes, none of these pings is in
        // persisted grain state, so the restart must rebuild them from the landing log, each once.
        string[] args = ["--Ingest:CheckpointSeconds=1", "--Ingest:PersistSeconds=30"];

        var silo = SiloProcess.Start(cs, httpPort, siloPort, gatewayPort, "shutdown-test", args);
        try
        {
            Assert.True(await SiloProcess.WaitReadyAsync(http, TimeSpan.FromSeconds(60)), "silo did not become ready");
            var acknowledged = new List<string>();
            for (int i = 0; i < Pings; i++)
            {
                string docId = $"shutdown-{i}-{Guid.NewGuid():N}";
                var r = await http.PostAsync($"/submit/telemetry/{docId}/idle-daily/Firefox/23.0.1/release/{BuildId}", new ByteArrayContent(body));
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                acknowledged.Add(docId);
            }
            Assert.True(await TestPaths.EventuallyAsync(async () => await AggregatedCountAsync(http) == Pings, TimeSpan.FromSeconds(30)),
                "the acknowledged pings never became visible");

            await server.StopAsync();
            var clock = Stopwatch.StartNew();
            await silo.TerminateAsync();
            bool exited = await silo.WaitForExitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"silo exited {(exited ? $"with code {silo.ExitCode}" : "not at all")} {clock.Elapsed.TotalSeconds:0.0} s after SIGTERM");
            Assert.True(exited, $"the silo was still running 30 s after SIGTERM with PostgreSQL stopped (log: {silo.LogFile})");

            await server.StartAgainAsync();
            await silo.DisposeAsync();
            silo = SiloProcess.Start(cs, httpPort, siloPort, gatewayPort, "shutdown-test", args);
            Assert.True(await SiloProcess.WaitReadyAsync(http, TimeSpan.FromSeconds(90)), "restarted silo did not become ready");

            var stored = await PostgresServer.LandedDocIdsAsync(cs);
            Assert.Equal(acknowledged.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));

            long count = -1;
            bool settled = await TestPaths.EventuallyAsync(async () => (count = await AggregatedCountAsync(http)) == Pings, TimeSpan.FromSeconds(60));
            Assert.True(settled, $"after the restart the aggregates count {count} pings, not the {Pings} acknowledged");
            // Still exact once recovery has re-read the log: nothing applied twice late.
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.Equal(Pings, await AggregatedCountAsync(http));
        }
        finally
        {
            await silo.DisposeAsync();
        }
    }

    private static async Task<long> AggregatedCountAsync(HttpClient http)
    {
        try
        {
            var r = await http.GetAsync(Query);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                return -1;
            }
            var data = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
            return data.EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
        }
        catch (HttpRequestException)
        {
            return -1;
        }
        catch (TaskCanceledException)
        {
            return -1;
        }
    }
}
