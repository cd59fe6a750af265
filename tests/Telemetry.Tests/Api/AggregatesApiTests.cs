using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Telemetry.Tests.Api;

/// <summary>
/// The aggregates API contract (README, "Aggregates") against a real silo in PostgreSQL mode, over HTTP, with one
/// synthetic population whose expected histograms the test computes itself (<see cref="AggregatesModel"/>).
/// </summary>
[Collection("postgres")]
[TestCaseOrderer(AggregatesApiOrderer.TypeName, AggregatesApiOrderer.AssemblyName)]
public sealed class AggregatesApiTests(PostgresFixture pg, AggregatesApiFixture fx, ITestOutputHelper output)
    : IClassFixture<AggregatesApiFixture>, IAsyncLifetime
{
    private SiloHost Silo => fx.Silo!;
    private AggregatesModel Model => fx.Model;

    public async Task InitializeAsync()
    {
        bool first = fx.Silo is null;
        await fx.EnsureStartedAsync(pg);
        if (first)
        {
            output.WriteLine($"population: {fx.PingsSent} pings sent and aggregated in {fx.PopulateTime.TotalSeconds:F1} s ({string.Join(", ", fx.Timings)})");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    // ------------------------------------------------------------------ helpers

    private sealed record Reply(HttpStatusCode Status, string Text, HttpResponseMessage Response)
    {
        public JsonElement Json => JsonDocument.Parse(Text).RootElement;
        public string ContentType => Response.Content.Headers.ContentType?.MediaType ?? "";
    }

    private async Task<Reply> GetAsync(string url, string? bearer = SiloHost.ReadToken, Action<HttpRequestMessage>? configure = null)
    {
        var r = await fx.SendAsync(HttpMethod.Get, url, bearer, configure: configure);
        return new Reply(r.StatusCode, await r.Content.ReadAsStringAsync(), r);
    }

    private static string Q(string family, string channel, string version, IEnumerable<string> dates, string metric, AggFilter? f = null) =>
        $"/aggregates_by/{family}/channels/{channel}/?version={version}&dates={string.Join(',', dates)}&metric={Uri.EscapeDataString(metric)}{(f ?? AggFilter.None).ToQuery()}";

    private static List<AggEntry> ParseData(JsonElement body) =>
        body.GetProperty("data").EnumerateArray().Select(e => new AggEntry(
            e.GetProperty("date").GetString()!,
            e.GetProperty("label").GetString()!,
            e.GetProperty("histogram").EnumerateArray().Select(x => x.GetInt64()).ToArray(),
            e.GetProperty("count").GetInt64(),
            e.GetProperty("sum").GetInt64())).ToList();

    private static bool IsUseCounter(string metric) =>
        metric.StartsWith("USE_COUNTER2_", StringComparison.Ordinal) && (metric.EndsWith("_PAGE", StringComparison.Ordinal) || metric.EndsWith("_DOCUMENT", StringComparison.Ordinal));

    private List<AggEntry> Expect(string family, string channel, string version, IEnumerable<string> dates, string metric, AggFilter? f = null) =>
        IsUseCounter(metric)
            ? Model.ExpectUseCounter(family, channel, version, dates, metric, f ?? AggFilter.None)
            : Model.Expect(family, channel, version, dates, metric, f ?? AggFilter.None);

    /// <summary>Null when the reply matches the model, else a description of the difference.</summary>
    private static string? Compare(List<AggEntry> expected, Reply reply, string url, bool compareSum = true)
    {
        if (expected.Count == 0)
        {
            return reply.Status == HttpStatusCode.NotFound ? null : $"{url}: expected 404 (no data), got {(int)reply.Status} {Clip(reply.Text)}";
        }
        if (reply.Status != HttpStatusCode.OK)
        {
            return $"{url}: expected 200, got {(int)reply.Status} {Clip(reply.Text)}";
        }
        var body = reply.Json;
        var actual = ParseData(body);
        int buckets = body.GetProperty("buckets").GetArrayLength();
        var problems = new List<string>();
        var expDates = expected.Select(e => e.Date).Distinct().ToList();
        var actDates = actual.Select(e => e.Date).Distinct().ToList();
        if (!expDates.SequenceEqual(actDates))
        {
            problems.Add($"dates [{string.Join(',', actDates)}], expected [{string.Join(',', expDates)}]");
        }
        foreach (var dup in actual.GroupBy(a => (a.Date, a.Label)).Where(g => g.Count() > 1))
        {
            problems.Add($"entry {dup.Key} appears {dup.Count()} times");
        }
        var byKey = actual.GroupBy(a => (a.Date, a.Label)).ToDictionary(g => g.Key, g => g.First());
        foreach (var e in expected)
        {
            if (!byKey.Remove((e.Date, e.Label), out var a))
            {
                problems.Add($"missing {e}");
                continue;
            }
            if (!a.Histogram.SequenceEqual(e.Histogram) || a.Count != e.Count || (compareSum && a.Sum != e.Sum))
            {
                problems.Add($"got {a}, expected {e}");
            }
            if (a.Histogram.Length != buckets)
            {
                problems.Add($"{a.Date}/{a.Label}: {a.Histogram.Length} histogram values but {buckets} buckets");
            }
        }
        problems.AddRange(byKey.Values.Select(a => $"unexpected {a}"));
        return problems.Count == 0 ? null : $"{url}: " + string.Join("; ", problems);
    }

    private async Task AssertQueryAsync(string family, string channel, string version, IEnumerable<string> dates, string metric, AggFilter? f = null, bool compareSum = true)
    {
        var dateList = dates.ToList();
        string url = Q(family, channel, version, dateList, metric, f);
        var reply = await GetAsync(url);
        var problem = Compare(Expect(family, channel, version, dateList, metric, f), reply, url, compareSum);
        Assert.True(problem is null, problem);
    }

    private static string Clip(string s) => s.Length <= 300 ? s : s[..300] + "...";

    private static long[] Longs(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    /// <summary>The bucket lower bounds the definitions give for a metric of the population.</summary>
    private long[]? ExpectedBounds(string metric)
    {
        if (metric.StartsWith("SIMPLE_MEASURES_", StringComparison.Ordinal)) return SpecLayouts.SimpleMeasures;
        if (metric.StartsWith("SCALARS_", StringComparison.Ordinal)) return SpecLayouts.Scalars;
        if (IsUseCounter(metric)) return SpecLayouts.TwoState;
        if (metric is AggregatesPopulation.CountHistogram or AggregatesPopulation.TopLevelDocs or AggregatesPopulation.ContentDocs) return SpecLayouts.CountObservations;
        var spec = new[]
        {
            AggregatesPopulation.Checkerboard, AggregatesPopulation.LookupTime, AggregatesPopulation.Consumers, AggregatesPopulation.ShouldBlock,
            AggregatesPopulation.InstantiatedFlag, AggregatesPopulation.Severity, AggregatesPopulation.Undeclared, AggregatesPopulation.CompositeTime,
        }.FirstOrDefault(h => h.Name == metric);
        if (spec is not null) return spec.Bounds;
        if (metric is "APPLICATION_REPUTATION_BINARY_TYPE" or "APPLICATION_REPUTATION_SERVER_VERDICT_2") return null; // label strings
        var refs = fx.ReferenceHistograms;
        if (refs.TryGetProperty(metric, out var r) || (metric.StartsWith("STARTUP_", StringComparison.Ordinal) && refs.TryGetProperty(metric[8..], out r)))
        {
            return r.GetProperty("kind").GetString() == "4" ? SpecLayouts.CountObservations : Longs(r.GetProperty("buckets"));
        }
        return null;
    }

    private string? ModernDescription(string metric) =>
        fx.ModernSample.TryGetProperty(metric, out var d) ? d.GetProperty("description").GetString() : null;

    // ------------------------------------------------------------------ routes 1-3

    [Fact]
    public async Task Status_answers_OK()
    {
        var r = await GetAsync("/status", bearer: null);
        Assert.Equal(HttpStatusCode.OK, r.Status);
        Assert.Equal("OK", r.Text);
    }

    [Fact]
    public async Task Channels_are_sorted_and_the_restricted_channel_is_hidden()
    {
        var expected = Model.Snapshot().Select(o => o.Channel).Where(c => c != "release").Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { "aurora", "nightly" }, expected);
        foreach (var family in new[] { "build_id", "submission_date" })
        {
            foreach (var url in new[] { $"/aggregates_by/{family}/channels/", $"/aggregates_by/{family}/channels" })
            {
                foreach (var bearer in new[] { null, SiloHost.ReadToken })
                {
                    var r = await GetAsync(url, bearer);
                    Assert.True(r.Status == HttpStatusCode.OK, $"{url}: {(int)r.Status} {r.Text}");
                    Assert.Equal("application/json", r.ContentType);
                    var channels = r.Json.EnumerateArray().Select(e => e.GetString()!).ToArray();
                    Assert.Equal(expected, channels);
                }
            }
        }
        var unknown = await GetAsync("/aggregates_by/build_date/channels/");
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task Dates_are_sorted_by_version_then_date_descending()
    {
        foreach (var family in new[] { AggregatesModel.BuildId, AggregatesModel.SubmissionDate })
        {
            foreach (var channel in new[] { "nightly", "release", "aurora" })
            {
                var expected = Model.Keys().Where(k => k.Family == family && k.Channel == channel)
                    .OrderByDescending(k => int.Parse(k.Version, CultureInfo.InvariantCulture)).ThenByDescending(k => k.Date, StringComparer.Ordinal)
                    .Select(k => $"{k.Date}/{k.Version}").ToList();
                foreach (var url in new[] { $"/aggregates_by/{family}/channels/{channel}/dates/", $"/aggregates_by/{family}/channels/{channel}/dates" })
                {
                    var r = await GetAsync(url);
                    Assert.True(r.Status == HttpStatusCode.OK, $"{url}: {(int)r.Status} {r.Text}");
                    var actual = r.Json.EnumerateArray().Select(e => $"{e.GetProperty("date").GetString()}/{e.GetProperty("version").GetString()}").ToList();
                    Assert.True(expected.SequenceEqual(actual), $"{url}: got [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");
                }
            }
        }
        // The submission-date family really has several dates (imported pings), so the date order is exercised.
        Assert.True(Model.Keys().Count(k => k.Family == AggregatesModel.SubmissionDate && k.Channel == "nightly" && k.Version == "58") >= 3);

        var unknown = await GetAsync("/aggregates_by/build_id/channels/no-such-channel/dates/");
        Assert.Equal(HttpStatusCode.OK, unknown.Status);
        Assert.Equal(JsonValueKind.Array, unknown.Json.ValueKind);
        Assert.Equal(0, unknown.Json.GetArrayLength());

        var badPrefix = await GetAsync("/aggregates_by/nope/channels/nightly/dates/");
        Assert.Equal(HttpStatusCode.NotFound, badPrefix.Status);
    }

    [Fact]
    public async Task Filters_list_every_value_seen_for_a_channel_and_version()
    {
        foreach (var (channel, version) in new[] { ("nightly", "58"), ("nightly", "57"), ("release", "58"), ("nightly", "23"), ("release", "23") })
        {
            var obs = Model.Snapshot().Where(o => o.Channel == channel && o.Version == version).ToList();
            string[] Sorted(IEnumerable<string> values) => values.Where(v => v.Length > 0).Distinct().Order(StringComparer.Ordinal).ToArray();
            foreach (var url in new[] { $"/filters/?channel={channel}&version={version}", $"/filters?channel={channel}&version={version}" })
            {
                var r = await GetAsync(url);
                Assert.True(r.Status == HttpStatusCode.OK, $"{url}: {(int)r.Status} {r.Text}");
                var body = r.Json;
                string[] Values(string name) => body.GetProperty(name).EnumerateArray().Select(e => e.GetString()!).ToArray();
                var metrics = Values("metric");
                var expectedMetrics = Sorted(obs.Select(o => o.Metric));
                Assert.True(expectedMetrics.SequenceEqual(metrics.Order(StringComparer.Ordinal)),
                    $"{url}: metric differs; missing [{string.Join(',', expectedMetrics.Except(metrics))}], unexpected [{string.Join(',', metrics.Except(expectedMetrics))}]");
                Assert.Equal(Sorted(obs.Select(o => o.App)), Values("application").Order(StringComparer.Ordinal));
                Assert.Equal(Sorted(obs.Select(o => o.Arch)), Values("architecture").Order(StringComparer.Ordinal));
                Assert.Equal(Sorted(obs.Select(o => o.Os + "," + o.OsVersion)), Values("os").Order(StringComparer.Ordinal));
                Assert.Equal(Sorted(obs.Select(o => o.Process)), Values("child").Order(StringComparer.Ordinal));
            }
        }
        // os pairs: Linux versions are cut to major.minor
        var nightly = (await GetAsync("/filters/?channel=nightly&version=58")).Json;
        Assert.Contains("Linux,4.4", nightly.GetProperty("os").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["content", "gpu", "parent"], nightly.GetProperty("child").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        // the metric without a definition is listed (undeclared metrics are visible in filters)
        Assert.Contains(AggregatesPopulation.Undeclared.Name, nightly.GetProperty("metric").EnumerateArray().Select(e => e.GetString()));

        foreach (var (url, parameter) in new[] { ("/filters/?version=58", "channel"), ("/filters/?channel=nightly", "version"), ("/filters/", "channel") })
        {
            var r = await GetAsync(url);
            Assert.True(r.Status == HttpStatusCode.BadRequest, $"{url}: {(int)r.Status} {r.Text}");
            Assert.Contains(parameter, r.Text);
        }
        foreach (var url in new[] { "/filters/?channel=nightly&version=1", "/filters/?channel=no-such-channel&version=58" })
        {
            var r = await GetAsync(url);
            Assert.True(r.Status == HttpStatusCode.NotFound, $"{url}: {(int)r.Status} {r.Text}");
        }
    }

    // ------------------------------------------------------------------ route 4: the main query

    [Fact]
    public async Task Every_metric_of_every_aggregate_matches_the_model()
    {
        var work = new List<(string Family, string Channel, string Version, string Date, string Metric)>();
        foreach (var k in Model.Keys())
        {
            foreach (var metric in Model.Metrics(k.Family, k.Channel, k.Version, k.Date))
            {
                work.Add((k.Family, k.Channel, k.Version, k.Date, metric));
            }
        }
        var problems = new System.Collections.Concurrent.ConcurrentBag<string>();
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (w, _) =>
        {
            string url = Q(w.Family, w.Channel, w.Version, [w.Date], w.Metric);
            var reply = await GetAsync(url);
            var problem = Compare(Expect(w.Family, w.Channel, w.Version, [w.Date], w.Metric), reply, url);
            if (problem is not null)
            {
                problems.Add(problem);
                return;
            }
            var bounds = ExpectedBounds(w.Metric);
            var buckets = reply.Json.GetProperty("buckets");
            if (bounds is not null && (buckets.EnumerateArray().Any(b => b.ValueKind != JsonValueKind.Number) || !Longs(buckets).SequenceEqual(bounds)))
            {
                problems.Add($"{url}: buckets {Clip(buckets.ToString())}, expected [{string.Join(',', bounds)}]");
            }
        });
        output.WriteLine($"{work.Count} queries in {sw.ElapsedMilliseconds} ms");
        Assert.True(work.Count > 500, $"only {work.Count} queries");
        Assert.True(problems.IsEmpty, $"{problems.Count} of {work.Count} queries differ from the model:\n" + string.Join("\n", problems.Order().Take(25)));
    }

    [Fact]
    public async Task Data_follows_the_order_of_dates_and_leaves_out_dates_without_data()
    {
        string[] dates = ["20171103", "20000101", "20171101", "20171102"];
        string url = Q("build_id", "nightly", "58", dates, AggregatesPopulation.Checkerboard.Name);
        var reply = await GetAsync(url);
        Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
        Assert.Equal(["20171103", "20171101", "20171102"], ParseData(reply.Json).Select(e => e.Date));
        await AssertQueryAsync("build_id", "nightly", "58", dates, AggregatesPopulation.Checkerboard.Name);
        await AssertQueryAsync("submission_date", "nightly", "58", [fx.Today, "20000101", .. fx.ImportedDates], "SIMPLE_MEASURES_UPTIME");
        await AssertQueryAsync("submission_date", "release", "57", [.. fx.ImportedDates.Reverse(), fx.Today], AggregatesPopulation.TabCountScalar);

        var none = await GetAsync(Q("build_id", "nightly", "58", ["20000101", "20000102"], AggregatesPopulation.Checkerboard.Name));
        Assert.Equal(HttpStatusCode.NotFound, none.Status);
        // a date of another version has no data for this version
        var otherVersion = await GetAsync(Q("build_id", "nightly", "57", ["20171101"], AggregatesPopulation.Checkerboard.Name));
        Assert.Equal(HttpStatusCode.NotFound, otherVersion.Status);
    }

    [Fact]
    public async Task Build_id_aggregates_sum_over_all_submission_dates()
    {
        // Find a build date whose pings arrived on several days (live + imported).
        var candidates = Model.Snapshot().Where(o => o.Metric == "SIMPLE_MEASURES_UPTIME")
            .GroupBy(o => (o.Channel, o.Version, o.BuildDate))
            .Where(g => g.Select(o => o.SubDate).Distinct().Count() >= 2)
            .ToList();
        Assert.NotEmpty(candidates);
        foreach (var g in candidates)
        {
            var (channel, version, buildDate) = g.Key;
            string url = Q("build_id", channel, version, [buildDate], "SIMPLE_MEASURES_UPTIME");
            var r = await GetAsync(url);
            Assert.True(r.Status == HttpStatusCode.OK, $"{url}: {(int)r.Status}");
            Assert.Equal(g.Count(), ParseData(r.Json).Single().Count);
        }
        await AssertQueryAsync("build_id", "release", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name);
    }

    private static string[] BuildDates(string version) => AggregatesApiFixture.BuildDates[version];

    public static TheoryData<AggFilter> DimensionFilters => new()
    {
        new AggFilter(App: "Fennec"),
        new AggFilter(App: "Firefox"),
        new AggFilter(Arch: "x86"),
        new AggFilter(Arch: "x86-64"),
        new AggFilter(Os: "Linux"),
        new AggFilter(Os: "Linux", OsVersion: "4.4"),
        new AggFilter(Os: "Windows_NT"),
        new AggFilter(OsVersion: "6.1"),
        new AggFilter(Os: "Darwin", OsVersion: "17.2.0"),
        new AggFilter(App: "Firefox", Os: "Windows_NT", Process: "parent"),
        new AggFilter(App: "Firefox", Arch: "x86-64", Process: "content"),
        new AggFilter(Os: "Windows_NT", OsVersion: "10.0", Arch: "x86", App: "Firefox"),
        new AggFilter(Os: "Linux", OsVersion: "4.4.12"), // as sent, before normalisation: no data
    };

    [Theory]
    [MemberData(nameof(DimensionFilters))]
    public async Task Dimension_filters_select_what_the_model_selects(AggFilter filter)
    {
        foreach (var metric in new[] { AggregatesPopulation.Checkerboard.Name, "SIMPLE_MEASURES_UPTIME", AggregatesPopulation.Consumers.Name, AggregatesPopulation.TabCountScalar })
        {
            await AssertQueryAsync("build_id", "nightly", "58", BuildDates("58"), metric, filter);
            await AssertQueryAsync("submission_date", "release", "57", [fx.Today, .. fx.ImportedDates], metric, filter);
        }
    }

    [Theory]
    [InlineData("true", "content")]
    [InlineData("false", "parent")]
    [InlineData("content", "content")]
    [InlineData("parent", "parent")]
    [InlineData("gpu", "gpu")]
    public async Task Child_selects_the_process(string child, string process)
    {
        string metric = AggregatesPopulation.Checkerboard.Name;
        foreach (var (family, channel, version, dates) in new[]
        {
            ("build_id", "nightly", "58", BuildDates("58")),
            ("submission_date", "release", "58", new[] { fx.Today }),
        })
        {
            string url = $"{Q(family, channel, version, dates, metric)}&child={child}";
            var reply = await GetAsync(url);
            var problem = Compare(Model.Expect(family, channel, version, dates, metric, new AggFilter(Process: process)), reply, url);
            Assert.True(problem is null, problem);
        }
        // parent + content + gpu = everything
        var all = Model.Expect("build_id", "nightly", "58", BuildDates("58"), metric, AggFilter.None).Sum(e => e.Count);
        var split = new[] { "parent", "content", "gpu" }.Sum(p => Model.Expect("build_id", "nightly", "58", BuildDates("58"), metric, new AggFilter(Process: p)).Sum(e => e.Count));
        Assert.Equal(all, split);
    }

    [Fact]
    public async Task Keyed_histograms_answer_one_entry_per_label_and_filter_by_label()
    {
        string metric = AggregatesPopulation.Verdict2.Name;
        var dates = BuildDates("58");
        string url = Q("build_id", "nightly", "58", dates, metric);
        var reply = await GetAsync(url);
        Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
        var data = ParseData(reply.Json);
        Assert.Equal(AggregatesPopulation.VerdictKeys.Order(StringComparer.Ordinal), data.Where(d => d.Date == dates[0]).Select(d => d.Label).Order(StringComparer.Ordinal));
        await AssertQueryAsync("build_id", "nightly", "58", dates, metric);
        await AssertQueryAsync("build_id", "nightly", "58", dates, metric, new AggFilter(Label: "Zip"));  // verbatim key
        await AssertQueryAsync("submission_date", "release", "58", [fx.Today, .. fx.ImportedDates], metric, new AggFilter(Label: "exe", App: "Firefox"));
        var zip = ParseData((await GetAsync(Q("build_id", "nightly", "58", dates, metric, new AggFilter(Label: "Zip")))).Json);
        Assert.All(zip, e => Assert.Equal("Zip", e.Label));
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(Q("build_id", "nightly", "58", dates, metric, new AggFilter(Label: "zip")))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(Q("build_id", "nightly", "58", dates, metric, new AggFilter(Label: "no-such-key")))).Status);

        // keyed scalars: label = key upper-cased
        await AssertQueryAsync("build_id", "nightly", "58", dates, AggregatesPopulation.ToolboxScalar);
        await AssertQueryAsync("build_id", "nightly", "58", dates, AggregatesPopulation.ToolboxScalar, new AggFilter(Label: "INSPECTOR"));
        var toolbox = ParseData((await GetAsync(Q("build_id", "nightly", "58", dates, AggregatesPopulation.ToolboxScalar))).Json);
        Assert.Equal(["INSPECTOR", "WEBCONSOLE"], toolbox.Select(e => e.Label).Distinct().Order(StringComparer.Ordinal));
        // plain metrics have label ""
        var plain = ParseData((await GetAsync(Q("build_id", "nightly", "58", dates, AggregatesPopulation.Checkerboard.Name))).Json);
        Assert.All(plain, e => Assert.Equal("", e.Label));
    }

    [Theory]
    [InlineData("CHECKERBOARD_DURATION", "exponential")]
    [InlineData("APPLICATION_REPUTATION_REMOTE_LOOKUP_RESPONSE_TIME", "linear")]
    [InlineData("A11Y_CONSUMERS", "enumerated")]
    [InlineData("APPLICATION_REPUTATION_SHOULD_BLOCK", "boolean")]
    [InlineData("A11Y_INSTANTIATED_FLAG", "flag")]
    public async Task Buckets_are_the_definition_lower_bounds(string metric, string kind)
    {
        string url = Q("build_id", "nightly", "58", BuildDates("58"), metric);
        var reply = await GetAsync(url);
        Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
        var body = reply.Json;
        Assert.Equal(ExpectedBounds(metric)!, Longs(body.GetProperty("buckets")));
        Assert.Equal(kind, body.GetProperty("kind").GetString());
        Assert.Equal(ModernDescription(metric), body.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Spec_worked_examples_of_bucket_layouts_hold_for_the_test_model()
    {
        // Guards the test's own layout code against the worked bucket examples.
        Assert.Equal([0, 1, 13, 26, 38, 51, 63, 75, 88, 100], SpecLayouts.Linear(1, 100, 10));
        Assert.Equal([0, 1, 3, 8, 21, 57, 154, 414, 1114, 3000], SpecLayouts.Exponential(1, 3000, 10));
        var e = SpecLayouts.Exponential(1, 10000, 50);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20], e.Take(14));
        Assert.Equal([7083, 8416, 10000], e.TakeLast(3));
        // The undeclared histogram keeps the layout its pings declare (linear 1..100, 10 buckets).
        string url = Q("build_id", "nightly", "58", BuildDates("58"), AggregatesPopulation.Undeclared.Name);
        var reply = await GetAsync(url);
        Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
        Assert.Equal([0, 1, 13, 26, 38, 51, 63, 75, 88, 100], Longs(reply.Json.GetProperty("buckets")));
        Assert.Equal("linear", reply.Json.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Categorical_buckets_are_the_label_strings()
    {
        var def = fx.ModernSample.GetProperty("APPLICATION_REPUTATION_BINARY_TYPE");
        var labels = def.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
        foreach (var (metric, version) in new[] { ("APPLICATION_REPUTATION_BINARY_TYPE", "58"), ("APPLICATION_REPUTATION_SERVER_VERDICT_2", "57") })
        {
            var metricLabels = fx.ModernSample.GetProperty(metric).GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();
            string url = Q("build_id", "nightly", version, BuildDates(version), metric);
            var reply = await GetAsync(url);
            Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
            var body = reply.Json;
            var buckets = body.GetProperty("buckets").EnumerateArray().ToList();
            Assert.Equal("categorical", body.GetProperty("kind").GetString());
            Assert.Equal(ModernDescription(metric), body.GetProperty("description").GetString());
            // n = max(labels, n_values, 50) → 51 buckets; the first ones are the labels in order
            Assert.Equal(51, buckets.Count);
            Assert.All(buckets.Take(metricLabels.Length), b => Assert.Equal(JsonValueKind.String, b.ValueKind));
            Assert.Equal(metricLabels, buckets.Take(metricLabels.Length).Select(b => b.GetString()!));
            Assert.All(ParseData(body), e => Assert.Equal(buckets.Count, e.Histogram.Length));
        }
        Assert.Equal(5, labels.Length);
    }

    [Fact]
    public async Task Simple_measures_scalars_and_count_histograms_use_their_fixed_layouts()
    {
        var dates = BuildDates("58");
        foreach (var (metric, bounds) in new[]
        {
            ("SIMPLE_MEASURES_UPTIME", SpecLayouts.SimpleMeasures),
            ("SIMPLE_MEASURES_JS_CUSTOMITER", SpecLayouts.SimpleMeasures),
            (AggregatesPopulation.TabCountScalar, SpecLayouts.Scalars),
            (AggregatesPopulation.ToolboxScalar, SpecLayouts.Scalars),
            (AggregatesPopulation.CountHistogram, SpecLayouts.CountObservations),
            (AggregatesPopulation.TopLevelDocs, SpecLayouts.CountObservations),
        })
        {
            string url = Q("build_id", "release", "58", dates, metric);
            var reply = await GetAsync(url);
            Assert.True(reply.Status == HttpStatusCode.OK, $"{url}: {(int)reply.Status} {reply.Text}");
            Assert.Equal(bounds, Longs(reply.Json.GetProperty("buckets")));
            await AssertQueryAsync("build_id", "release", "58", dates, metric);
        }
        // simple measures of the classic ping too (parent process)
        await AssertQueryAsync("build_id", "release", "23", [AggregatesApiFixture.ClassicReleaseBuild], "SIMPLE_MEASURES_UPTIME");
        await AssertQueryAsync("build_id", "nightly", "23", [AggregatesApiFixture.ClassicNightlyBuild], "SIMPLE_MEASURES_ADDONMANAGER_INSTALLEDUNPACKED");
        // a scalar reported by parent and content is split by child
        await AssertQueryAsync("submission_date", "nightly", "58", [fx.Today], AggregatesPopulation.TabCountScalar, new AggFilter(Process: "content"));
        await AssertQueryAsync("submission_date", "nightly", "58", [fx.Today], AggregatesPopulation.TabCountScalar, new AggFilter(Process: "parent"));
    }

    [Fact]
    public async Task Use_counters_answer_a_boolean_histogram_against_their_denominator()
    {
        foreach (var (metric, denominator) in new[]
        {
            (AggregatesPopulation.UseCounterPage, AggregatesPopulation.TopLevelDocs),
            (AggregatesPopulation.UseCounterDocument, AggregatesPopulation.ContentDocs),
        })
        {
            foreach (var (family, channel, version, dates) in new[]
            {
                ("build_id", "nightly", "58", BuildDates("58")),
                ("submission_date", "release", "57", new[] { fx.Today, fx.ImportedDates[0], fx.ImportedDates[1] }),
            })
            {
                string url = Q(family, channel, version, dates, metric);
                var reply = await GetAsync(url);
                // sum of a use counter is not specified: compare histogram and count
                var problem = Compare(Model.ExpectUseCounter(family, channel, version, dates, metric, AggFilter.None), reply, url, compareSum: false);
                Assert.True(problem is null, problem);
                var body = reply.Json;
                Assert.Equal([0, 1, 2], Longs(body.GetProperty("buckets")));
                Assert.Equal("boolean", body.GetProperty("kind").GetString());
                // bucket 0 + bucket 1 = the denominator's summed sum
                foreach (var e in ParseData(body))
                {
                    var den = Model.Expect(family, channel, version, [e.Date], denominator, AggFilter.None).Single();
                    Assert.Equal(den.Sum, e.Histogram[0] + e.Histogram[1]);
                    Assert.Equal(den.Count, e.Count);
                }
            }
            // with filters, the denominator is filtered the same way
            var filter = new AggFilter(App: "Firefox", Os: "Windows_NT");
            string furl = Q("build_id", "nightly", "58", BuildDates("58"), metric, filter);
            var filtered = await GetAsync(furl);
            Assert.True(Compare(Model.ExpectUseCounter("build_id", "nightly", "58", BuildDates("58"), metric, filter), filtered, furl, compareSum: false) is null,
                Compare(Model.ExpectUseCounter("build_id", "nightly", "58", BuildDates("58"), metric, filter), filtered, furl, compareSum: false));
        }

        // A use counter never seen still answers, with bucket 1 = 0 and bucket 0 = the denominator.
        string never = "USE_COUNTER2_NEVER_SEEN_FEATURE_PAGE";
        Assert.DoesNotContain(Model.Snapshot(), o => o.Metric == never);
        string nurl = Q("build_id", "nightly", "58", BuildDates("58"), never);
        var nreply = await GetAsync(nurl);
        Assert.True(nreply.Status == HttpStatusCode.OK, $"{nurl}: {(int)nreply.Status} {nreply.Text}");
        foreach (var e in ParseData(nreply.Json))
        {
            var den = Model.Expect("build_id", "nightly", "58", [e.Date], AggregatesPopulation.TopLevelDocs, AggFilter.None).Single();
            Assert.Equal(0, e.Histogram[1]);
            Assert.Equal(den.Sum, e.Histogram[0]);
            Assert.Equal(den.Count, e.Count);
        }
        Assert.Equal(BuildDates("58").Length, ParseData(nreply.Json).Count);
    }

    [Theory]
    [InlineData("SEARCH_COUNTS")]                                   // excluded by default
    [InlineData("VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION")]        // excluded by default
    [InlineData("SCALARS_BROWSER.ENGAGEMENT.NAVIGATION.URLBAR")]    // browser.engagement.navigation* excluded
    [InlineData("SCALARS_TELEMETRY.TEST.STRING_KIND")]              // string scalars skipped
    [InlineData("SCALARS_TELEMETRY.TEST.BOOLEAN_KIND")]             // boolean scalars skipped
    [InlineData("CHECKERBOARD_PEAK")]                               // null histograms skipped
    [InlineData("SIMPLE_MEASURES_ADDONMANAGER_DEEPER")]             // only one nesting level
    [InlineData("SIMPLE_MEASURES_SAVEDPINGSTEXT")]                  // not a number
    [InlineData("NO_SUCH_METRIC")]
    public async Task Excluded_skipped_and_unknown_metrics_answer_404(string metric)
    {
        foreach (var channel in new[] { "nightly", "release" })
        {
            string url = Q("build_id", channel, "58", BuildDates("58"), metric);
            var reply = await GetAsync(url);
            Assert.True(reply.Status == HttpStatusCode.NotFound, $"{url}: {(int)reply.Status} {Clip(reply.Text)}");
        }
    }

    [Fact]
    public async Task Histograms_with_a_negative_or_fractional_sum_are_skipped()
    {
        // CHECKERBOARD_SEVERITY: half the pings send it valid, a quarter with sum -5, a quarter with sum 12.5.
        int sentValid = Model.Snapshot().Count(o => o.Metric == AggregatesPopulation.Severity.Name && o.Channel == "nightly" && o.Version == "58");
        Assert.True(sentValid > 0);
        await AssertQueryAsync("build_id", "nightly", "58", BuildDates("58"), AggregatesPopulation.Severity.Name);
        await AssertQueryAsync("submission_date", "nightly", "58", [fx.Today, .. fx.ImportedDates], AggregatesPopulation.Severity.Name);
    }

    [Fact]
    public async Task The_real_classic_ping_is_served_with_the_reference_buckets_of_its_revision()
    {
        var refs = fx.ReferenceHistograms;
        foreach (var metric in new[] { "CYCLE_COLLECTOR", "GC_MAX_PAUSE_MS", "A11Y_IATABLE_USAGE_FLAG", "STARTUP_HTTP_TRANSACTION_IS_SSL", "MEMORY_RESIDENT", "GC_MS", "STARTUP_DNS_LOOKUP_TIME" })
        {
            foreach (var (channel, build) in new[] { ("release", AggregatesApiFixture.ClassicReleaseBuild), ("nightly", AggregatesApiFixture.ClassicNightlyBuild) })
            {
                string url = Q("build_id", channel, "23", [build], metric);
                var reply = await GetAsync(url);
                var expected = Model.Expect("build_id", channel, "23", [build], metric, AggFilter.None);
                Assert.True(expected.Count == 1, $"model has no {metric}");
                var problem = Compare(expected, reply, url);
                Assert.True(problem is null, problem);
                string refName = refs.TryGetProperty(metric, out _) ? metric : metric[8..];
                Assert.Equal(Longs(refs.GetProperty(refName).GetProperty("buckets")), Longs(reply.Json.GetProperty("buckets")));
            }
        }
        // the numbers of the real ping (CYCLE_COLLECTOR sum 13370, 139 in bucket 0) times the copies sent on release
        var cc = ParseData((await GetAsync(Q("build_id", "release", "23", [AggregatesApiFixture.ClassicReleaseBuild], "CYCLE_COLLECTOR"))).Json).Single();
        Assert.Equal(AggregatesApiFixture.ClassicReleaseCopies, cc.Count);
        Assert.Equal(AggregatesApiFixture.ClassicReleaseCopies * 13370L, cc.Sum);
        Assert.Equal(AggregatesApiFixture.ClassicReleaseCopies * 139L, cc.Histogram[0]);
        var kind = (await GetAsync(Q("build_id", "release", "23", [AggregatesApiFixture.ClassicReleaseBuild], "CYCLE_COLLECTOR"))).Json;
        Assert.Equal("exponential", kind.GetProperty("kind").GetString());
        Assert.Equal("Time spent on one cycle collection (ms)", kind.GetProperty("description").GetString());
    }

    // ------------------------------------------------------------------ errors

    public static TheoryData<string, int, string> BadQueries => new()
    {
        { "/aggregates_by/build_id/channels/nightly/?dates=20171101&metric=CHECKERBOARD_DURATION", 400, "version" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171101", 400, "metric" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&metric=CHECKERBOARD_DURATION", 400, "dates" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=&metric=CHECKERBOARD_DURATION", 400, "dates" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=2017-11-01&metric=CHECKERBOARD_DURATION", 400, "dates" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171341&metric=CHECKERBOARD_DURATION", 400, "dates" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171101,yesterday&metric=CHECKERBOARD_DURATION", 400, "dates" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171101&metric=CHECKERBOARD_DURATION&child=maybe", 400, "child" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171101&metric=NO_SUCH_METRIC", 404, "" },
        { "/aggregates_by/build_id/channels/nightly/?version=58&dates=20000101&metric=CHECKERBOARD_DURATION", 404, "" },
        { "/aggregates_by/build_id/channels/nightly/?version=1&dates=20171101&metric=CHECKERBOARD_DURATION", 404, "" },
        { "/aggregates_by/build_id/channels/no-such-channel/?version=58&dates=20171101&metric=CHECKERBOARD_DURATION", 404, "" },
        { "/aggregates_by/build_date/channels/nightly/?version=58&dates=20171101&metric=CHECKERBOARD_DURATION", 404, "" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task Bad_queries_are_refused_with_the_right_status_naming_the_parameter(string url, int status, string parameter)
    {
        var reply = await GetAsync(url);
        Assert.True((int)reply.Status == status, $"{url}: expected {status}, got {(int)reply.Status} {Clip(reply.Text)}");
        Assert.Equal("application/problem+json", reply.ContentType);
        if (parameter.Length > 0)
        {
            Assert.Contains($"'{parameter}'", reply.Text);
        }
    }

    [Fact]
    public async Task An_unknown_parameter_is_refused_naming_the_allowed_set()
    {
        string url = "/aggregates_by/build_id/channels/nightly/?version=58&dates=20171101&metric=CHECKERBOARD_DURATION&platform=Windows";
        var reply = await GetAsync(url);
        Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{url}: {(int)reply.Status} {reply.Text}");
        Assert.Equal("application/problem+json", reply.ContentType);
        Assert.Contains("platform", reply.Text);
        foreach (var allowed in new[] { "version", "dates", "metric", "application", "architecture", "os", "osVersion", "label", "child" })
        {
            Assert.Contains(allowed, reply.Text);
        }
    }

    // ------------------------------------------------------------------ restricted channels

    [Fact]
    public async Task Restricted_channel_needs_a_read_token_except_for_public_metrics()
    {
        string restricted = Q("build_id", "release", "23", [AggregatesApiFixture.ClassicReleaseBuild], "CYCLE_COLLECTOR");
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(restricted, bearer: null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(restricted, bearer: "wrong-token")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(restricted, bearer: SiloHost.ReadToken + "x")).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(restricted, bearer: SiloHost.ReadToken)).Status);
        var basic = await GetAsync(restricted, bearer: null, configure: r => r.Headers.TryAddWithoutValidation("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("u:" + SiloHost.ReadToken))));
        Assert.Equal(HttpStatusCode.Forbidden, basic.Status);

        // Aggregates:PublicMetrics stays public on the restricted channel
        string pub = Q("build_id", "release", "58", BuildDates("58"), AggregatesApiFixture.PublicMetric);
        var anonymous = await GetAsync(pub, bearer: null);
        Assert.True(anonymous.Status == HttpStatusCode.OK, $"{pub}: {(int)anonymous.Status} {anonymous.Text}");
        Assert.Null(Compare(Model.Expect("build_id", "release", "58", BuildDates("58"), AggregatesApiFixture.PublicMetric, AggFilter.None), anonymous, pub));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(pub, bearer: "wrong-token")).Status);

        // the other routes of the restricted channel
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/aggregates_by/build_id/channels/release/dates/", bearer: null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/aggregates_by/build_id/channels/release/dates/")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/filters/?channel=release&version=58", bearer: null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/filters/?channel=release&version=58")).Status);

        // unrestricted channels need no token
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Q("build_id", "nightly", "23", [AggregatesApiFixture.ClassicNightlyBuild], "CYCLE_COLLECTOR"), bearer: null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(Q("build_id", "nightly", "23", [AggregatesApiFixture.ClassicNightlyBuild], "CYCLE_COLLECTOR"), bearer: "wrong-token")).Status);
    }

    // ------------------------------------------------------------------ caching, CORS, slashes

    [Fact]
    public async Task ETag_honours_If_None_Match_and_changes_when_a_ping_arrives()
    {
        string url = Q("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], "SIMPLE_MEASURES_UPTIME");
        var first = await GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        var etag = first.Response.Headers.ETag?.ToString();
        Assert.False(string.IsNullOrEmpty(etag), "no ETag header");

        var again = await GetAsync(url);
        Assert.Equal(etag, again.Response.Headers.ETag?.ToString());

        var notModified = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.NotModified, notModified.Status);
        Assert.Equal("", notModified.Text);
        var otherTag = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", "\"something-else\""));
        Assert.Equal(HttpStatusCode.OK, otherTag.Status);

        await fx.SubmitLiveAsync(new Random(4242), "aurora", AggregatesApiFixture.AuroraVersion, AggregatesApiFixture.AuroraBuild);
        var sw = Stopwatch.StartNew();
        string? newTag = null;
        bool changed = await TestPaths.EventuallyAsync(async () =>
        {
            var r = await GetAsync(url);
            newTag = r.Response.Headers.ETag?.ToString();
            return r.Status == HttpStatusCode.OK && newTag != etag;
        }, TimeSpan.FromSeconds(10));
        output.WriteLine($"ETag changed after {sw.ElapsedMilliseconds} ms");
        Assert.True(changed, "ETag unchanged 10 s after a new ping for the date");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));

        var stale = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", etag));
        Assert.Equal(HttpStatusCode.OK, stale.Status);
        Assert.Null(Compare(Model.Expect("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], "SIMPLE_MEASURES_UPTIME", AggFilter.None), stale, url));
        var fresh = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", newTag));
        Assert.Equal(HttpStatusCode.NotModified, fresh.Status);

        // The ETag belongs to the query: another metric of the same aggregate has another tag.
        var other = await GetAsync(Q("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], AggregatesPopulation.Checkerboard.Name),
            configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", newTag));
        Assert.Equal(HttpStatusCode.OK, other.Status);
    }

    [Fact]
    public async Task If_None_Match_uses_the_weak_comparison_and_star_of_HTTP()
    {
        // RFC 9110 §13.1.2: If-None-Match is evaluated with the weak comparison function, and "*"
        // matches any current representation. Proxies that compress (nginx gzip) turn "x" into W/"x".
        string url = Q("build_id", "nightly", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name);
        var first = await GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        string etag = first.Response.Headers.ETag!.ToString();
        Assert.StartsWith("\"", etag);
        var list = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", $"\"other\", {etag}"));
        Assert.Equal(HttpStatusCode.NotModified, list.Status);
        var weak = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", "W/" + etag));
        var star = await GetAsync(url, configure: r => r.Headers.TryAddWithoutValidation("If-None-Match", "*"));
        Assert.True(weak.Status == HttpStatusCode.NotModified && star.Status == HttpStatusCode.NotModified,
            $"If-None-Match: W/{etag} → {(int)weak.Status} (expected 304); If-None-Match: * → {(int)star.Status} (expected 304)");
    }

    [Fact]
    public async Task A_newly_accepted_ping_is_visible_within_10_seconds()
    {
        string date = DateTime.UtcNow.ToString("yyyyMMdd");
        string byBuild = Q("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], "SIMPLE_MEASURES_UPTIME");
        string bySubmission = Q("submission_date", "aurora", AggregatesApiFixture.AuroraVersion, [date], "SIMPLE_MEASURES_UPTIME");
        await fx.SubmitLiveAsync(new Random(777), "aurora", AggregatesApiFixture.AuroraVersion, AggregatesApiFixture.AuroraBuild);
        var sw = Stopwatch.StartNew();
        long expectedBuild = Model.Expect("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], "SIMPLE_MEASURES_UPTIME", AggFilter.None).Single().Count;
        long expectedSubmission = Model.Expect("submission_date", "aurora", AggregatesApiFixture.AuroraVersion, [date], "SIMPLE_MEASURES_UPTIME", AggFilter.None).Single().Count;
        async Task<long> CountAsync(string url)
        {
            var r = await GetAsync(url);
            return r.Status == HttpStatusCode.OK ? ParseData(r.Json).Sum(e => e.Count) : 0;
        }
        bool visible = await TestPaths.EventuallyAsync(async () =>
            await CountAsync(byBuild) == expectedBuild && await CountAsync(bySubmission) == expectedSubmission, TimeSpan.FromSeconds(12));
        var elapsed = sw.Elapsed;
        output.WriteLine($"new ping visible after {elapsed.TotalMilliseconds:F0} ms");
        Assert.True(visible && elapsed < TimeSpan.FromSeconds(10), $"visible={visible} after {elapsed.TotalMilliseconds:F0} ms (limit 10 s)");
        Assert.Null(Compare(Model.Expect("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], AggregatesPopulation.Checkerboard.Name, AggFilter.None),
            await GetAsync(Q("build_id", "aurora", AggregatesApiFixture.AuroraVersion, [AggregatesApiFixture.AuroraBuild], AggregatesPopulation.Checkerboard.Name)), "aurora checkerboard"));
    }

    [Fact]
    public async Task CORS_allows_any_origin_and_preflight_with_authorization()
    {
        const string origin = "https://dashboard.example.org";
        void WithOrigin(HttpRequestMessage r) => r.Headers.TryAddWithoutValidation("Origin", origin);
        foreach (var url in new[]
        {
            "/aggregates_by/build_id/channels/",
            "/aggregates_by/submission_date/channels/nightly/dates/",
            "/filters/?channel=nightly&version=58",
            Q("build_id", "nightly", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name),
            Q("build_id", "release", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name),
            "/aggregates_by/build_id/channels/nightly/?version=58&metric=CHECKERBOARD_DURATION", // 400
        })
        {
            var r = await GetAsync(url, configure: WithOrigin);
            Assert.True(r.Response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values), $"{url} ({(int)r.Status}): no Access-Control-Allow-Origin");
            Assert.Equal("*", Assert.Single(values));
        }

        string query = Q("build_id", "release", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name);
        var preflight = new HttpRequestMessage(HttpMethod.Options, query);
        preflight.Headers.TryAddWithoutValidation("Origin", origin);
        preflight.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "GET");
        preflight.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "authorization,if-none-match");
        var p = await Silo.Http.SendAsync(preflight);
        Assert.True(p.IsSuccessStatusCode, $"preflight: {(int)p.StatusCode}");
        Assert.True(p.Headers.TryGetValues("Access-Control-Allow-Origin", out var allowOrigin), "preflight: no Access-Control-Allow-Origin");
        Assert.Equal("*", Assert.Single(allowOrigin));
        Assert.True(p.Headers.TryGetValues("Access-Control-Allow-Methods", out var methods), "preflight: no Access-Control-Allow-Methods");
        Assert.Contains("GET", string.Join(',', methods), StringComparison.OrdinalIgnoreCase);
        Assert.True(p.Headers.TryGetValues("Access-Control-Allow-Headers", out var headers), "preflight: no Access-Control-Allow-Headers");
        Assert.Contains("authorization", string.Join(',', headers), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Trailing_slash_is_optional_on_every_route()
    {
        string v = "version=58&dates=20171101,20171102&metric=CHECKERBOARD_DURATION";
        foreach (var (with, without) in new[]
        {
            ("/aggregates_by/build_id/channels/", "/aggregates_by/build_id/channels"),
            ("/aggregates_by/submission_date/channels/nightly/dates/", "/aggregates_by/submission_date/channels/nightly/dates"),
            ("/filters/?channel=nightly&version=57", "/filters?channel=nightly&version=57"),
            ($"/aggregates_by/build_id/channels/nightly/?{v}", $"/aggregates_by/build_id/channels/nightly?{v}"),
            ($"/aggregates_by/build_id/channels/release/?{v}", $"/aggregates_by/build_id/channels/release?{v}"),
        })
        {
            var a = await GetAsync(with);
            var b = await GetAsync(without);
            Assert.True(a.Status == HttpStatusCode.OK, $"{with}: {(int)a.Status}");
            Assert.True(b.Status == HttpStatusCode.OK, $"{without}: {(int)b.Status}");
            Assert.Equal(a.Text, b.Text);
        }
    }

    // ------------------------------------------------------------------ persistence

    [Fact]
    public async Task Aggregates_survive_a_restart_on_the_same_database()
    {
        // 1. Everything sent so far is visible (the fixture waited); let the partitions checkpoint it all.
        var sw = Stopwatch.StartNew();
        bool checkpointed = await fx.WaitForCheckpointsAsync(TimeSpan.FromSeconds(45));
        output.WriteLine($"partition checkpoints covered every landed batch after {sw.ElapsedMilliseconds} ms more");
        Assert.True(checkpointed, "partition checkpoints did not reach the landed batches within 45 s");

        // 2. A few more pings that are visible but not checkpointed when the silo stops (restart "at any moment").
        var rng = new Random(31337);
        for (int i = 0; i < 5; i++)
        {
            await fx.SubmitLiveAsync(rng, "aurora", AggregatesApiFixture.AuroraVersion, AggregatesApiFixture.AuroraBuild);
        }

        var urls = new List<string>
        {
            "/aggregates_by/build_id/channels/",
            "/aggregates_by/submission_date/channels/",
            "/filters/?channel=nightly&version=58",
            "/filters/?channel=release&version=23",
        };
        foreach (var channel in new[] { "nightly", "release", "aurora" })
        {
            urls.Add($"/aggregates_by/build_id/channels/{channel}/dates/");
            urls.Add($"/aggregates_by/submission_date/channels/{channel}/dates/");
        }
        var expected = new List<(string Url, List<AggEntry> Entries)>();
        foreach (var k in Model.Keys())
        {
            // every metric of the synthetic pings; every third of the real classic ping's ~360
            foreach (var metric in Model.Metrics(k.Family, k.Channel, k.Version, k.Date).Where((m, i) => k.Version != "23" || i % 3 == 0 || m == "CYCLE_COLLECTOR"))
            {
                string url = Q(k.Family, k.Channel, k.Version, [k.Date], metric);
                urls.Add(url);
                expected.Add((url, Expect(k.Family, k.Channel, k.Version, [k.Date], metric)));
            }
        }
        List<string> Problems(Dictionary<string, string> answers) => expected
            .Select(e => Compare(e.Entries, new Reply((HttpStatusCode)int.Parse(answers[e.Url][..3], CultureInfo.InvariantCulture), answers[e.Url][4..], new HttpResponseMessage()), e.Url))
            .Where(p => p is not null).Select(p => p!).ToList();

        Dictionary<string, string> before = [];
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            before = await SnapshotAsync(urls);
            return Problems(before).Count == 0;
        }, TimeSpan.FromSeconds(10)), "before the restart: " + string.Join("\n", Problems(before).Take(5)));

        // 3. Stop, start a new silo on the same database.
        sw.Restart();
        await fx.RestartAsync();
        output.WriteLine($"silo restarted in {sw.ElapsedMilliseconds} ms");
        sw.Restart();
        var after = await SnapshotAsync(urls);

        // Checkpointed data must be there at once (it was persisted); only the aurora aggregates hold
        // the not-yet-checkpointed pings, which may be read back from the landing log.
        var differences = urls.Where(u => before[u] != after[u]).ToList();
        var persistedDifferences = differences.Where(u => !u.Contains("aurora", StringComparison.Ordinal)).ToList();
        Assert.True(persistedDifferences.Count == 0,
            $"{persistedDifferences.Count} of {urls.Count} answers differ right after the restart. First:\n"
            + string.Join("\n", persistedDifferences.Take(5).Select(u => $"{u}\n  before: {Clip(before[u])}\n  after:  {Clip(after[u])}")));

        // Exactly once: the answers equal what was sent, within the freshness promise, never more.
        var seen = new List<string>(Problems(after));
        bool exact = seen.Count == 0 || await TestPaths.EventuallyAsync(async () =>
        {
            var p = Problems(await SnapshotAsync(urls));
            seen.AddRange(p);
            return p.Count == 0;
        }, TimeSpan.FromSeconds(10));
        output.WriteLine($"right after the restart {(differences.Count == 0 ? "every answer was identical" : $"{differences.Count} answers differed")}; exact after {sw.ElapsedMilliseconds} ms");
        Assert.True(exact, "after the restart the aggregates did not match what was sent within 10 s:\n" + string.Join("\n", seen.Distinct().Take(5)));
    }

    [Fact]
    public async Task A_ping_with_a_control_character_in_a_dimension_does_not_break_the_listings()
    {
        // Runs last (it may leave the catalog unusable). The aggregate grain key joins family, channel,
        // version and date with U+001F; a channel or version containing U+001F must neither be stored as a
        // malformed key nor turn the listings into 5xx (a 5xx only for real server faults).
        var rng = new Random(1);
        string docId = $"agg-evil-{Guid.NewGuid():N}";
        var (ping, _) = AggregatesPopulation.Unified(rng, docId, "aurora", AggregatesApiFixture.AuroraVersion, AggregatesApiFixture.AuroraBuild, fx.Today);
        ping["application"]!["channel"] = "evil\u001fchannel";
        var body = SiloHost.Gzip(Encoding.UTF8.GetBytes(ping.ToJsonString()));
        var submitted = await Silo.SubmitAsync($"{docId}/main/Firefox/58.0a1/aurora/{AggregatesApiFixture.AuroraBuild}030204", body);
        string submitText = await submitted.Content.ReadAsStringAsync();
        output.WriteLine($"submit: {(int)submitted.StatusCode} {submitText}");
        Assert.True(submitted.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"submit: {(int)submitted.StatusCode} {submitText}");
        if (submitted.StatusCode == HttpStatusCode.OK)
        {
            // apply everything landed so far, so that the catalog has registered the ping's aggregate keys
            await Task.WhenAll(Enumerable.Range(0, 8).Select(p => Silo.Grains.GetGrain<Telemetry.Contracts.Ingest.IPartitionGrain>(p).CatchUp()));
        }
        var failures = new List<string>();
        foreach (var url in new[]
        {
            "/aggregates_by/build_id/channels/",
            "/aggregates_by/submission_date/channels/",
            "/aggregates_by/build_id/channels/nightly/dates/",
            "/aggregates_by/submission_date/channels/aurora/dates/",
            "/filters/?channel=nightly&version=58",
            "/filters/?channel=aurora&version=58",
            Q("build_id", "nightly", "58", BuildDates("58"), AggregatesPopulation.Checkerboard.Name),
        })
        {
            var r = await GetAsync(url);
            if ((int)r.Status >= 500)
            {
                failures.Add($"{url}: {(int)r.Status} {Clip(r.Text)}");
            }
        }
        Assert.True(failures.Count == 0, "after one ping with U+001F in its channel:\n" + string.Join("\n", failures));
    }

    private async Task<Dictionary<string, string>> SnapshotAsync(List<string> urls)
    {
        var result = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(urls, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (url, _) =>
        {
            var r = await GetAsync(url);
            result[url] = $"{(int)r.Status} {r.Text}";
        });
        return new Dictionary<string, string>(result);
    }
}
