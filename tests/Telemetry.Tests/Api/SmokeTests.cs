using System.Net;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

/// <summary>The real Firefox 23 ping through the embedded silo, end to end.</summary>
public sealed class Firefox23EndToEndTests
{
    [Fact]
    public async Task Real_classic_ping_is_accepted_and_its_histograms_are_served()
    {
        await using var silo = await SiloHost.StartAsync();
        var json = await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json"));
        var response = await silo.SubmitAsync("ff23-e2e-1/idle-daily/Firefox/23.0.1/release/20130814063812", SiloHost.Gzip(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        string date = DateTime.UtcNow.ToString("yyyyMMdd");
        string url = $"/aggregates_by/submission_date/channels/release/?version=23&dates={date}&metric=CYCLE_COLLECTOR";
        JsonElement body = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await silo.GetAsync(url);
            if (r.StatusCode != HttpStatusCode.OK) return false;
            body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            return true;
        }, TimeSpan.FromSeconds(10)), "the ping was not visible within 10 s");

        var entry = Assert.Single(body.GetProperty("data").EnumerateArray());
        Assert.Equal(13370, entry.GetProperty("sum").GetInt64());
        Assert.Equal(1, entry.GetProperty("count").GetInt64());
        var histogram = entry.GetProperty("histogram").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var buckets = body.GetProperty("buckets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(50, buckets.Length);
        Assert.Equal(139, histogram[Array.IndexOf(buckets, 0L)]);
        Assert.Equal(41, histogram[Array.IndexOf(buckets, 14L)]);
        Assert.Equal(5, histogram[Array.IndexOf(buckets, 449L)]);
        Assert.Equal(0, histogram[Array.IndexOf(buckets, 3553L)]);
    }
}
