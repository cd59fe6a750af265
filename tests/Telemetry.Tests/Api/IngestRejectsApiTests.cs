using System.Net;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

/// <summary><c>GET /api/ingest/rejects</c>: bad pings posted through the real submit endpoint show up by reason, with samples.</summary>
public sealed class IngestRejectsApiTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Counts_rejections_by_reason_and_keeps_a_few_recent_samples_of_each()
    {
        await using var silo = await SiloHost.StartAsync();
        const string tail = "idle-daily/Firefox/23.0.1/release/20130814063812";
        for (int i = 0; i < 12; i++)
        {
            var bad = await silo.SubmitAsync($"rej-json-{i}/{tail}", "not json at all"u8.ToArray());
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync($"rej-empty/{tail}", [])).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync("rej-path/idle-daily/Firefox/23.0.1", "{}"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync($"rej-gzip/{tail}", [0x1f, 0x8b, 1, 2, 3, 4])).StatusCode);
        // An accepted ping is not a reject.
        var good = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"rej-good/{tail}", good)).StatusCode);

        JsonElement answer = default;
        bool counted = await TestPaths.EventuallyAsync(async () =>
        {
            answer = await GetRejectsAsync(silo, "/api/ingest/rejects");
            return answer.GetProperty("total").GetInt64() == 15;
        }, Wait);
        Assert.True(counted, "the rejects never added up to 15: " + answer);

        var reasons = answer.GetProperty("reasons").EnumerateArray().ToList();
        Assert.Equal(
            [("bad_json", 12L), ("bad_gzip", 1L), ("bad_path", 1L), ("empty", 1L)],
            reasons.Select(r => (r.GetProperty("reason").GetString(), r.GetProperty("count").GetInt64())).ToList());

        var json = reasons[0].GetProperty("samples").EnumerateArray().ToList();
        // Bounded: a burst of twelve keeps only a few, and the answer gives at most the default five.
        Assert.InRange(json.Count, 1, 5);
        Assert.All(json, s =>
        {
            Assert.StartsWith("rej-json-", s.GetProperty("path").GetString());
            Assert.EndsWith(tail, s.GetProperty("path").GetString());
            Assert.Equal("not json at all", s.GetProperty("body_start").GetString());
            Assert.Equal(15, s.GetProperty("bytes").GetInt64());
            Assert.False(string.IsNullOrWhiteSpace(s.GetProperty("message").GetString()));
        });
        var path = Assert.Single(reasons.Single(r => r.GetProperty("reason").GetString() == "bad_path").GetProperty("samples").EnumerateArray());
        Assert.Equal("rej-path/idle-daily/Firefox/23.0.1", path.GetProperty("path").GetString());
        var gzip = Assert.Single(reasons.Single(r => r.GetProperty("reason").GetString() == "bad_gzip").GetProperty("samples").EnumerateArray());
        Assert.Equal("......", gzip.GetProperty("body_start").GetString());

        var one = await GetRejectsAsync(silo, "/api/ingest/rejects?samples=1");
        Assert.Single(one.GetProperty("reasons")[0].GetProperty("samples").EnumerateArray());
        Assert.Equal(12, one.GetProperty("reasons")[0].GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Requires_an_admin_and_a_sane_sample_count()
    {
        await using var silo = await SiloHost.StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.GetAsync("/api/ingest/rejects", bearer: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await silo.GetAsync("/api/ingest/rejects", bearer: SiloHost.ReadToken)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.GetAsync("/api/ingest/rejects?samples=11", SiloHost.AdminToken)).StatusCode);
        var empty = await GetRejectsAsync(silo, "/api/ingest/rejects");
        Assert.Equal(0, empty.GetProperty("total").GetInt64());
        Assert.Empty(empty.GetProperty("reasons").EnumerateArray());
    }

    private static async Task<JsonElement> GetRejectsAsync(SiloHost silo, string url)
    {
        var response = await silo.GetAsync(url, SiloHost.AdminToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
