using System.Net;
using Microsoft.Extensions.Options;
using Telemetry.Portal.Components.Pages.Aggregates;
using Telemetry.Portal.Services;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal.Data;

/// <summary>The portal's data services against a real silo: the JSON they read is the JSON the silo writes.</summary>
public sealed class DataSourcesWithSiloTests
{
    [Fact]
    public async Task Read_aggregates_of_a_restricted_channel_with_the_read_token_and_the_other_routes_parse()
    {
        await using var silo = await SiloHost.StartAsync();
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"portal-data-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", body)).StatusCode);
        }

        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };
        var api = new SiloApi(http);
        var withToken = new AggregatesSource(api, Options.Create(new SiloApiOptions { ReadToken = SiloHost.ReadToken }));
        var withoutToken = new AggregatesSource(api, Options.Create(new SiloApiOptions()));

        AggregateResult? result = null;
        var query = new AggregateQuery(AggregateKinds.BuildId, "release", "23", "CYCLE_COLLECTOR", ["20130814"]);
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            result = await withToken.HistogramsAsync(query, CancellationToken.None);
            return result is { Data.Length: > 0 } r && r.Data.Sum(e => e.Histogram.Sum()) == 3 * 240;
        }, TimeSpan.FromSeconds(30)), "the three pings never showed in the build-id aggregate");

        // Restricted: not listed, but readable with the token; its dates and filters too.
        Assert.DoesNotContain("release", await withToken.ChannelsAsync(AggregateKinds.BuildId, CancellationToken.None));
        Assert.Contains(new AggregateDate("20130814", "23"), await withToken.DatesAsync(AggregateKinds.BuildId, "release", CancellationToken.None));
        var filters = await withToken.FiltersAsync("release", "23", CancellationToken.None);
        Assert.Contains("CYCLE_COLLECTOR", filters!.Metrics);

        // Three times the ping's CYCLE_COLLECTOR: the same percentiles as the ping's own (BucketPercentilesTests).
        var entry = Assert.Single(result!.Data);
        var stats = new BucketPercentiles(result.LowerBounds!.Value, entry.Histogram);
        Assert.Equal(720, stats.Total);
        Assert.Equal(17.0, stats.Percentile(75)!.Value, 9);
        Assert.Equal(190.0, stats.Percentile(95)!.Value, 9);
        Assert.Equal(13370.0 / 240, stats.Mean(entry.Sum)!.Value, 9);

        var refused = await Assert.ThrowsAsync<SiloApiException>(() => withoutToken.HistogramsAsync(query, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        Assert.Contains("Portal:Silo:ReadToken", SiloReadProblem.From(refused, "aggregates", AggregatesPage.ReadTokenHint).Message);
        Assert.Null(await withToken.HistogramsAsync(query with { Dates = ["20130101"] }, CancellationToken.None));

        // The other sources read their routes' JSON without complaint.
        var expiring = await new ExpiringSource(api).GetAsync(3650, null, CancellationToken.None);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", expiring.AsOf);
        Assert.Equal(3650, expiring.WithinDays);
        Assert.All(expiring.Probes, p => Assert.True(p.Expired == (p.DaysLeft <= 0)));
        var regressions = new RegressionsSource(api, withToken);
        Assert.Empty(await regressions.ListAsync(new RegressionListQuery("nightly", null, "new", "default", null, null), CancellationToken.None));
        Assert.Null(await regressions.GetAsync(987654, CancellationToken.None));
        var badFilter = await Assert.ThrowsAsync<SiloApiException>(() => regressions.ListAsync(new RegressionListQuery(null, null, "sleeping", null, null, null), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, badFilter.Status);
        var evolution = await regressions.EvolutionAsync("release", "CYCLE_COLLECTOR", "20130814", 7, CancellationToken.None);
        Assert.Equal(720, Assert.Single(evolution).Counts.Sum());
        var rates = await new CrashRatesSource(api).GetAsync(new CrashRateRequest("2013-08-10", "2013-08-20", "submission", ["channel"],
            System.Collections.Immutable.ImmutableSortedDictionary<string, string>.Empty), CancellationToken.None);
        Assert.All(rates, r => Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", r.Date));
    }
}
