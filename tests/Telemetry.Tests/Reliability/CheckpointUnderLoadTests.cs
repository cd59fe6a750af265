using System.Net;
using System.Text.Json;
using Telemetry.Contracts.Ingest;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Ingest;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// Checkpoints at the settings users run (PersistSeconds 30, CheckpointSeconds 5) under sustained
/// load while new aggregates keep activating: a new build date every 2 seconds, as in production where
/// build dates, submission dates, channels and versions appear all the time.
/// </summary>
[Collection("postgres")]
public sealed class CheckpointUnderLoadTests(PostgresFixture postgres)
{
    private const int PersistSeconds = 30;
    private const int CheckpointSeconds = 5;
    private static readonly string[] DefaultIntervals = [$"--Ingest:PersistSeconds={PersistSeconds}", $"--Ingest:CheckpointSeconds={CheckpointSeconds}"];

    [Fact]
    public async Task Checkpoints_keep_moving_and_every_ping_is_counted_once_at_the_default_intervals()
    {
        var cs = await postgres.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs, DefaultIntervals);
        var partitions = Enumerable.Range(0, 8).Select(p => silo.Grains.GetGrain<IPartitionGrain>(p)).ToArray();
        var body = SiloHost.Gzip(IngestTestData.RealPing);
        var firstBuild = new DateOnly(2013, 8, 1);
        var load = TimeSpan.FromSeconds(95);
        var started = DateTime.UtcNow;
        long accepted = 0;
        var buildDates = new System.Collections.Concurrent.ConcurrentDictionary<string, bool>();

        async Task SubmitLoop()
        {
            while (DateTime.UtcNow - started < load)
            {
                var build = firstBuild.AddDays((int)((DateTime.UtcNow - started).TotalSeconds / 2));
                string buildId = build.ToString("yyyyMMdd") + "063812";
                var r = await silo.SubmitAsync($"{Guid.NewGuid()}/idle-daily/Firefox/23.0.1/release/{buildId}", body);
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                Interlocked.Increment(ref accepted);
                buildDates.TryAdd(build.ToString("yyyyMMdd"), true);
                await Task.Delay(50);
            }
        }

        var submitters = Enumerable.Range(0, 4).Select(_ => SubmitLoop()).ToList();
        // Watch the partitions like the metrics endpoint does: once the first aggregates have had
        // time for their first writes, no partition may trail its applied batches for long.
        double worstAge = 0;
        var lastMoved = new DateTime[8];
        var lastCheckpoint = new long[8];
        var longestStill = TimeSpan.Zero;
        while (submitters.Any(t => !t.IsCompleted))
        {
            await Task.Delay(1000);
            var statuses = await Task.WhenAll(partitions.Select(p => p.GetStatus()));
            var now = DateTime.UtcNow;
            foreach (var s in statuses)
            {
                if (s.Checkpoint != lastCheckpoint[s.Partition])
                {
                    if (lastMoved[s.Partition] != default)
                    {
                        longestStill = TimeSpan.FromTicks(Math.Max(longestStill.Ticks, (now - lastMoved[s.Partition]).Ticks));
                    }
                    lastCheckpoint[s.Partition] = s.Checkpoint;
                    lastMoved[s.Partition] = now;
                }
                if (now - started > TimeSpan.FromSeconds(PersistSeconds + 2 * CheckpointSeconds))
                {
                    worstAge = Math.Max(worstAge, s.CheckpointAgeSeconds);
                }
            }
        }
        await Task.WhenAll(submitters);

        // Persist interval + one checkpoint round + the poll period, with slack for a busy machine.
        const double bound = PersistSeconds + 2 * CheckpointSeconds + 10;
        Assert.True(worstAge <= bound, $"a partition's checkpoint trailed its applied batches by {worstAge:0} s (bound {bound} s)");
        Assert.True(longestStill.TotalSeconds <= bound, $"a partition checkpoint stood still for {longestStill.TotalSeconds:0} s under load");
        Assert.True(buildDates.Count >= 40, $"only {buildDates.Count} build dates");

        // Every acknowledged ping is counted once.
        await Task.WhenAll(partitions.Select(p => p.CatchUp()));
        string dates = string.Join(",", buildDates.Keys.Order());
        var response = await silo.GetAsync($"/aggregates_by/build_id/channels/release/?version=23&dates={dates}&metric=SIMPLE_MEASURES_UPTIME");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(accepted, doc.RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64()));

        var ready = await silo.Http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", health.RootElement.GetProperty("checks").GetProperty("checkpoints").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_transaction_held_open_elsewhere_stalls_checkpoints_turns_ready_degraded_and_shows_in_metrics()
    {
        // The README's "long transactions" case: an idle session that took a transaction id holds the
        // settled horizon, so checkpoints cannot pass it while pings keep being applied.
        var cs = await postgres.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs, "--Ingest:CheckpointAgeLimitSeconds=10");
        var body = SiloHost.Gzip(IngestTestData.RealPing);
        Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/{IngestTestData.RealPingPathRest}", body)).StatusCode);
        await using var idle = new Npgsql.NpgsqlConnection(cs);
        await idle.OpenAsync();
        await using var tx = await idle.BeginTransactionAsync();
        await using (var take = new Npgsql.NpgsqlCommand("SELECT txid_current()", idle, tx))
        {
            await take.ExecuteScalarAsync();
        }

        string said = "";
        bool degraded = await TestPaths.EventuallyAsync(async () =>
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/{IngestTestData.RealPingPathRest}", body)).StatusCode);
            var ready = await silo.Http.GetAsync("/health/ready");
            said = await ready.Content.ReadAsStringAsync();
            await Task.Delay(400);
            return ready.StatusCode == HttpStatusCode.OK && said.Contains("\"status\":\"Degraded\"");
        }, TimeSpan.FromSeconds(60));
        Assert.True(degraded, "ready never reported Degraded: " + said);
        Assert.Contains("have not checkpointed for over 10 s", said);
        var metrics = await silo.Http.GetStringAsync("/metrics");
        var age = metrics.Split('\n').Where(l => l.StartsWith("telemetry_partition_checkpoint_age_seconds{", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(8, age.Count);
        Assert.Contains(age, a => a > 10);

        // The session ends: checkpoints catch up and ready is healthy again.
        await tx.RollbackAsync();
        bool healthy = await TestPaths.EventuallyAsync(async () =>
        {
            var ready = await silo.Http.GetAsync("/health/ready");
            said = await ready.Content.ReadAsStringAsync();
            return said.Contains("\"status\":\"Healthy\"");
        }, TimeSpan.FromSeconds(30));
        Assert.True(healthy, "ready did not recover: " + said);
    }
}
