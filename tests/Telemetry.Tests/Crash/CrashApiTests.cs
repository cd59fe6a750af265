using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Crash;

/// <summary>
/// Crash aggregation through a real PostgreSQL-mode silo: the worked example  in the API,
/// in the crash_aggregates table (with the README's SQL), as rates, and byte-identical after reprocessing.
/// </summary>
[Collection("postgres")]
public sealed class CrashApiTests(PostgresFixture pg)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    [Fact]
    public async Task Worked_example_reaches_the_api_the_sql_table_and_the_rates_and_survives_reprocessing()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await using var silo = await SiloHost.StartAsync(cs, "--Crash:ProjectionSeconds=1", "--Aggregates:RestrictedChannels:0=");
        string activity = Today.AddDays(-2).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var main = new CrashPingModel
        {
            DocType = "main", Type = "main", SubsessionLength = 42L, DateText = activity + "T00:00:00.0+01:00",
            CrashesWithDump = new()
            {
                ["content"] = new() { ["0"] = 42 },
                ["plugin"] = new() { ["0"] = 42 },
                ["gmplugin"] = new() { ["0"] = 42 },
            },
        };
        var crash = main with { DocType = "crash", Type = "crash", DateText = activity };
        var noLength = main with { SubsessionLength = "forty-two" };
        Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/main/Firefox/47.0a1/nightly/20160302030405", main.ToJson())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/crash/Firefox/47.0a1/nightly/20160302030405", crash.ToJson())).StatusCode);
        // A main ping without an integer subsessionLength is still stored, but not crash-aggregated.
        Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/main/Firefox/47.0a1/nightly/20160302030405", noLength.ToJson())).StatusCode);

        string today = Today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        JsonElement row = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var body = JsonDocument.Parse(await silo.Http.GetStringAsync($"/api/crash-aggregates?submission_date={today}&channel=nightly")).RootElement;
            var rows = body.GetProperty("rows");
            if (rows.GetArrayLength() != 1) return false;
            row = rows[0];
            return row.GetProperty("stats").GetProperty("main_crashes").GetDouble() == 1;
        }, TimeSpan.FromSeconds(10)), "the worked example never showed up as one row");
        Assert.Equal(activity, row.GetProperty("activity_date").GetString());
        var stats = row.GetProperty("stats");
        Assert.Equal(1, stats.GetProperty("ping_count").GetDouble());
        Assert.Equal(42.0 / 3600, stats.GetProperty("usage_hours").GetDouble(), 12);
        Assert.Equal((42.0 / 3600) * (42.0 / 3600), stats.GetProperty("usage_hours_squared").GetDouble(), 15);
        Assert.Equal(42, stats.GetProperty("content_crashes").GetDouble());
        Assert.Equal(1764, stats.GetProperty("content_crashes_squared").GetDouble());
        Assert.Equal(42, stats.GetProperty("plugin_crashes").GetDouble());
        Assert.Equal(42, stats.GetProperty("gmplugin_crashes").GetDouble());
        Assert.Equal(0, stats.GetProperty("gpu_crashes").GetDouble());
        var dims = row.GetProperty("dimensions");
        Assert.Equal("nightly", dims.GetProperty("channel").GetString());
        Assert.Equal("47.0a1", dims.GetProperty("build_version").GetString());
        Assert.Equal("??", dims.GetProperty("country").GetString());
        Assert.Equal("True", dims.GetProperty("e10s_enabled").GetString());

        // The README's SQL example against the projected table.
        double? sqlRate = null;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT sum((stats->>'main_crashes')::float) / sum((stats->>'usage_hours')::float)
                FROM crash_aggregates WHERE dimensions->>'channel' = 'nightly' AND submission_date = @d
                """, conn);
            cmd.Parameters.AddWithValue("d", Today);
            var value = await cmd.ExecuteScalarAsync();
            sqlRate = value is double d ? d : null;
            return sqlRate is not null;
        }, TimeSpan.FromSeconds(15)), "crash_aggregates was never written");
        Assert.Equal(3600.0 / 42, sqlRate!.Value, 9);

        var rates = JsonDocument.Parse(await silo.Http.GetStringAsync(
            $"/api/crash-rates?channel=nightly&from={Today.AddDays(-7):yyyy-MM-dd}&to={today}&group_by=build_version")).RootElement.GetProperty("rows");
        var rate = Assert.Single(rates.EnumerateArray());
        Assert.Equal(activity, rate.GetProperty("date").GetString());
        Assert.Equal("47.0a1", rate.GetProperty("group").GetProperty("build_version").GetString());
        Assert.Equal(1000 * 3600.0 / 42, rate.GetProperty("main_crash_rate").GetDouble(), 6);
        Assert.Equal(1000 * 42 * 3600.0 / 42, rate.GetProperty("content_crash_rate").GetDouble(), 6);
        var ci = rate.GetProperty("main_crash_rate_ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(ci[0] <= rate.GetProperty("main_crash_rate").GetDouble() && rate.GetProperty("main_crash_rate").GetDouble() <= ci[1]);
        var bySubmission = JsonDocument.Parse(await silo.Http.GetStringAsync(
            $"/api/crash-rates?channel=nightly&from={today}&to={today}&by=submission")).RootElement.GetProperty("rows");
        Assert.Equal(today, Assert.Single(bySubmission.EnumerateArray()).GetProperty("date").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync($"/api/crash-rates?from={today}&to=yesterday")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync($"/api/crash-aggregates?submission_date={today}&colour=red")).StatusCode);

        string metrics = await silo.Http.GetStringAsync("/metrics");
        Assert.Contains("reason=\"no_subsession_length\"", metrics);

        // Reprocessing the date gives byte-identical rows in the table.
        string before = await TableTextAsync(cs);
        var job = await silo.ReprocessAsync(today, today, TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.Equal(before, await TableTextAsync(cs));
        Assert.Contains("\"main_crashes\": 1", before);
    }

    private static async Task<string> TableTextAsync(string cs)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT string_agg(submission_date::text || '|' || activity_date::text || '|' || dimensions::text || '|' || stats::text, E'\n'
                              ORDER BY activity_date, dimensions::text)
            FROM crash_aggregates
            """, conn);
        return (await cmd.ExecuteScalarAsync()) as string ?? "";
    }
}

