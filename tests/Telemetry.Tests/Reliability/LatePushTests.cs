using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Contracts.Ingest;
using Telemetry.Silo.Ingest;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Ingest;

namespace Telemetry.Tests.Reliability;

/// <summary>
/// A push that arrives after its batches were read back from the landing log (the silo was slow,
/// the grace ran out) must not count them a second time.
/// </summary>
public sealed class LatePushTests
{
    private static async Task<long> CountAsync(SiloHost silo)
    {
        var r = await silo.GetAsync("/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=SIMPLE_MEASURES_UPTIME");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task A_push_of_batches_already_read_from_the_log_is_ignored()
    {
        // The feeder would push only after 10 s; the partitions read batches back at once.
        await using var silo = await SiloHost.StartAsync(null, "--Ingest:PushIntervalMs=10000", "--Ingest:PushGraceMs=0");
        for (int i = 0; i < 6; i++)
        {
            var r = await silo.SubmitAsync($"{Guid.NewGuid()}/{IngestTestData.RealPingPathRest}", SiloHost.Gzip(IngestTestData.RealPing));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var partitions = Enumerable.Range(0, 8).Select(p => silo.Grains.GetGrain<IPartitionGrain>(p)).ToList();
        var caughtUp = await Task.WhenAll(partitions.Select(p => p.CatchUp()));
        Assert.Equal(6, await CountAsync(silo));
        Assert.True(caughtUp.Sum(s => s.BatchesRecovered) > 0, "the batches should have been read back from the log");

        // Now the late push: every batch in it is already applied.
        await silo.Services.GetRequiredService<AggregationFeeder>().FlushAsync();
        await Task.WhenAll(partitions.Select(p => p.CatchUp()));
        Assert.Equal(6, await CountAsync(silo));

        // And the pipeline still works for new pings afterwards.
        var late = await silo.SubmitAsync($"{Guid.NewGuid()}/{IngestTestData.RealPingPathRest}", SiloHost.Gzip(IngestTestData.RealPing));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        await Task.WhenAll(partitions.Select(p => p.CatchUp()));
        Assert.Equal(7, await CountAsync(silo));
    }
}
