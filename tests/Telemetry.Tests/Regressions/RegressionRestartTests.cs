using System.Net;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Regressions.RegressionPings;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// PostgreSQL mode: the series grains' state and the alert store survive a restart, so detection after a restart
/// reports the same records, none new, and a later date joins the series without a second record.
/// </summary>
[Collection("postgres")]
public sealed class RegressionRestartTests(PostgresFixture pg)
{
    private static readonly string[] SiloArgs = ["--Regressions:CheckPeriod=1.00:00:00", $"--Regressions:IgnoredMetrics:0={Ignored}"];

    private static async Task<List<(long Id, string Metric, string Detector, string BuildDate, double Score, bool New)>> DetectAsync(SiloHost silo)
    {
        var r = await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?channel=nightly");
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode} {text}");
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("findings").EnumerateArray().Select(f => (
            f.GetProperty("id").GetInt64(), f.GetProperty("metric").GetString()!, f.GetProperty("detector").GetString()!,
            f.GetProperty("build_date").GetString()!, f.GetProperty("score").GetDouble(), f.GetProperty("new").GetBoolean()))];
    }

    [Fact]
    public async Task After_a_restart_detection_reports_the_same_records_and_records_nothing_twice()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        List<(long Id, string Metric, string Detector, string BuildDate, double Score, bool New)> before;
        await using (var silo = await SiloHost.StartAsync(cs, SiloArgs))
        {
            await InstallProbesAsync(silo);
            await SubmitAllAsync(silo, Dates - 1);
            await WaitUntilAggregatedAsync(silo, Dates - 1);
            before = await DetectAsync(silo);
        }
        Assert.Equal(4, before.Count);
        Assert.All(before, f => Assert.True(f.New));

        await using (var silo = await SiloHost.StartAsync(cs, SiloArgs))
        {
            await WaitUntilAggregatedAsync(silo, Dates - 1);
            var after = await DetectAsync(silo);
            Assert.Equal(before.Select(f => f with { New = false }), after);

            // One more shifted date: the series grows, the findings stay the same records.
            await SubmitDateAsync(silo, Dates - 1);
            await WaitUntilAggregatedAsync(silo, Dates);
            var grown = await DetectAsync(silo);
            Assert.Equal(before.Select(f => f with { New = false }), grown);

            using var listed = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/regressions"));
            Assert.Equal(4, listed.RootElement.GetProperty("regressions").GetArrayLength());
        }
    }
}
