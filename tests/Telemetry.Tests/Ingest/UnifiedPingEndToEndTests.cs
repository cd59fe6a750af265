using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Ingest;

/// <summary>
/// A silo with the unified probe revision mapped to "nightly" and three variants of the synthetic unified
/// ping submitted: A (Firefox, x86-64, Linux 3.1.12), B (Firefox, x86-64, Windows_NT 6.1), C (Fennec, arm, Linux 3.1.12).
/// </summary>
public sealed class UnifiedSiloFixture : IAsyncLifetime
{
    public const string BuildDate = "20170901";

    public SiloHost Silo { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Silo = await SiloHost.StartAsync();
        await AdminPutAsync($"/api/probes/revisions/{IngestTestData.UnifiedRevision}/histograms", IngestTestData.UnifiedRevisionJson);
        await AdminPutAsync($"/api/probes/channels/{IngestTestData.UnifiedChannel}", $"{{\"revision\":\"{IngestTestData.UnifiedRevision}\"}}");

        var a = IngestTestData.UnifiedPing;
        var b = IngestTestData.UnifiedVariant(p =>
        {
            p["environment"]!["system"]!["os"]!["name"] = "Windows_NT";
            p["environment"]!["system"]!["os"]!["version"] = "6.1";
        });
        var c = IngestTestData.UnifiedVariant(p =>
        {
            p["application"]!["name"] = "Fennec";
            p["application"]!["architecture"] = "arm";
            p["environment"]!["build"]!["architecture"] = "arm";
        });
        foreach (var (body, app) in new[] { (a, "Firefox"), (b, "Firefox"), (c, "Fennec") })
        {
            var r = await Silo.SubmitAsync($"{Guid.NewGuid()}/main/{app}/57.0a1/nightly/20170901123456", SiloHost.Gzip(body));
            if (r.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"unified ping rejected: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            }
        }
        bool visible = await TestPaths.EventuallyAsync(async () =>
        {
            var r = await Silo.GetAsync($"/aggregates_by/build_id/channels/nightly/?version=57&dates={BuildDate}&metric=A11Y_CONSUMERS");
            if (r.StatusCode != HttpStatusCode.OK) return false;
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64()) == 3;
        }, TimeSpan.FromSeconds(15));
        if (!visible)
        {
            throw new InvalidOperationException("the three unified pings did not become visible within 15 s");
        }
    }

    private async Task AdminPutAsync(string url, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        var r = await Silo.Http.SendAsync(request);
        if (!r.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PUT {url}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }
    }

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>The synthetic unified ping through the real silo and the aggregates API (README, "Aggregates").</summary>
public sealed class UnifiedPingEndToEndTests(UnifiedSiloFixture fixture) : IClassFixture<UnifiedSiloFixture>
{
    private sealed record Entry(string Date, string Label, long[] Histogram, long Count, long Sum);

    private sealed record Answer(HttpStatusCode Status, JsonElement Buckets, string Kind, List<Entry> Data, string RawData);

    private async Task<Answer> QueryAsync(string metric, string filters = "")
    {
        var r = await fixture.Silo.GetAsync($"/aggregates_by/build_id/channels/nightly/?version=57&dates={UnifiedSiloFixture.BuildDate}&metric={Uri.EscapeDataString(metric)}{filters}");
        var text = await r.Content.ReadAsStringAsync();
        if (r.StatusCode != HttpStatusCode.OK)
        {
            return new Answer(r.StatusCode, default, "", [], text);
        }
        var root = JsonDocument.Parse(text).RootElement;
        var data = root.GetProperty("data").EnumerateArray().Select(e => new Entry(
            e.GetProperty("date").GetString()!,
            e.GetProperty("label").GetString()!,
            e.GetProperty("histogram").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
            e.GetProperty("count").GetInt64(),
            e.GetProperty("sum").GetInt64())).ToList();
        return new Answer(r.StatusCode, root.GetProperty("buckets"), root.GetProperty("kind").GetString()!, data, root.GetProperty("data").GetRawText());
    }

    private async Task<Entry> SingleAsync(string metric, string filters = "")
    {
        var a = await QueryAsync(metric, filters);
        Assert.True(a.Status == HttpStatusCode.OK, $"{metric}{filters}: {(int)a.Status} {a.RawData}");
        return Assert.Single(a.Data);
    }