/// <summary>The embedded mode answers the same crash queries from memory.</summary>
public sealed class EmbeddedCrashApiTests
{
    [Fact]
    public async Task Embedded_silo_serves_crash_rows_and_rates_without_a_database()
    {
        await using var silo = await SiloHost.StartAsync();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string activity = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var pings = Enumerable.Range(0, 10).Select(i => new CrashPingModel
        {
            DocType = "main", Type = "main", SubsessionLength = 1800L, DateText = activity,
            OsName = i % 2 == 0 ? "Windows_NT" : "Linux",
        }).ToList();
        pings.Add(pings[0] with { DocType = "crash", Type = "crash" });
        pings.Add(pings[1] with { DocType = "crash", Type = "crash" });
        pings.Add(pings[1] with { DocType = "crash", Type = "crash" });
        foreach (var p in pings)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"{Guid.NewGuid()}/{p.DocType}/Firefox/47.0a1/nightly/20160302030405", p.ToJson())).StatusCode);
        }
        JsonElement rows = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            rows = JsonDocument.Parse(await silo.Http.GetStringAsync(
                $"/api/crash-rates?channel=nightly&from={activity}&to={activity}&group_by=os_name")).RootElement.GetProperty("rows");
            return rows.GetArrayLength() == 2 && rows.EnumerateArray().Sum(r => r.GetProperty("main_crashes").GetInt64()) == 3;
        }, TimeSpan.FromSeconds(30)), "crash rates never showed the 13 pings: " + rows.GetRawText());
        var linux = rows.EnumerateArray().Single(r => r.GetProperty("group").GetProperty("os_name").GetString() == "Linux");
        Assert.Equal(5, linux.GetProperty("ping_count").GetInt64());
        Assert.Equal(2.5, linux.GetProperty("usage_hours").GetDouble(), 9);
        Assert.Equal(2, linux.GetProperty("main_crashes").GetInt64());
        Assert.Equal(800, linux.GetProperty("main_crash_rate").GetDouble(), 6); // 2 crashes / 2.5 h × 1000
        var page = JsonDocument.Parse(await silo.Http.GetStringAsync($"/api/crash-aggregates?submission_date={activity}&os_name=Linux")).RootElement;
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next_page").ValueKind);
        Assert.All(page.GetProperty("rows").EnumerateArray(), r => Assert.Equal("Linux", r.GetProperty("dimensions").GetProperty("os_name").GetString()));
    }
}
