using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Ingest;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Ingest;

/// <summary>
/// PingReader + PingDecoder + DeltaBuilder without a silo . Expectations are computed
/// independently from the ping JSON with System.Text.Json and the bucket formulas of docs/probes.md / the seed's
/// reference bucket lists, never from the product's layout code.
/// </summary>
public sealed class PingDecoderTests
{
    private static readonly DateOnly SubmissionDate = new(2024, 1, 2);
    private const string SubmissionDateText = "20240102";

    private static DecodedPing Decode(byte[] json, string pathRest, string docId = "doc-1") =>
        PingDecoder.Decode(PingReader.Read(json), SubmissionPath.Parse(docId + "/" + pathRest), SubmissionDate,
            IngestTestData.Snapshot, DecodeSettings.Default);

    private static AggregateDelta SubmissionDateDelta(DecodedPing ping)
    {
        // The live path (DeltaBuilder: pings per aggregate) and reprocessing (ContentBuilder: summed
        // content) must agree; the content is what the aggregate grain's SeriesTable makes of the pings.
        var live = new DeltaBuilder();
        live.Add(ping);
        var pushed = live.Build();
        Assert.Equal(2, pushed.Count);
        Assert.All(pushed.Values, p => Assert.Single(p));
        var builder = new ContentBuilder();
        builder.Add(ping);
        var deltas = builder.Build();
        var d = ping.Dimensions;
        Assert.Equal(2, deltas.Count); // one per family
        Assert.Contains(AggregateFamily.GrainKey(AggregateFamily.BuildId, d.Channel, d.MajorVersion, d.BuildDate), deltas.Keys);
        var delta = deltas[AggregateFamily.GrainKey(AggregateFamily.SubmissionDate, d.Channel, d.MajorVersion, SubmissionDateText)];
        Assert.Equal(1, delta.Pings);
        return delta;
    }

    private static SeriesKey Key(PingDimensions d, string metric, string label = "", string process = "parent") => new()
    {
        Metric = metric,
        Label = label,
        Process = process,
        Application = d.Application,
        Architecture = d.Architecture,
        Os = d.Os,
        OsVersion = d.OsVersion,
    };

    // ------------------------------------------------------------------ our own formulas

