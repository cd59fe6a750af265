using System.Net;
using System.Text.Json;
using Npgsql;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

/// <summary>The silo in PostgreSQL mode: schema created on start, pings land durably and aggregate.</summary>
[Collection("postgres")]
public sealed class PostgresModeTests(PostgresFixture pg)
{
    [Fact]
    public async Task Silo_creates_its_schema_lands_pings_and_serves_aggregates()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs);
        var json = await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json"));
        var gz = SiloHost.Gzip(json);
        for (int i = 0; i < 20; i++)
        {
            var r = await silo.SubmitAsync($"pg-mode-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", gz);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        Assert.Equal("OK (duplicate)", await (await silo.SubmitAsync("pg-mode-3/idle-daily/Firefox/23.0.1/release/20130814063812", gz)).Content.ReadAsStringAsync());

        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM landing", conn);
            Assert.Equal(20L, (long)(await cmd.ExecuteScalarAsync())!);
        }

        string url = "/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR";
        long count = 0;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await silo.GetAsync(url);
            if (r.StatusCode != HttpStatusCode.OK) return false;
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            count = body.GetProperty("data")[0].GetProperty("count").GetInt64();
            return count == 20;
        }, TimeSpan.FromSeconds(10)), $"expected 20 pings aggregated, saw {count}");

        // The aggregates (by build id and by submission date) are stored in their own tables, header and parts.
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(DISTINCT s.id) FROM aggregate_states s JOIN aggregate_parts p ON p.aggregate_id = s.id WHERE s.grain LIKE 'aggregate/%'", conn);
            return (long)(await cmd.ExecuteScalarAsync())! >= 2;
        }, TimeSpan.FromSeconds(20)), "the aggregates were not stored in aggregate_states and aggregate_parts");
    }
}

/// <summary>Two silos starting at the same moment against an empty database both migrate it safely.</summary>
[Collection("postgres")]
public sealed class ConcurrentMigrationTests(PostgresFixture pg)
{
    [Fact]
    public async Task Concurrent_migrations_of_a_fresh_database_both_succeed_and_leave_one_schema()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        var logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Telemetry.Silo.Storage.SchemaMigrator.MigrateAsync(cs, logger))));
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FROM information_schema.tables
            WHERE table_schema = 'public' AND table_name IN ('landing', 'crash_aggregates', 'outbox', 'orleansquery', 'orleansstorage', 'orleansmembershiptable', 'orleansreminderstable', 'expiry_notices', 'expiry_runs', 'sentry_issues', 'sentry_issue_days', 'sentry_dead_letters', 'landing_objects', 'landing_store', 'aggregate_states', 'aggregate_parts')
            """, conn);
        Assert.Equal(16L, (long)(await cmd.ExecuteScalarAsync())!);
        await using var marks = new NpgsqlCommand("SELECT count(*) FROM telemetry_schema", conn);
        Assert.Equal(8L, (long)(await marks.ExecuteScalarAsync())!); // one mark per script, 001 to 008
        // One body store name space, however many migrations raced to create it.
        await using var ns = new NpgsqlCommand("SELECT count(*) FROM landing_store", conn);
        Assert.Equal(1L, (long)(await ns.ExecuteScalarAsync())!);
    }
}
