using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Regressions;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Regressions.RegressionPings;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// Regression detection through a real embedded silo: pings submitted through the submit endpoint, detection on
/// demand, the records read back (docs/regressions.md, "HTTP API"). The schedule is kept out of the way
/// (one check a day) so that only the test's requests run detection.
/// </summary>
public sealed class RegressionsApiTests
{
    private static readonly string[] SiloArgs =
    [
        "--Regressions:CheckPeriod=1.00:00:00",
        $"--Regressions:IgnoredMetrics:0={Ignored}",
    ];

    private static async Task<JsonElement> DetectAsync(SiloHost silo, string query)
    {
        var r = await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?" + query);
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(SiloHost silo, string url)
    {
        var r = await silo.Http.GetAsync(url);
        string text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, text.Length > 0 ? JsonDocument.Parse(text).RootElement : default);
    }

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    [Fact]
    public async Task A_shift_in_real_pings_is_found_at_its_build_date_once_and_read_back_as_a_regression_record()
    {
        await using var silo = await SiloHost.StartAsync(null, SiloArgs);
        await InstallProbesAsync(silo);
        await SubmitAllAsync(silo);
        await WaitUntilAggregatedAsync(silo);

        var first = await DetectAsync(silo, "channel=nightly");

        var findings = first.GetProperty("findings").EnumerateArray().ToList();
        Assert.Empty(first.GetProperty("failures").EnumerateArray());
        // Both detectors find both shifted metrics at the shift's build date, and nothing else (the quiet metric never moved).
        Assert.Equal(
            [(Ignored, "cerberus"), (Ignored, "default"), (Shifted, "cerberus"), (Shifted, "default")],
            findings.Select(f => (f.GetProperty("metric").GetString()!, f.GetProperty("detector").GetString()!)));
        Assert.All(findings, f =>
        {
            Assert.Equal(BuildDate(ShiftIndex), f.GetProperty("build_date").GetString());
            Assert.Equal("higher", f.GetProperty("direction").GetString());
            Assert.True(f.GetProperty("new").GetBoolean());
            Assert.InRange(f.GetProperty("score").GetDouble(), 0.12, 1);
            // A change this clear leaves no doubt about its build date: the suspect range is that date alone.
            Assert.Equal((BuildDate(ShiftIndex), BuildDate(ShiftIndex)), (f.GetProperty("suspect_from").GetString(), f.GetProperty("suspect_to").GetString()));
        });
        var byDetector = findings.Where(f => f.GetProperty("metric").GetString() == Shifted).ToDictionary(f => f.GetProperty("detector").GetString()!);
        // The reference: the seven dates before the shift (default), the newest of them (cerberus).
        Assert.Equal(Enumerable.Range(ShiftIndex - 7, 7).Select(BuildDate), Strings(byDetector["default"].GetProperty("reference_dates")));
        Assert.Equal([BuildDate(ShiftIndex - 1)], Strings(byDetector["cerberus"].GetProperty("reference_dates")));
        // Every date's share moved exactly one bucket up: the largest CDF difference is 45/60.
        Assert.Equal(0.75, byDetector["default"].GetProperty("score").GetDouble(), 9);

        // Running again records nothing new: same records, new = false.
        var again = (await DetectAsync(silo, "channel=nightly")).GetProperty("findings").EnumerateArray().ToList();
        Assert.Equal(findings.Select(f => f.GetProperty("id").GetInt64()), again.Select(f => f.GetProperty("id").GetInt64()));
        Assert.All(again, f => Assert.False(f.GetProperty("new").GetBoolean()));
        // One metric and one detector: the same record.
        var one = Assert.Single((await DetectAsync(silo, $"channel=nightly&metric={Shifted}&detector=default")).GetProperty("findings").EnumerateArray());
        Assert.Equal(byDetector["default"].GetProperty("id").GetInt64(), one.GetProperty("id").GetInt64());
        Assert.Empty((await DetectAsync(silo, $"channel=nightly&metric={Quiet}")).GetProperty("findings").EnumerateArray());

        // The list: four records, newest build date first (all share one here), each with the owners of its metric.
        var (status, list) = await GetJsonAsync(silo, "/api/regressions?channel=nightly");
        Assert.Equal(HttpStatusCode.OK, status);
        var records = list.GetProperty("regressions").EnumerateArray().ToList();
        Assert.Equal(4, records.Count);
        var record = records.Single(r => r.GetProperty("metric").GetString() == Shifted && r.GetProperty("detector").GetString() == "default");
        Assert.Equal(
            ["id", "channel", "metric", "build_date", "detector", "score", "direction", "state", "reference_dates", "owners", "snoozed_until", "detected_at", "suspect_from", "suspect_to"],
            record.EnumerateObject().Select(p => p.Name));
        Assert.Equal(byDetector["default"].GetProperty("id").GetInt64(), record.GetProperty("id").GetInt64());
        Assert.Equal(("nightly", BuildDate(ShiftIndex), "new", "higher"),
            (record.GetProperty("channel").GetString(), record.GetProperty("build_date").GetString(), record.GetProperty("state").GetString(), record.GetProperty("direction").GetString()));
        Assert.Equal([ShiftedOwner], Strings(record.GetProperty("owners")));
        Assert.Equal(JsonValueKind.Null, record.GetProperty("snoozed_until").ValueKind);
        Assert.True(DateTimeOffset.TryParse(record.GetProperty("detected_at").GetString(), out _));
        Assert.Equal(Enumerable.Range(ShiftIndex - 7, 7).Select(BuildDate), Strings(record.GetProperty("reference_dates")));

        // Filters.
        async Task<int> CountAsync(string query) => (await GetJsonAsync(silo, "/api/regressions?" + query)).Body.GetProperty("regressions").GetArrayLength();
        Assert.Equal(2, await CountAsync($"metric={Shifted}"));
        Assert.Equal(2, await CountAsync("detector=cerberus"));
        Assert.Equal(4, await CountAsync($"from={BuildDate(ShiftIndex)}&to={BuildDate(ShiftIndex)}&state=new"));
        Assert.Equal(0, await CountAsync($"from={BuildDate(ShiftIndex + 1)}"));
        Assert.Equal(0, await CountAsync($"to={BuildDate(ShiftIndex - 1)}"));
        Assert.Equal(0, await CountAsync("state=resolved"));
        Assert.Equal(0, await CountAsync("channel=beta"));

        // The detail: R plus what a person compares, and the history.
        var (detailStatus, detail) = await GetJsonAsync(silo, $"/api/regressions/{record.GetProperty("id").GetInt64()}");
        Assert.Equal(HttpStatusCode.OK, detailStatus);
        Assert.Equal(Bounds, detail.GetProperty("buckets").EnumerateArray().Select(b => b.GetInt64()));
        var candidate = detail.GetProperty("candidate").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var reference = detail.GetProperty("reference").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(20, candidate.Length);
        Assert.Equal(20, reference.Length);
        Assert.Equal([0.75, 10 / 60.0, 5 / 60.0], candidate[6..9], new DoubleTolerance(1e-9));
        Assert.Equal([0.75, 10 / 60.0, 5 / 60.0], reference[5..8], new DoubleTolerance(1e-9));
        Assert.Equal(Description, detail.GetProperty("description").GetString());
        var created = Assert.Single(detail.GetProperty("history").EnumerateArray());
        Assert.Equal(("system", "new"), (created.GetProperty("by").GetString(), created.GetProperty("state").GetString()));
        foreach (var name in new[] { "at", "comment", "bug" })
        {
            Assert.True(created.TryGetProperty(name, out _), name);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.GetAsync("/api/regressions/987654")).StatusCode);
    }

    [Fact]
    public async Task A_record_names_its_suspect_build_dates_and_one_recorded_before_they_were_kept_names_its_build_date()
    {
        await using var silo = await SiloHost.StartAsync(null, SiloArgs);
        var publisher = silo.Services.GetRequiredService<IAlertPublisher>();
        var date = new DateOnly(2026, 11, 20);
        var finding = new RegressionFinding
        {
            Detector = "default",
            BuildDate = date,
            ConfirmedBy = date.AddDays(2),
            Score = 0.08,
            Direction = RegressionDirection.Higher,
            BucketLowerBounds = [0, 1, 2],
            Candidate = [0.2, 0.3, 0.5],
            Reference = [0.3, 0.3, 0.4],
            ReferenceDates = [date.AddDays(-2), date.AddDays(-1)],
            SuspectFrom = date.AddDays(-1),
            SuspectTo = date.AddDays(1),
        };
        var unsure = (await publisher.PublishAsync(RegressionAlerts.Draft("nightly", "GC_MS", finding, RegressionProbeInfo.None, notify: false), default)).Alert.Id;
        var older = (await publisher.PublishAsync(new AlertDraft(AlertKinds.Regression, "regression:nightly:CC_MS:20261118:default", "CC_MS", "moved",
            new AlertTarget("nightly", "CC_MS", "default", new DateOnly(2026, 11, 18), 0.1), [], DetailsJson: """{"direction":"lower"}""", Notify: false), default)).Alert.Id;

        var (_, list) = await GetJsonAsync(silo, "/api/regressions");
        var byId = list.GetProperty("regressions").EnumerateArray().ToDictionary(r => r.GetProperty("id").GetInt64());
        Assert.Equal(("20261120", "20261119", "20261121"),
            (byId[unsure].GetProperty("build_date").GetString(), byId[unsure].GetProperty("suspect_from").GetString(), byId[unsure].GetProperty("suspect_to").GetString()));
        Assert.Equal(("20261118", "20261118"), (byId[older].GetProperty("suspect_from").GetString(), byId[older].GetProperty("suspect_to").GetString()));
        var (_, detail) = await GetJsonAsync(silo, $"/api/regressions/{unsure}");
        Assert.Equal(("20261119", "20261121"), (detail.GetProperty("suspect_from").GetString(), detail.GetProperty("suspect_to").GetString()));
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_parameter_and_detection_needs_an_admin()
    {
        await using var silo = await SiloHost.StartAsync(null, SiloArgs);

        async Task<string> BadAsync(HttpResponseMessage r)
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("parameter").GetString()!;
        }
        Assert.Equal("channel", await BadAsync(await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect")));
        Assert.Equal("channel", await BadAsync(await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?channel=beta")));
        Assert.Equal("detector", await BadAsync(await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?channel=nightly&detector=magic")));
        Assert.Equal("chanel", await BadAsync(await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?chanel=nightly")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?channel=nightly", token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await AdminAsync(silo, HttpMethod.Post, "/api/regressions/detect?channel=nightly", token: "not-the-admin-token")).StatusCode);

        Assert.Equal("state", await BadAsync(await silo.Http.GetAsync("/api/regressions?state=closed")));
        Assert.Equal("detector", await BadAsync(await silo.Http.GetAsync("/api/regressions?detector=magic")));
        Assert.Equal("from", await BadAsync(await silo.Http.GetAsync("/api/regressions?from=2026-03-01")));
        Assert.Equal("to", await BadAsync(await silo.Http.GetAsync("/api/regressions?to=20261332")));
        Assert.Equal("to", await BadAsync(await silo.Http.GetAsync("/api/regressions?from=20260302&to=20260301")));
        Assert.Equal("page", await BadAsync(await silo.Http.GetAsync("/api/regressions?page=2")));

        // A watched channel without data: nothing found, nothing recorded.
        var empty = await DetectAsync(silo, "channel=nightly");
        Assert.Empty(empty.GetProperty("findings").EnumerateArray());
        Assert.Equal(0, (await GetJsonAsync(silo, "/api/regressions")).Body.GetProperty("regressions").GetArrayLength());
    }

    private sealed class DoubleTolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