    [Fact]
    public void Independent_bucket_formulas_match_the_spec_worked_examples()
    {
        Assert.Equal([0, 1, 13, 26, 38, 51, 63, 75, 88, 100], IngestTestData.LinearBounds(1, 100, 10));
        Assert.Equal([0, 1, 3, 8, 21, 57, 154, 414, 1114, 3000], IngestTestData.ExponentialBounds(1, 3000, 10));
        var e = IngestTestData.ExponentialBounds(1, 10000, 50);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20], e[..14]);
        Assert.Equal([7083, 8416, 10000], e[^3..]);
    }

    // ------------------------------------------------------------------ the real classic ping

    [Fact]
    public void Reader_buffers_reused_on_a_thread_do_not_leak_between_pings()
    {
        // SubmissionDecoder reuses the reader's arrays and lists per thread: decoding a large ping,
        // a different small one and the large one again must give what fresh decodes give.
        static string Fingerprint(DecodedPing p) => string.Join("\n", p.Contributions.Select(c =>
            $"{c.Metric}|{c.Label}|{c.Process}|{c.Sum}|{string.Join(',', p.IndexesOf(in c).ToArray())}|{string.Join(',', p.CountsOf(in c).ToArray())}"));
        DecodedPing ViaSubmission(byte[] json, string rest) =>
            SubmissionDecoder.Decode(json, false, 16 << 20, SubmissionPath.Parse("doc-1/" + rest), SubmissionDate, IngestTestData.Snapshot, DecodeSettings.Default);

        var big1 = ViaSubmission(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var small = ViaSubmission(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        var big2 = ViaSubmission(IngestTestData.RealPing, IngestTestData.RealPingPathRest);

        Assert.Equal(Fingerprint(Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest)), Fingerprint(big1));
        Assert.Equal(Fingerprint(big1), Fingerprint(big2));
        Assert.Equal(Fingerprint(Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest)), Fingerprint(small));
        Assert.True(big1.Contributions.Count > small.Contributions.Count);
    }

    [Fact]
    public void Real_firefox23_ping_decodes_with_the_right_dimensions()
    {
        var ping = Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var d = ping.Dimensions;
        Assert.Equal("release", d.Channel);
        Assert.Equal("Firefox", d.Application);
        Assert.Equal("23.0.1", d.AppVersion);
        Assert.Equal("23", d.MajorVersion);
        Assert.Equal("20130814063812", d.BuildId);
        Assert.Equal("20130814", d.BuildDate);
        Assert.Equal("x86", d.Architecture);
        Assert.Equal("WINNT", d.Os);
        Assert.Equal("5.1", d.OsVersion);
        Assert.Equal(SubmissionDateText, d.SubmissionDate);
        Assert.Equal("idle-daily", d.DocType);
        Assert.Equal(0, ping.DimensionMismatches);
        Assert.Empty(ping.InvalidHistograms);
    }

    [Fact]
    public void Real_firefox23_ping_every_histogram_has_exactly_the_expected_dense_counts()
    {
        var ping = Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var delta = SubmissionDateDelta(ping);
        using var json = JsonDocument.Parse(IngestTestData.RealPing);
        using var defs = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedData("histograms", $"Histograms.{IngestTestData.ClassicRevision}.json")));
        using var reference = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedData("buckets", $"buckets.{IngestTestData.ClassicRevision}.json")));
        var referenceBuckets = reference.RootElement.GetProperty("histograms");

        var failures = new List<string>();
        var expectedMetrics = new SortedSet<string>(StringComparer.Ordinal);
        int undeclared = 0, startup = 0;
        foreach (var h in json.RootElement.GetProperty("histograms").EnumerateObject())
        {
            string name = h.Name;
            expectedMetrics.Add(name);
            string? definitionName = defs.RootElement.TryGetProperty(name, out _) ? name
                : name.StartsWith("STARTUP_", StringComparison.Ordinal) && defs.RootElement.TryGetProperty(name[8..], out _) ? name[8..]
                : null;
            if (definitionName is not null && definitionName != name) startup++;
            long[] bounds;
            if (definitionName is not null && referenceBuckets.TryGetProperty(definitionName, out var refEntry))
            {
                bounds = refEntry.GetProperty("buckets").EnumerateArray().Select(x => x.GetInt64()).ToArray();
            }
            else
            {
                // Undeclared, or a definition whose layout names a C++ constant: the ping's own layout.
                var range = h.Value.GetProperty("range");
                bounds = IngestTestData.DeclaredBounds(h.Value.GetProperty("histogram_type").GetInt32(),
                    range[0].GetInt64(), range[1].GetInt64(), h.Value.GetProperty("bucket_count").GetInt32());
            }
            if (definitionName is null) undeclared++;
            long[] expected = IngestTestData.DenseCounts(h.Value, bounds);
            long sum = h.Value.GetProperty("sum").GetInt64();

            if (!delta.Series.TryGetValue(Key(ping.Dimensions, name), out var acc))
            {
                failures.Add($"{name}: missing");
                continue;
            }
            if (!acc.Counts.SequenceEqual(expected)) failures.Add($"{name}: counts [{string.Join(",", acc.Counts)}] != [{string.Join(",", expected)}]");
            if (acc.Sum != sum) failures.Add($"{name}: sum {acc.Sum} != {sum}");
            if (acc.Count != 1) failures.Add($"{name}: count {acc.Count} != 1");
            var layout = delta.Layouts[name];
            if (layout.BucketCount != bounds.Length) failures.Add($"{name}: bucket count {layout.BucketCount} != {bounds.Length}");
            if (layout.Undeclared != (definitionName is null)) failures.Add($"{name}: undeclared flag {layout.Undeclared}");
            var contribution = ping.Contributions.Single(c => c.Metric == name);
            if (!contribution.Layout.LowerBounds.SequenceEqual(bounds)) failures.Add($"{name}: layout bounds differ");
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(328, expectedMetrics.Count);
        Assert.Equal(2, undeclared); // HTTP_OFFLINE_CACHE_DOCUMENT_LOAD, MIXED_CONTENT_PAGE_LOAD
        Assert.True(startup > 50, $"only {startup} STARTUP_ histograms resolved to a base definition");

        foreach (var m in json.RootElement.GetProperty("simpleMeasurements").EnumerateObject())
        {
            if (m.Value.ValueKind == JsonValueKind.Number) expectedMetrics.Add("SIMPLE_MEASURES_" + m.Name.ToUpperInvariant());
            else foreach (var sub in m.Value.EnumerateObject()) expectedMetrics.Add("SIMPLE_MEASURES_" + m.Name.ToUpperInvariant() + "_" + sub.Name.ToUpperInvariant());
        }
        var actualMetrics = delta.Series.Keys.Select(k => k.Metric).ToHashSet();
        Assert.Equal(expectedMetrics, actualMetrics.Order(StringComparer.Ordinal));
        Assert.All(delta.Series.Keys, k => Assert.Equal(("", "parent"), (k.Label, k.Process)));
    }

    [Fact]
    public void Real_firefox23_ping_known_histograms_have_known_values()
    {
        var ping = Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var delta = SubmissionDateDelta(ping);
        var cc = delta.Series[Key(ping.Dimensions, "CYCLE_COLLECTOR")];
        var bounds = IngestTestData.ExponentialBounds(1, 10000, 50);
        Assert.Equal(13370, cc.Sum);
        Assert.Equal(139, cc.Counts[Array.IndexOf(bounds, 0L)]);
        Assert.Equal(41, cc.Counts[Array.IndexOf(bounds, 14L)]);
        Assert.Equal(5, cc.Counts[Array.IndexOf(bounds, 449L)]);
        Assert.Equal(0, cc.Counts[Array.IndexOf(bounds, 3553L)]);
        var flag = delta.Series[Key(ping.Dimensions, "A11Y_INSTANTIATED_FLAG")];
        Assert.Equal([1L, 0, 0], flag.Counts);
    }

    [Fact]
    public void Simple_measures_become_one_observation_histograms_on_exponential_1_30000_50()
    {
        var ping = Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var delta = SubmissionDateDelta(ping);
        var bounds = IngestTestData.SimpleMeasureBounds;
        using var json = JsonDocument.Parse(IngestTestData.RealPing);
        var observed = new List<(string Metric, double Value)>();
        foreach (var m in json.RootElement.GetProperty("simpleMeasurements").EnumerateObject())
        {
            if (m.Value.ValueKind == JsonValueKind.Number) observed.Add(("SIMPLE_MEASURES_" + m.Name.ToUpperInvariant(), m.Value.GetDouble()));
            else foreach (var sub in m.Value.EnumerateObject()) observed.Add(($"SIMPLE_MEASURES_{m.Name.ToUpperInvariant()}_{sub.Name.ToUpperInvariant()}", sub.Value.GetDouble()));
        }
        Assert.Contains(observed, o => o.Metric == "SIMPLE_MEASURES_ADDONMANAGER_INSTALLEDUNPACKED");
        Assert.Contains(observed, o => o.Metric == "SIMPLE_MEASURES_JS_SETPROTO");
        foreach (var (metric, value) in observed)
        {
            var acc = delta.Series[Key(ping.Dimensions, metric)];
            var expected = new long[bounds.Length];
            expected[IngestTestData.BucketOfValue(bounds, value)] = 1;
            Assert.True(expected.SequenceEqual(acc.Counts), metric);
            Assert.Equal((long)value, acc.Sum);
            Assert.Equal(1, acc.Count);
            Assert.Equal(bounds, ping.Contributions.Single(c => c.Metric == metric).Layout.LowerBounds);
        }
        // 34437765 bytes is far beyond 30000: the last bucket.
        Assert.Equal(1, delta.Series[Key(ping.Dimensions, "SIMPLE_MEASURES_STARTUPSESSIONRESTOREREADBYTES")].Counts[^1]);
    }

    [Theory]
    [InlineData("STARTUP_DNS_LOOKUP_TIME", "DNS_LOOKUP_TIME")]
    [InlineData("STARTUP_HTTP_CACHE_DISPOSITION_2", "HTTP_CACHE_DISPOSITION_2")]
    [InlineData("STARTUP_XUL_CACHE_DISABLED", "XUL_CACHE_DISABLED")]
    [InlineData("STARTUP_STARTUP_CACHE_AGE_HOURS", "STARTUP_CACHE_AGE_HOURS")] // STARTUP_CACHE_AGE_HOURS is itself a definition
    public void Startup_histograms_use_the_base_definition_and_keep_their_own_name(string startupName, string baseName)
    {
        var ping = Decode(IngestTestData.RealPing, IngestTestData.RealPingPathRest);
        var revision = IngestTestData.Snapshot.Revisions[IngestTestData.ClassicRevision];
        Assert.False(revision.Histograms.ContainsKey(startupName));
        Assert.True(revision.Histograms.ContainsKey(baseName));
        using var reference = JsonDocument.Parse(File.ReadAllBytes(TestPaths.SharedData("buckets", $"buckets.{IngestTestData.ClassicRevision}.json")));
        var bounds = reference.RootElement.GetProperty("histograms").GetProperty(baseName).GetProperty("buckets").EnumerateArray().Select(x => x.GetInt64()).ToArray();

        var startup = ping.Contributions.Single(c => c.Metric == startupName);
        Assert.False(startup.Undeclared);
        Assert.Equal(bounds, startup.Layout.LowerBounds);
        var plain = ping.Contributions.Single(c => c.Metric == baseName);
        Assert.Equal(plain.Layout.LowerBounds, startup.Layout.LowerBounds);
    }

    // ------------------------------------------------------------------ the synthetic unified ping

    [Fact]
    public void Unified_ping_dimensions_come_from_application_and_environment()
    {
        var ping = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        var d = ping.Dimensions;
        Assert.Equal(("nightly", "Firefox", "57.0a1", "57"), (d.Channel, d.Application, d.AppVersion, d.MajorVersion));
        Assert.Equal(("20170901123456", "20170901"), (d.BuildId, d.BuildDate));
        Assert.Equal(("x86-64", "Linux"), (d.Architecture, d.Os));
        Assert.Equal("3.1", d.OsVersion); // Linux keeps major.minor of 3.1.12
        Assert.Equal("main", d.DocType);
        Assert.Equal(0, ping.DimensionMismatches);
    }

    [Fact]
    public void Unified_ping_processes_labels_scalars_and_exclusions()
    {
        var ping = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        var delta = SubmissionDateDelta(ping);
        var d = ping.Dimensions;

        var expected = new HashSet<(string, string, string)>
        {
            ("A11Y_CONSUMERS", "", "parent"),
            ("CHILD_PROCESS_LAUNCH_MS", "", "parent"),
            ("SYNTH_COUNT", "", "parent"),
            ("SYNTH_UNDECLARED_MS", "", "parent"),
            ("APPLICATION_REPUTATION_SERVER_VERDICT_2", "Mixed-Case Key", "parent"),
            ("APPLICATION_REPUTATION_SERVER_VERDICT_2", "second.key", "parent"),
            ("SIMPLE_MEASURES_TOTALTIME", "", "parent"),
            ("SIMPLE_MEASURES_UPTIME", "", "parent"),
            ("SIMPLE_MEASURES_JS_SETPROTO", "", "parent"),
            ("SCALARS_BROWSER.ENGAGEMENT.MAX_CONCURRENT_TAB_COUNT", "", "parent"),
            ("SCALARS_BROWSER.ENGAGEMENT.UNIQUE_DOMAINS_COUNT", "", "parent"),
            ("SCALARS_BROWSER.SEARCH.WITH_ADS", "GOOGLE-B-D", "parent"),
            ("SCALARS_BROWSER.SEARCH.WITH_ADS", "BING", "parent"),
            ("A11Y_TREE_UPDATE_TIMING_MS", "", "content"),
            ("APPLICATION_REPUTATION_SERVER_VERDICT_2", "Mixed-Case Key", "content"),
            ("SCALARS_DOM.CONTENTPROCESS.TROUBLED_DUE_TO_MEMORY", "", "content"),
            ("COMPOSITE_SWAP_TIME", "", "gpu"),
        };
        var actual = delta.Series.Keys.Select(k => (k.Metric, k.Label, k.Process)).ToHashSet();
        Assert.Equal(expected.Order(), actual.Order());
        Assert.All(delta.Series.Keys, k => Assert.Equal(("Firefox", "x86-64", "Linux", "3.1"), (k.Application, k.Architecture, k.Os, k.OsVersion)));

        // Excluded metrics (README, "Aggregates") and skipped values are absent.
        Assert.DoesNotContain(ping.Contributions, c => c.Metric == "SEARCH_COUNTS");
        Assert.DoesNotContain(ping.Contributions, c => c.Metric.StartsWith("SCALARS_BROWSER.ENGAGEMENT.NAVIGATION", StringComparison.Ordinal));
        Assert.DoesNotContain(ping.Contributions, c => c.Metric is "SCALARS_TELEMETRY.OS_SHUTTING_DOWN" or "SCALARS_BROWSER.SOME_STRING" or "A11Y_UIA_DETECTION_TIMING_MS");

        // Parent histogram: enumerated n_values 11 → (1, 11, 12).
        var consumers = delta.Series[Key(d, "A11Y_CONSUMERS")];
        Assert.Equal([3L, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 1], consumers.Counts);
        Assert.Equal((19L, 1L), (consumers.Sum, consumers.Count));

        // Content: processes.content and childPayloads[] add up in one series (two instances).
        var tree = delta.Series[Key(d, "A11Y_TREE_UPDATE_TIMING_MS", process: "content")];
        Assert.Equal(Dense(IngestTestData.ExponentialBounds(1, 60000, 50), (3, 4), (95, 1), (9, 1)), tree.Counts);
        Assert.Equal((117L, 2L), (tree.Sum, tree.Count));

        // GPU.
        var swap = delta.Series[Key(d, "COMPOSITE_SWAP_TIME", process: "gpu")];
        var swapBounds = IngestTestData.ExponentialBounds(1, 1000, 50);
        Assert.Equal(2, swap.Counts[Array.IndexOf(swapBounds, 1L)]);
        Assert.Equal(3, swap.Counts[Array.IndexOf(swapBounds, 10L)]);
        Assert.Equal((32L, 1L), (swap.Sum, swap.Count));

        // Keyed histogram: the key verbatim; categorical layout (1, 50, 51).
        var keyed = delta.Series[Key(d, "APPLICATION_REPUTATION_SERVER_VERDICT_2", "Mixed-Case Key")];
        Assert.Equal(51, keyed.Counts.Length);
        Assert.Equal((2L, 1L), (keyed.Counts[0], keyed.Counts[3]));
        Assert.Equal((3L, 1L), (keyed.Sum, keyed.Count));
        Assert.Equal(4, delta.Series[Key(d, "APPLICATION_REPUTATION_SERVER_VERDICT_2", "second.key")].Counts[1]);
        Assert.Equal(1, delta.Series[Key(d, "APPLICATION_REPUTATION_SERVER_VERDICT_2", "Mixed-Case Key", "content")].Counts[5]);

        // Scalars: SCALARS_<NAME UPPER>, keyed scalar key upper-cased, one observation on exponential(1, 10000, 100).
        var scalarBounds = IngestTestData.ScalarBounds;
        void AssertObservation(string metric, string label, string process, long value)
        {
            var acc = delta.Series[Key(d, metric, label, process)];
            var e = new long[scalarBounds.Length];
            e[IngestTestData.BucketOfValue(scalarBounds, value)] = 1;
            Assert.Equal(e, acc.Counts);
            Assert.Equal((value, 1L), (acc.Sum, acc.Count));
        }
        AssertObservation("SCALARS_BROWSER.ENGAGEMENT.MAX_CONCURRENT_TAB_COUNT", "", "parent", 7);
        AssertObservation("SCALARS_BROWSER.ENGAGEMENT.UNIQUE_DOMAINS_COUNT", "", "parent", 12);
        AssertObservation("SCALARS_BROWSER.SEARCH.WITH_ADS", "GOOGLE-B-D", "parent", 2);
        AssertObservation("SCALARS_BROWSER.SEARCH.WITH_ADS", "BING", "parent", 1);
        AssertObservation("SCALARS_DOM.CONTENTPROCESS.TROUBLED_DUE_TO_MEMORY", "", "content", 2);

        // Simple measures of a unified ping.
        var totalTime = delta.Series[Key(d, "SIMPLE_MEASURES_TOTALTIME")];
        Assert.Equal(1, totalTime.Counts[IngestTestData.BucketOfValue(IngestTestData.SimpleMeasureBounds, 3600)]);
        Assert.Equal(2, delta.Series[Key(d, "SIMPLE_MEASURES_JS_SETPROTO")].Sum);
    }

    [Fact]
    public void Count_histogram_is_one_observation_of_its_sum_on_exponential_1_10000_100()
    {
        var ping = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        var delta = SubmissionDateDelta(ping);
        var bounds = IngestTestData.CountObservationBounds;
        var acc = delta.Series[Key(ping.Dimensions, "SYNTH_COUNT")];
        var expected = new long[100];
        expected[IngestTestData.BucketOfValue(bounds, 42)] = 1;
        Assert.Equal(expected, acc.Counts);
        Assert.Equal((42L, 1L), (acc.Sum, acc.Count));
        Assert.Equal(bounds, ping.Contributions.Single(c => c.Metric == "SYNTH_COUNT").Layout.LowerBounds);
        Assert.Equal(100, delta.Layouts["SYNTH_COUNT"].BucketCount);
    }

    [Fact]
    public void Undeclared_histogram_is_aggregated_with_its_own_layout_and_flagged()
    {
        var ping = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        var delta = SubmissionDateDelta(ping);
        Assert.False(IngestTestData.Snapshot.Revisions[IngestTestData.UnifiedRevision].Histograms.ContainsKey("SYNTH_UNDECLARED_MS"));
        var bounds = IngestTestData.ExponentialBounds(1, 1000, 20);
        var contribution = ping.Contributions.Single(c => c.Metric == "SYNTH_UNDECLARED_MS");
        Assert.True(contribution.Undeclared);
        Assert.Equal(bounds, contribution.Layout.LowerBounds);
        Assert.True(delta.Layouts["SYNTH_UNDECLARED_MS"].Undeclared);
        Assert.False(delta.Layouts["A11Y_CONSUMERS"].Undeclared);
        var acc = delta.Series[Key(ping.Dimensions, "SYNTH_UNDECLARED_MS")];
        var expected = new long[20];
        expected[Array.IndexOf(bounds, 0L)] = 1;
        expected[Array.IndexOf(bounds, 13L)] = 2;
        expected[Array.IndexOf(bounds, 487L)] = 1;
        Assert.Equal(expected, acc.Counts);
        Assert.Equal(513, acc.Sum);
    }

    [Fact]
    public void Undeclared_count_histogram_is_flagged_undeclared()
    {
        // A histogram without a definition is still aggregated, and the metric is marked undeclared.
        var json = IngestTestData.UnifiedVariant(p => p["payload"]!["histograms"]!["SYNTH_UNDECLARED_COUNT"] =
            JsonNode.Parse("""{"range":[1,2],"bucket_count":3,"histogram_type":4,"values":{"0":0},"sum":7}"""));
        var ping = Decode(json, IngestTestData.UnifiedPathRest);
        var contribution = ping.Contributions.Single(c => c.Metric == "SYNTH_UNDECLARED_COUNT");
        Assert.Equal(7, contribution.Sum);
        Assert.Equal(IngestTestData.CountObservationBounds, contribution.Layout.LowerBounds);
        Assert.True(contribution.Undeclared, "an undeclared count histogram is aggregated but not marked undeclared");
    }

    [Fact]
    public void Invalid_histograms_are_skipped_and_listed_while_the_rest_of_the_ping_is_used()
    {
        var ping = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        // COMPOSITE_TIME: bound 13 is not a boundary of exponential(1, 1000, 50); CHECKERBOARD_DURATION: a
        // negative count; CHECKERBOARD_PEAK: a fractional count.
        Assert.Equal(["CHECKERBOARD_DURATION", "CHECKERBOARD_PEAK", "COMPOSITE_TIME"], ping.InvalidHistograms.Order(StringComparer.Ordinal));
        Assert.DoesNotContain(ping.Contributions, c => ping.InvalidHistograms.Contains(c.Metric));
        // The skipped histograms left nothing behind in the shared buffers: a valid histogram after them is intact.
        var delta = SubmissionDateDelta(ping);
        Assert.Equal(1340, delta.Series[Key(ping.Dimensions, "CHILD_PROCESS_LAUNCH_MS")].Sum);
        Assert.Equal(4, delta.Series[Key(ping.Dimensions, "CHILD_PROCESS_LAUNCH_MS")].Counts.Sum());
        Assert.Equal(17, delta.Series.Count);
    }

    // Dense counts over the given bucket lower bounds, with the given counts at the given bounds.
    private static long[] Dense(long[] bounds, params (long Bound, long Count)[] counts)
    {
        var dense = new long[bounds.Length];
        foreach (var (bound, count) in counts)
        {
            int i = Array.IndexOf(bounds, bound);
            Assert.True(i >= 0, $"{bound} is not a bucket bound");
            dense[i] = count;
        }
        return dense;
    }

    // The synthetic unified ping with one piece of its text (which must be there) written another way.
    private static DecodedPing DecodeUnifiedWith(string original, string replacement)
    {
        var text = Encoding.UTF8.GetString(IngestTestData.UnifiedPing);
        Assert.Contains(original, text);
        return Decode(Encoding.UTF8.GetBytes(text.Replace(original, replacement, StringComparison.Ordinal)), IngestTestData.UnifiedPathRest);
    }

    [Theory]
    // Escaped property names take the general comparison, not the by-length one.
    [InlineData("{ \"r\\u0061nge\": [1, 64000], \"bucket_\\u0063ount\": 100, \"histogram_type\": 0, \"\\u0076alues\": { \"17\": 1, \"102\": 2, \"1101\": 1 }, \"s\\u0075m\": 1340 }")]
    // Counts written as fractions or exponents of whole numbers take the general number parser.
    [InlineData("{ \"range\": [1, 64000], \"bucket_count\": 100, \"histogram_type\": 0, \"values\": { \"17\": 1.0, \"102\": 2e0, \"1101\": 0.1e1 }, \"sum\": 1340 }")]
    // Unknown properties, in any order, are skipped; a bucket of count 0 adds nothing.
    [InlineData("{ \"sum_squares_lo\": 9, \"sum\": 1340, \"values\": { \"0\": 0, \"17\": 1, \"102\": 2, \"1101\": 1 }, \"log_sum\": 2.5, \"histogram_type\": 0, \"bucket_count\": 100, \"range\": [1, 64000] }")]
    public void A_histogram_reads_the_same_however_its_json_is_spelled(string spelled)
    {
        var ping = DecodeUnifiedWith("{ \"range\": [1, 64000], \"bucket_count\": 100, \"histogram_type\": 0, \"values\": { \"17\": 1, \"102\": 2, \"1101\": 1 }, \"sum\": 1340 }", spelled);

        Assert.DoesNotContain("CHILD_PROCESS_LAUNCH_MS", ping.InvalidHistograms);
        var launch = SubmissionDateDelta(ping).Series[Key(ping.Dimensions, "CHILD_PROCESS_LAUNCH_MS")];
        Assert.Equal(Dense(IngestTestData.ExponentialBounds(1, 64000, 100), (17, 1), (102, 2), (1101, 1)), launch.Counts);
        Assert.Equal((1340L, 1L), (launch.Sum, launch.Count));
    }

    [Theory]
    [InlineData("\"values\": { \"17\": 1, \"102\": -2, \"1101\": 1 }")] // a negative count
    [InlineData("\"values\": { \"17\": 1, \"102\": 2.5, \"1101\": 1 }")] // a fractional count
    [InlineData("\"values\": { \"17\": 1, \"1\\u0030\\u0032\": 2, \"1101\": 1 }")] // an escaped bound
    [InlineData("\"values\": { \"17\": 1, \"102x\": 2, \"1101\": 1 }")] // a bound that is not a number
    [InlineData("\"values\": { \"17\": 1, \"102\": \"2\", \"1101\": 1 }")] // a count that is a string
    [InlineData("\"values\": { \"17\": 1, \"1234567890123456789012\": 2, \"1101\": 1 }")] // a bound past 64 bits
    public void A_histogram_with_a_value_that_is_not_a_whole_count_at_a_whole_bound_is_invalid(string values)
    {
        var ping = DecodeUnifiedWith("\"values\": { \"17\": 1, \"102\": 2, \"1101\": 1 }", values);
        Assert.Contains("CHILD_PROCESS_LAUNCH_MS", ping.InvalidHistograms);
        Assert.DoesNotContain(ping.Contributions, c => c.Metric == "CHILD_PROCESS_LAUNCH_MS");
    }

    [Fact]
    public void Histogram_names_are_resolved_again_when_the_settings_or_the_revision_change()
    {
        // The decoder remembers per thread what each histogram name resolved to; a ping decoded
        // with other settings or another revision must not get the previous answer.
        var excluding = new DecodeSettings([.. DecodeSettings.DefaultExcludedMetrics, "CHILD_PROCESS_LAUNCH_MS"]);
        var path = SubmissionPath.Parse("doc-1/" + IngestTestData.UnifiedPathRest);
        DecodedPing With(DecodeSettings settings, Telemetry.Grains.Registry.ProbeSnapshot snapshot) =>
            PingDecoder.Decode(PingReader.Read(IngestTestData.UnifiedPing), path, SubmissionDate, snapshot, settings);

        Assert.Contains(With(DecodeSettings.Default, IngestTestData.Snapshot).Contributions, c => c.Metric == "CHILD_PROCESS_LAUNCH_MS");
        Assert.DoesNotContain(With(excluding, IngestTestData.Snapshot).Contributions, c => c.Metric == "CHILD_PROCESS_LAUNCH_MS");
        Assert.Contains(With(DecodeSettings.Default, IngestTestData.Snapshot).Contributions, c => c.Metric == "CHILD_PROCESS_LAUNCH_MS");

        // A name too long for the reader to intern is looked up each time instead of remembered; it still decodes.
        string longName = new string('X', 300);
        var withLong = PingDecoder.Decode(PingReader.Read(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(IngestTestData.UnifiedPing)
            .Replace("\"CHILD_PROCESS_LAUNCH_MS\"", "\"" + longName + "\"", StringComparison.Ordinal))), path, SubmissionDate, IngestTestData.Snapshot, excluding);
        Assert.True(withLong.Contributions.Single(c => c.Metric == longName).Undeclared);

        // Without any revision, a declared histogram becomes undeclared (its own layout), and declared again after.
        static bool Undeclared(DecodedPing p) => p.Contributions.Single(c => c.Metric == "CHILD_PROCESS_LAUNCH_MS").Undeclared;
        Assert.False(Undeclared(With(DecodeSettings.Default, IngestTestData.Snapshot)));
        Assert.True(Undeclared(With(DecodeSettings.Default, Telemetry.Grains.Registry.ProbeSnapshot.Empty)));
        Assert.False(Undeclared(With(DecodeSettings.Default, IngestTestData.Snapshot)));
    }

    [Fact]
    public void Histogram_with_a_negative_or_fractional_sum_is_invalid()
    {
        var json = IngestTestData.UnifiedVariant(p =>
        {
            var h = p["payload"]!["histograms"]!.AsObject();
            h["A11Y_CONSUMERS"]!["sum"] = -1;
            h["CHILD_PROCESS_LAUNCH_MS"]!["sum"] = 1.5;
        });
        var ping = Decode(json, IngestTestData.UnifiedPathRest);
        Assert.Contains("A11Y_CONSUMERS", ping.InvalidHistograms);
        Assert.Contains("CHILD_PROCESS_LAUNCH_MS", ping.InvalidHistograms);
        Assert.DoesNotContain(ping.Contributions, c => c.Metric is "A11Y_CONSUMERS" or "CHILD_PROCESS_LAUNCH_MS");
    }

    [Theory]
    [InlineData("Linux", "3.1.12", "3.1")]
    [InlineData("Linux", "4.15.0-112-generic", "4.15")]
    [InlineData("Linux", "5", "5")]
    [InlineData("Windows_NT", "6.1.7601", "6.1.7601")]
    [InlineData("Darwin", "16.7.0", "16.7.0")]
    public void Os_version_is_kept_except_linux_keeps_major_minor(string os, string version, string expected)
    {
        var json = IngestTestData.UnifiedVariant(p =>
        {
            p["environment"]!["system"]!["os"]!["name"] = os;
            p["environment"]!["system"]!["os"]!["version"] = version;
        });
        var ping = Decode(json, IngestTestData.UnifiedPathRest);
        Assert.Equal((os, expected), (ping.Dimensions.Os, ping.Dimensions.OsVersion));
    }

    [Fact]
    public void Body_wins_over_url_segments_and_each_disagreement_is_counted()
    {
        var ping = Decode(IngestTestData.UnifiedPing, "main/Fennec/56.0/beta/20160101000000");
        var d = ping.Dimensions;
        Assert.Equal(("nightly", "Firefox", "57.0a1", "20170901123456"), (d.Channel, d.Application, d.AppVersion, d.BuildId));
        Assert.Equal(4, ping.DimensionMismatches);

        var one = Decode(IngestTestData.UnifiedPing, "main/Firefox/57.0a1/beta/20170901123456");
        Assert.Equal("nightly", one.Dimensions.Channel);
        Assert.Equal(1, one.DimensionMismatches);
    }

    [Fact]
    public void Url_segments_fill_in_what_the_body_lacks_without_counting_a_disagreement()
    {
        var json = IngestTestData.UnifiedVariant(p =>
        {
            var app = p["application"]!.AsObject();
            app.Remove("channel");
            app.Remove("buildId");
        });
        var ping = Decode(json, "main/Firefox/57.0a1/aurora/20170102030405");
        Assert.Equal(("aurora", "20170102"), (ping.Dimensions.Channel, ping.Dimensions.BuildDate));
        Assert.Equal(0, ping.DimensionMismatches);
    }

    [Fact]
    public void Unified_ping_uses_its_channels_revision_else_the_newest()
    {
        static bool Undeclared(DecodedPing p, string metric) => p.Contributions.Single(c => c.Metric == metric).Undeclared;

        // nightly → the unified revision, which defines CHILD_PROCESS_LAUNCH_MS.
        var nightly = Decode(IngestTestData.UnifiedPing, IngestTestData.UnifiedPathRest);
        Assert.False(Undeclared(nightly, "CHILD_PROCESS_LAUNCH_MS"));

        // beta → the Firefox 23 revision, which does not (but does define A11Y_CONSUMERS).
        var beta = Decode(IngestTestData.UnifiedVariant(p => p["application"]!["channel"] = "beta"), "main/Firefox/57.0a1/beta/20170901123456");
        Assert.True(Undeclared(beta, "CHILD_PROCESS_LAUNCH_MS"));
        Assert.False(Undeclared(beta, "A11Y_CONSUMERS"));

        // An unmapped channel → the newest revision (the unified one, uploaded last).
        var esr = Decode(IngestTestData.UnifiedVariant(p => p["application"]!["channel"] = "esr"), "main/Firefox/57.0a1/esr/20170901123456");
        Assert.False(Undeclared(esr, "CHILD_PROCESS_LAUNCH_MS"));
    }

    // ------------------------------------------------------------------ rejections

    [Theory]
    [InlineData("""{"ver":1,"histograms":{}}""", "info")]
    [InlineData("""{"ver":1,"info":{"appName":"Firefox"},"histograms":{"GC_MS":{"range":[1,10000],"bucket_count":50,"histogram_type":0,"values":{"0":1},"sum":0}}}""", "info.revision")]
    [InlineData("""{"version":4,"payload":{}}""", "application")]
    [InlineData("""{"version":4,"application":{"name":"Firefox","version":"57.0","channel":"nightly","buildId":"20170901000000"}}""", "payload")]
    [InlineData("""{"foo":1}""", "ver")]
    public void Missing_required_fields_are_bad_payload_naming_the_field(string json, string field)
    {
        var raw = PingReader.Read(Encoding.UTF8.GetBytes(json));
        var e = Assert.Throws<PingFormatException>(() => PingDecoder.Decode(raw, SubmissionPath.Parse("d/" + IngestTestData.RealPingPathRest),
            SubmissionDate, IngestTestData.Snapshot, DecodeSettings.Default));
        Assert.Equal(PingRejection.BadPayload, e.Reason);
        Assert.Contains(field, e.Message);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"a string\"")]
    [InlineData("not json")]
    [InlineData("{\"ver\":1,")]
    [InlineData("{\"ver\":1} {}")]
    public void Not_a_json_object_is_bad_json(string json)
    {
        var e = Assert.Throws<PingFormatException>(() => PingReader.Read(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(PingRejection.BadJson, e.Reason);
    }

    [Fact]
    public void Deep_nesting_is_bad_json_not_a_stack_overflow()
    {
        var e = Assert.Throws<PingFormatException>(() => PingReader.Read(Encoding.UTF8.GetBytes("{\"a\":" + new string('[', 10_000))));
        Assert.Equal(PingRejection.BadJson, e.Reason);
    }

    [Theory]
    [InlineData("OS")]                 // a field the reader keeps
    [InlineData("adapterDescription")] // a field the reader skips
    public void Invalid_utf8_inside_a_string_is_bad_json(string field)
    {
        // RFC 8259 §8.1: JSON text exchanged between systems must be UTF-8; these bytes are not JSON.
        var bytes = new List<byte>(Encoding.UTF8.GetBytes($"{{\"ver\":1,\"info\":{{\"appName\":\"Firefox\",\"{field}\":\"WIN"));
        bytes.AddRange([0xC3, 0x28, 0xFF, 0xFE]);
        bytes.AddRange(Encoding.UTF8.GetBytes("\"}}"));
        var e = Assert.Throws<PingFormatException>(() => PingReader.Read(bytes.ToArray()));
        Assert.Equal(PingRejection.BadJson, e.Reason);
    }

    // ------------------------------------------------------------------ reader robustness on valid JSON

    [Fact]
    public void Duplicate_key_in_application_does_not_derail_the_reader()
    {
        // Duplicate names are valid JSON (RFC 8259 says SHOULD be unique). The second "architecture" must be
        // consumed like any other value; today it is not read at all (`??=`), and the reader loses its place.
        var json = IngestTestData.UnifiedVariant(p => p["application"] = JsonNode.Parse(
            """{"architecture":"x86-64","name":"Firefox","version":"57.0a1","channel":"nightly","buildId":"20170901123456"}"""));
        var text = Encoding.UTF8.GetString(json).Replace("\"architecture\":\"x86-64\",", "\"architecture\":\"x86-64\",\"architecture\":\"x86\",", StringComparison.Ordinal);
        var raw = PingReader.Read(Encoding.UTF8.GetBytes(text));
        Assert.Equal(("Firefox", "nightly", "20170901123456"), (raw.AppName, raw.Channel, raw.BuildId));
        Assert.Equal("x86-64", raw.Architecture);
        Assert.True(raw.HasPayload);
    }

    [Theory]
    [InlineData("addons", "activeExperiment")]
    [InlineData("gfx", "features")]
    public void Null_environment_sub_objects_do_not_derail_the_reader(string parent, string child)
    {
        // e.g. "addons": {"activeExperiment": null, "activeAddons": {...}} — valid JSON.
        var json = IngestTestData.UnifiedVariant(p =>
        {
            var env = p["environment"]!.AsObject();
            var holder = parent == "addons" ? env["addons"]!.AsObject() : env["system"]!["gfx"]!.AsObject();
            holder[child] = null;
        });
        var raw = PingReader.Read(json);
        Assert.True(raw.HasPayload);
        Assert.Equal(("Linux", "3.1.12"), (raw.OsName, raw.OsVersion));
        var ping = Decode(json, IngestTestData.UnifiedPathRest);
        Assert.Contains(ping.Contributions, c => c.Metric == "COMPOSITE_SWAP_TIME" && c.Process == ProcessKind.Gpu);
    }

    [Fact]
    public void Unknown_and_wrongly_typed_sections_are_ignored()
    {
        var json = IngestTestData.UnifiedVariant(p =>
        {
            var payload = p["payload"]!.AsObject();
            payload["processes"]!["extension"] = JsonNode.Parse("""{"histograms":{"X":{"range":[1,2],"bucket_count":3,"histogram_type":2,"values":{"0":1},"sum":0}}}""");
            payload["childPayloads"]!.AsArray().Add(JsonValue.Create(5));
            payload["childPayloads"]!.AsArray().Add(new JsonArray(1, 2));
            payload["unknownSection"] = JsonNode.Parse("""{"deep":[[{"a":[1,{"b":null}]}]]}""");
        });
        var ping = Decode(json, IngestTestData.UnifiedPathRest);
        Assert.DoesNotContain(ping.Contributions, c => c.Metric == "X");
        Assert.Equal(17, SubmissionDateDelta(ping).Series.Count);
    }
}