    [Fact]
    public async Task Content_and_gpu_data_are_served_by_child()
    {
        var content = await SingleAsync("A11Y_TREE_UPDATE_TIMING_MS", "&child=content");
        Assert.Equal((6L, 3 * 117L), (content.Count, content.Sum)); // processes.content + childPayloads[0], three pings
        var treeBounds = IngestTestData.ExponentialBounds(1, 60000, 50);
        Assert.Equal(12, content.Histogram[Array.IndexOf(treeBounds, 3L)]);
        Assert.Equal(3, content.Histogram[Array.IndexOf(treeBounds, 9L)]);
        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("A11Y_TREE_UPDATE_TIMING_MS", "&child=parent")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("A11Y_TREE_UPDATE_TIMING_MS", "&child=gpu")).Status);

        var gpu = await SingleAsync("COMPOSITE_SWAP_TIME", "&child=gpu");
        Assert.Equal((3L, 96L), (gpu.Count, gpu.Sum));
        var swapBounds = IngestTestData.ExponentialBounds(1, 1000, 50);
        Assert.Equal(9, gpu.Histogram[Array.IndexOf(swapBounds, 10L)]);
        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("COMPOSITE_SWAP_TIME", "&child=content")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("COMPOSITE_SWAP_TIME", "&child=parent")).Status);
        // Without child every process is summed.
        Assert.Equal(3, (await SingleAsync("COMPOSITE_SWAP_TIME")).Count);

        var contentScalar = await SingleAsync("SCALARS_DOM.CONTENTPROCESS.TROUBLED_DUE_TO_MEMORY", "&child=content");
        Assert.Equal((3L, 6L), (contentScalar.Count, contentScalar.Sum));
    }

    [Fact]
    public async Task Child_true_equals_content_and_child_false_equals_parent()
    {
        foreach (var metric in new[] { "A11Y_TREE_UPDATE_TIMING_MS", "APPLICATION_REPUTATION_SERVER_VERDICT_2" })
        {
            var content = await QueryAsync(metric, "&child=content");
            var childTrue = await QueryAsync(metric, "&child=true");
            Assert.Equal(HttpStatusCode.OK, content.Status);
            Assert.Equal(content.RawData, childTrue.RawData);
        }
        var parent = await QueryAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&child=parent");
        var childFalse = await QueryAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&child=false");
        Assert.Equal(HttpStatusCode.OK, parent.Status);
        Assert.Equal(parent.RawData, childFalse.RawData);
        Assert.NotEqual(parent.RawData, (await QueryAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&child=true")).RawData);
    }

    [Fact]
    public async Task Keyed_histogram_labels_are_served_verbatim_and_filterable()
    {
        var all = await QueryAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&child=parent");
        Assert.Equal(HttpStatusCode.OK, all.Status);
        Assert.Equal(["Mixed-Case Key", "second.key"], all.Data.Select(e => e.Label).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("categorical", all.Kind);
        Assert.Equal("Safe", all.Buckets[0].GetString()); // categorical buckets are the label strings

        var mixed = await SingleAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&child=parent&label=" + Uri.EscapeDataString("Mixed-Case Key"));
        Assert.Equal("Mixed-Case Key", mixed.Label);
        Assert.Equal((3L, 9L), (mixed.Count, mixed.Sum));
        Assert.Equal((6L, 3L), (mixed.Histogram[0], mixed.Histogram[3]));

        var second = await SingleAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&label=second.key");
        Assert.Equal((3L, 12L), (second.Count, second.Sum));
        Assert.Equal(12, second.Histogram[1]);

        // Without child: parent and content of the same label are summed.
        var mixedAll = await SingleAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&label=" + Uri.EscapeDataString("Mixed-Case Key"));
        Assert.Equal((6L, 24L), (mixedAll.Count, mixedAll.Sum));

        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("APPLICATION_REPUTATION_SERVER_VERDICT_2", "&label=mixed-case%20key")).Status);

        // Keyed scalar: the key upper-cased.
        var ads = await SingleAsync("SCALARS_BROWSER.SEARCH.WITH_ADS", "&label=GOOGLE-B-D");
        Assert.Equal((3L, 6L), (ads.Count, ads.Sum));
        Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync("SCALARS_BROWSER.SEARCH.WITH_ADS", "&label=google-b-d")).Status);
    }

    [Theory]
    [InlineData("", 3)]
    [InlineData("&os=Linux", 2)]
    [InlineData("&os=Windows_NT", 1)]
    [InlineData("&osVersion=3.1", 2)]
    [InlineData("&osVersion=6.1", 1)]
    [InlineData("&osVersion=3.1.12", 0)]
    [InlineData("&application=Firefox", 2)]
    [InlineData("&application=Fennec", 1)]
    [InlineData("&architecture=x86-64", 2)]
    [InlineData("&architecture=arm", 1)]
    [InlineData("&os=Linux&architecture=arm", 1)]
    [InlineData("&os=Linux&osVersion=3.1&application=Firefox&architecture=x86-64", 1)]
    [InlineData("&os=Windows_NT&application=Fennec", 0)]
    public async Task Dimension_filters_narrow_counts_and_sums(string filters, int pings)
    {
        var a = await QueryAsync("A11Y_CONSUMERS", filters);
        if (pings == 0)
        {
            Assert.Equal(HttpStatusCode.NotFound, a.Status);
            return;
        }
        var e = Assert.Single(a.Data);
        Assert.Equal(pings, e.Count);
        Assert.Equal(19L * pings, e.Sum);
        Assert.Equal([3L * pings, 0, 0, 0, 2L * pings, 0, 0, 0, 0, 0, 0, 1L * pings], e.Histogram);
    }

    [Fact]
    public async Task Count_histograms_and_scalars_are_served_on_their_fixed_layouts()
    {
        var fixedBounds = IngestTestData.CountObservationBounds;
        var count = await QueryAsync("SYNTH_COUNT");
        Assert.Equal(HttpStatusCode.OK, count.Status);
        Assert.Equal(fixedBounds, count.Buckets.EnumerateArray().Select(b => b.GetInt64()).ToArray());
        var entry = Assert.Single(count.Data);
        Assert.Equal((3L, 126L), (entry.Count, entry.Sum));
        Assert.Equal(3, entry.Histogram[IngestTestData.BucketOfValue(fixedBounds, 42)]);

        var scalar = await QueryAsync("SCALARS_BROWSER.ENGAGEMENT.MAX_CONCURRENT_TAB_COUNT", "&child=parent");
        Assert.Equal(HttpStatusCode.OK, scalar.Status);
        Assert.Equal(fixedBounds, scalar.Buckets.EnumerateArray().Select(b => b.GetInt64()).ToArray());
        Assert.Equal((3L, 21L), (scalar.Data[0].Count, scalar.Data[0].Sum));
    }

    [Fact]
    public async Task Excluded_and_invalid_metrics_are_not_served_and_filters_list_what_was_seen()
    {
        foreach (var metric in new[] { "SEARCH_COUNTS", "SCALARS_BROWSER.ENGAGEMENT.NAVIGATION.URLBAR", "COMPOSITE_TIME", "CHECKERBOARD_DURATION", "CHECKERBOARD_PEAK" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await QueryAsync(metric)).Status);
        }

        var r = await fixture.Silo.GetAsync("/filters/?channel=nightly&version=57");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        string[] List(string name) => doc.RootElement.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(["content", "gpu", "parent"], List("child").Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["Fennec", "Firefox"], List("application").Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["arm", "x86-64"], List("architecture").Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["Linux,3.1", "Windows_NT,6.1"], List("os").Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("SYNTH_UNDECLARED_MS", List("undeclared"));
        Assert.DoesNotContain("A11Y_CONSUMERS", List("undeclared"));
        var metrics = List("metric");
        Assert.Contains("SCALARS_BROWSER.SEARCH.WITH_ADS", metrics);
        Assert.Contains("SIMPLE_MEASURES_TOTALTIME", metrics);
        Assert.DoesNotContain("SEARCH_COUNTS", metrics);
        Assert.DoesNotContain("COMPOSITE_TIME", metrics);
    }

    [Fact]
    public async Task Undeclared_histogram_is_served_with_the_layout_the_ping_declared()
    {
        var a = await QueryAsync("SYNTH_UNDECLARED_MS");
        Assert.Equal(HttpStatusCode.OK, a.Status);
        var bounds = IngestTestData.ExponentialBounds(1, 1000, 20);
        Assert.Equal(bounds, a.Buckets.EnumerateArray().Select(b => b.GetInt64()).ToArray());
        var e = Assert.Single(a.Data);
        Assert.Equal((3L, 3 * 513L), (e.Count, e.Sum));
        Assert.Equal(6, e.Histogram[Array.IndexOf(bounds, 13L)]);
    }
}
