using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Telemetry.Tests.Api;

/// <summary>
/// One histogram instance (or one scalar-like observation) as the test sent it, with every dimension
/// the aggregates API can filter on. The expected answers of the API are computed from these alone.
/// </summary>
public sealed record AggObs(
    string Channel, string Version, string BuildDate, string SubDate,
    string Metric, string Label, string Process,
    string App, string Arch, string Os, string OsVersion,
    long[] Counts, long Sum);

/// <summary>Dimension filters of a query (null = summed over).</summary>
public sealed record AggFilter(string? App = null, string? Arch = null, string? Os = null, string? OsVersion = null, string? Label = null, string? Process = null)
{
    public string ToQuery()
    {
        var parts = new List<string>();
        if (App is not null) parts.Add("application=" + Uri.EscapeDataString(App));
        if (Arch is not null) parts.Add("architecture=" + Uri.EscapeDataString(Arch));
        if (Os is not null) parts.Add("os=" + Uri.EscapeDataString(Os));
        if (OsVersion is not null) parts.Add("osVersion=" + Uri.EscapeDataString(OsVersion));
        if (Label is not null) parts.Add("label=" + Uri.EscapeDataString(Label));
        if (Process is not null) parts.Add("child=" + Process);
        return parts.Count == 0 ? "" : "&" + string.Join('&', parts);
    }

    public static readonly AggFilter None = new();
}

public sealed record AggEntry(string Date, string Label, long[] Histogram, long Count, long Sum)
{
    public override string ToString() =>
        $"{Date}/{(Label.Length == 0 ? "''" : Label)}: count={Count} sum={Sum} [{string.Join(',', Histogram)}]";
}

/// <summary>The independent expectation: sums of what was sent, per aggregate key.</summary>
public sealed class AggregatesModel
{
    public const string BuildId = "build_id";
    public const string SubmissionDate = "submission_date";

    private readonly Lock _lock = new();
    private readonly List<AggObs> _obs = new();
    private readonly Dictionary<(string Family, string Channel, string Version, string Date, string Metric), List<AggObs>> _index = new();

    public void Add(IEnumerable<AggObs> obs)
    {
        lock (_lock)
        {
            foreach (var o in obs)
            {
                _obs.Add(o);
                foreach (var family in new[] { BuildId, SubmissionDate })
                {
                    var key = (family, o.Channel, o.Version, DateOf(o, family), o.Metric);
                    if (!_index.TryGetValue(key, out var list))
                    {
                        _index[key] = list = new List<AggObs>();
                    }
                    list.Add(o);
                }
            }
        }
    }

    private List<AggObs> Indexed(string family, string channel, string version, string date, string metric)
    {
        lock (_lock)
        {
            return _index.TryGetValue((family, channel, version, date, metric), out var list) ? [.. list] : [];
        }
    }

    public List<AggObs> Snapshot()
    {
        lock (_lock)
        {
            return [.. _obs];
        }
    }

    public static string DateOf(AggObs o, string family) => family == BuildId ? o.BuildDate : o.SubDate;

    /// <summary>Entries per date (in the order given, dates without data left out) and label (ordinal order).</summary>
    public List<AggEntry> Expect(string family, string channel, string version, IEnumerable<string> dates, string metric, AggFilter f)
    {
        var result = new List<AggEntry>();
        foreach (var date in dates.Distinct())
        {
            var matching = Indexed(family, channel, version, date, metric).Where(o =>
                (f.App is null || o.App == f.App)
                && (f.Arch is null || o.Arch == f.Arch)
                && (f.Os is null || o.Os == f.Os)
                && (f.OsVersion is null || o.OsVersion == f.OsVersion)
                && (f.Label is null || o.Label == f.Label)
                && (f.Process is null || o.Process == f.Process));
            foreach (var g in matching.GroupBy(o => o.Label).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = g.First();
                var hist = new long[first.Counts.Length];
                long sum = 0, count = 0;
                foreach (var o in g)
                {
                    if (o.Counts.Length != hist.Length)
                    {
                        throw new InvalidOperationException($"model: {metric} has two layouts");
                    }
                    for (int i = 0; i < hist.Length; i++) hist[i] += o.Counts[i];
                    sum += o.Sum;
                    count++;
                }
                result.Add(new AggEntry(date, g.Key, hist, count, sum));
            }
        }
        return result;
    }

    /// <summary>A use counter as the API answers it: bucket 1 = used, bucket 0 = denominator sum − used.</summary>
    public List<AggEntry> ExpectUseCounter(string family, string channel, string version, IEnumerable<string> dates, string metric, AggFilter f)
    {
        string denominator = metric.EndsWith("_PAGE", StringComparison.Ordinal) ? "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED" : "CONTENT_DOCUMENTS_DESTROYED";
        var result = new List<AggEntry>();
        foreach (var date in dates.Distinct())
        {
            var den = Expect(family, channel, version, [date], denominator, f with { Label = null }).SingleOrDefault();
            if (den is null)
            {
                continue;
            }
            long used = Expect(family, channel, version, [date], metric, f with { Label = null }).Sum(e => e.Histogram[1]);
            result.Add(new AggEntry(date, "", [den.Sum - used, used, 0], den.Count, used));
        }
        return result;
    }

    public List<(string Family, string Channel, string Version, string Date)> Keys()
    {
        lock (_lock)
        {
            return _index.Keys.Select(k => (k.Family, k.Channel, k.Version, k.Date)).Distinct().ToList();
        }
    }

    public List<string> Metrics(string family, string channel, string version, string date)
    {
        lock (_lock)
        {
            return _index.Keys.Where(k => k.Family == family && k.Channel == channel && k.Version == version && k.Date == date)
                .Select(k => k.Metric).Distinct().Order(StringComparer.Ordinal).ToList();
        }
    }
}

/// <summary>Bucket lower bounds written down from the histogram definitions, independently of the product.</summary>
public static class SpecLayouts
{
    public static long[] Linear(long low, long high, int n)
    {
        low = Math.Max(1, low);
        var b = new long[n];
        for (int i = 1; i < n; i++)
        {
            b[i] = (long)Math.Floor((low * (double)(n - 1 - i) + high * (double)(i - 1)) / (n - 2) + 0.5);
        }
        return b;
    }

    public static long[] Exponential(long low, long high, int n)
    {
        low = Math.Max(1, low);
        var b = new long[n];
        b[1] = low;
        long cur = low;
        for (int i = 2; i < n; i++)
        {
            long next = (long)Math.Floor(Math.Exp(Math.Log(cur) + (Math.Log(high) - Math.Log(cur)) / (n - i)) + 0.5);
            cur = next > cur ? next : cur + 1;
            b[i] = cur;
        }
        return b;
    }

    public static readonly long[] TwoState = [0, 1, 2];
    public static readonly long[] SimpleMeasures = Exponential(1, 30000, 50);
    public static readonly long[] Scalars = Exponential(1, 10000, 100);
    public static readonly long[] CountObservations = Exponential(1, 10000, 100);

    /// <summary>One observation: the bucket with the largest lower bound ≤ value.</summary>
    public static long[] Observe(long[] bounds, long value)
    {
        var counts = new long[bounds.Length];
        int idx = 0;
        for (int i = 0; i < bounds.Length; i++)
        {
            if (bounds[i] <= value) idx = i;
        }
        counts[idx] = 1;
        return counts;
    }
}

/// <summary>A histogram the generator sends, with its layout as the ping declares it.</summary>
public sealed record HistSpec(string Name, int Type, long Low, long High, int N, long[] Bounds, int MaxIndex)
{
    public static HistSpec Exp(string name, long low, long high, int n) => new(name, 0, low, high, n, SpecLayouts.Exponential(low, high, n), n - 1);
    public static HistSpec Lin(string name, long low, long high, int n) => new(name, 1, low, high, n, SpecLayouts.Linear(low, high, n), n - 1);
    public static HistSpec Enum(string name, int nValues) => new(name, 1, 1, nValues, nValues + 1, SpecLayouts.Linear(1, nValues, nValues + 1), nValues);
    public static HistSpec Bool(string name) => new(name, 2, 1, 2, 3, SpecLayouts.TwoState, 1);
    public static HistSpec Flag(string name) => new(name, 3, 1, 2, 3, SpecLayouts.TwoState, 1);
    public static HistSpec Cat(string name, int labels)
    {
        int n = Math.Max(labels, 50);
        return new(name, 5, 1, n, n + 1, SpecLayouts.Linear(1, n, n + 1), labels - 1);
    }
}

/// <summary>Builds the synthetic population and the expected observations of every ping.</summary>
public static class AggregatesPopulation
{
    // Modern-sample definitions (silo/probes/Histograms.modern-sample.json).
    public static readonly HistSpec Checkerboard = HistSpec.Exp("CHECKERBOARD_DURATION", 1, 100000, 50);
    public static readonly HistSpec LookupTime = HistSpec.Lin("APPLICATION_REPUTATION_REMOTE_LOOKUP_RESPONSE_TIME", 1000, 15000, 17);
    public static readonly HistSpec Consumers = HistSpec.Enum("A11Y_CONSUMERS", 11);
    public static readonly HistSpec ShouldBlock = HistSpec.Bool("APPLICATION_REPUTATION_SHOULD_BLOCK");
    public static readonly HistSpec InstantiatedFlag = HistSpec.Flag("A11Y_INSTANTIATED_FLAG");
    public static readonly HistSpec BinaryType = HistSpec.Cat("APPLICATION_REPUTATION_BINARY_TYPE", 5);
    public static readonly HistSpec Verdict2 = HistSpec.Cat("APPLICATION_REPUTATION_SERVER_VERDICT_2", 6);
    public static readonly HistSpec Severity = HistSpec.Exp("CHECKERBOARD_SEVERITY", 1, 1073741824, 50);
    public static readonly HistSpec CompositeTime = HistSpec.Exp("COMPOSITE_TIME", 1, 1000, 50);
    // Not in any revision: aggregated with the layout the ping declares.
    public static readonly HistSpec Undeclared = HistSpec.Lin("TEST_UNDECLARED_LINEAR_MS", 1, 100, 10);

    public const string CountHistogram = "TEST_COUNT_HISTOGRAM";
    public const string TopLevelDocs = "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED";
    public const string ContentDocs = "CONTENT_DOCUMENTS_DESTROYED";
    public const string UseCounterPage = "USE_COUNTER2_SVGSVGELEMENT_GETELEMENTBYID_PAGE";
    public const string UseCounterDocument = "USE_COUNTER2_SVGSVGELEMENT_GETELEMENTBYID_DOCUMENT";
    public const string TabCountScalar = "SCALARS_BROWSER.ENGAGEMENT.MAX_CONCURRENT_TAB_COUNT";
    public const string ToolboxScalar = "SCALARS_DEVTOOLS.TOOLBOX.OPENED";

    public static readonly string[] VerdictKeys = ["exe", "dmg", "Zip"];

    private static readonly (string Os, string Version, string Normalized)[] OsChoices =
    [
        ("Windows_NT", "10.0", "10.0"),
        ("Windows_NT", "6.1", "6.1"),
        ("Linux", "4.4.12", "4.4"),
        ("Darwin", "17.2.0", "17.2.0"),
    ];

    /// <summary>A unified (v4) main ping with random content, and what it contributes.</summary>
    public static (JsonObject Ping, List<AggObs> Obs) Unified(Random rng, string docId, string channel, string major, string buildDate, string subDate)
    {
        string app = rng.NextDouble() < 0.2 ? "Fennec" : "Firefox";
        string arch = rng.Next(2) == 0 ? "x86-64" : "x86";
        var (os, osVersion, osNormalized) = OsChoices[rng.Next(OsChoices.Length)];
        string appVersion = channel == "nightly" ? major + ".0a1" : major + ".0.1";
        string buildId = buildDate + "030204";
        var obs = new List<AggObs>();

        void Record(string metric, string label, string process, long[] counts, long sum) =>
            obs.Add(new AggObs(channel, major, buildDate, subDate, metric, label, process, app, arch, os, osNormalized, counts, sum));

        JsonObject Hist(HistSpec h, string label, string process, bool record = true)
        {
            var counts = new long[h.N];
            int k = 1 + rng.Next(Math.Min(4, h.MaxIndex + 1));
            for (int j = 0; j < k; j++)
            {
                counts[rng.Next(h.MaxIndex + 1)] += 1 + rng.Next(5);
            }
            long sum = 0;
            var values = new JsonObject();
            for (int i = 0; i < h.N; i++)
            {
                if (counts[i] > 0)
                {
                    values[h.Bounds[i].ToString(CultureInfo.InvariantCulture)] = counts[i];
                    sum += h.Bounds[i] * counts[i];
                }
            }
            // Firefox also sends the empty bucket after the last used one.
            int last = Array.FindLastIndex(counts, c => c > 0);
            if (last + 1 < h.N)
            {
                values[h.Bounds[last + 1].ToString(CultureInfo.InvariantCulture)] = 0;
            }
            sum += rng.Next(3);
            if (record)
            {
                Record(h.Name, label, process, counts, sum);
            }
            return new JsonObject
            {
                ["range"] = new JsonArray(h.Low, h.High),
                ["bucket_count"] = h.N,
                ["histogram_type"] = h.Type,
                ["values"] = values,
                ["sum"] = sum,
            };
        }

        JsonObject CountHist(string name, string label, string process, long value, bool record = true)
        {
            if (record)
            {
                Record(name, label, process, SpecLayouts.Observe(SpecLayouts.CountObservations, value), value);
            }
            return new JsonObject
            {
                ["range"] = new JsonArray(1, 2),
                ["bucket_count"] = 3,
                ["histogram_type"] = 4,
                ["values"] = new JsonObject { ["0"] = value, ["1"] = 0 },
                ["sum"] = value,
            };
        }

        JsonObject UseCounter(string name, long used)
        {
            Record(name, "", "content", [0, used, 0], used);
            return new JsonObject
            {
                ["range"] = new JsonArray(1, 2),
                ["bucket_count"] = 3,
                ["histogram_type"] = 2,
                ["values"] = new JsonObject { ["0"] = 0, ["1"] = used, ["2"] = 0 },
                ["sum"] = used,
            };
        }

        // --- parent histograms
        var histograms = new JsonObject
        {
            [Checkerboard.Name] = Hist(Checkerboard, "", "parent"),
            [InstantiatedFlag.Name] = Hist(InstantiatedFlag, "", "parent"),
            ["CHECKERBOARD_PEAK"] = null, // null histograms are skipped
        };
        if (rng.NextDouble() < 0.5) histograms[LookupTime.Name] = Hist(LookupTime, "", "parent");
        if (rng.NextDouble() < 0.7) histograms[Consumers.Name] = Hist(Consumers, "", "parent");
        if (rng.NextDouble() < 0.6) histograms[ShouldBlock.Name] = Hist(ShouldBlock, "", "parent");
        if (rng.NextDouble() < 0.6) histograms[BinaryType.Name] = Hist(BinaryType, "", "parent");
        if (rng.NextDouble() < 0.4) histograms[Undeclared.Name] = Hist(Undeclared, "", "parent");
        if (rng.NextDouble() < 0.5) histograms[CountHistogram] = CountHist(CountHistogram, "", "parent", rng.Next(0, 20000));
        double severity = rng.NextDouble();
        if (severity < 0.5)
        {
            histograms[Severity.Name] = Hist(Severity, "", "parent");
        }
        else if (severity < 0.75)
        {
            var bad = Hist(Severity, "", "parent", record: false);
            bad["sum"] = -5; // negative sum: skipped
            histograms[Severity.Name] = bad;
        }
        else
        {
            var bad = Hist(Severity, "", "parent", record: false);
            bad["sum"] = 12.5; // not an integer: skipped
            histograms[Severity.Name] = bad;
        }
        if (rng.NextDouble() < 0.3)
        {
            histograms["VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION"] = Hist(HistSpec.Lin("VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION", 1, 100, 50), "", "parent", record: false);
        }

        // --- keyed histograms
        var keyed = new JsonObject();
        var verdicts = new JsonObject();
        foreach (var key in VerdictKeys)
        {
            if (rng.NextDouble() < 0.5) verdicts[key] = Hist(Verdict2, key, "parent");
        }
        if (verdicts.Count > 0) keyed[Verdict2.Name] = verdicts;
        keyed["SEARCH_COUNTS"] = new JsonObject { ["google.urlbar"] = CountHist("SEARCH_COUNTS", "google.urlbar", "parent", 3, record: false) };

        // --- simple measurements (one nested level becomes NAME_SUB; deeper nesting and strings are ignored)
        long uptime = rng.Next(0, 40000);
        long customIter = rng.Next(0, 50);
        Record("SIMPLE_MEASURES_UPTIME", "", "parent", SpecLayouts.Observe(SpecLayouts.SimpleMeasures, uptime), uptime);
        Record("SIMPLE_MEASURES_JS_CUSTOMITER", "", "parent", SpecLayouts.Observe(SpecLayouts.SimpleMeasures, customIter), customIter);
        var simple = new JsonObject
        {
            ["uptime"] = uptime,
            ["js"] = new JsonObject { ["customIter"] = customIter },
            ["addonManager"] = new JsonObject { ["deeper"] = new JsonObject { ["x"] = 1 } },
            ["savedPingsText"] = "seven",
        };

        // --- scalars
        long tabs = rng.Next(1, 300);
        Record(TabCountScalar, "", "parent", SpecLayouts.Observe(SpecLayouts.Scalars, tabs), tabs);
        var parentScalars = new JsonObject
        {
            ["browser.engagement.max_concurrent_tab_count"] = tabs,
            ["telemetry.test.string_kind"] = "abc",
            ["telemetry.test.boolean_kind"] = true,
        };
        var toolbox = new JsonObject();
        if (rng.NextDouble() < 0.6)
        {
            long n = rng.Next(0, 40);
            toolbox["Inspector"] = n;
            Record(ToolboxScalar, "INSPECTOR", "parent", SpecLayouts.Observe(SpecLayouts.Scalars, n), n);
        }
        if (rng.NextDouble() < 0.4)
        {
            long n = rng.Next(0, 40);
            toolbox["webconsole"] = n;
            Record(ToolboxScalar, "WEBCONSOLE", "parent", SpecLayouts.Observe(SpecLayouts.Scalars, n), n);
        }
        var parentKeyedScalars = new JsonObject
        {
            ["browser.engagement.navigation.urlbar"] = new JsonObject { ["search.enter"] = 2 },
        };
        if (toolbox.Count > 0) parentKeyedScalars["devtools.toolbox.opened"] = toolbox;

        // --- content process
        var contentHistograms = new JsonObject();
        if (rng.NextDouble() < 0.5) contentHistograms[Checkerboard.Name] = Hist(Checkerboard, "", "content");
        if (rng.NextDouble() < 0.8)
        {
            long docs = rng.Next(1, 30);
            contentHistograms[TopLevelDocs] = CountHist(TopLevelDocs, "", "content", docs);
            if (rng.NextDouble() < 0.7) contentHistograms[UseCounterPage] = UseCounter(UseCounterPage, rng.Next(0, (int)docs + 1));
            long allDocs = docs + rng.Next(0, 10);
            contentHistograms[ContentDocs] = CountHist(ContentDocs, "", "content", allDocs);
            if (rng.NextDouble() < 0.7) contentHistograms[UseCounterDocument] = UseCounter(UseCounterDocument, rng.Next(0, (int)allDocs + 1));
        }
        var content = new JsonObject { ["histograms"] = contentHistograms };
        if (rng.NextDouble() < 0.3)
        {
            long contentTabs = rng.Next(1, 100);
            Record(TabCountScalar, "", "content", SpecLayouts.Observe(SpecLayouts.Scalars, contentTabs), contentTabs);
            content["scalars"] = new JsonObject { ["browser.engagement.max_concurrent_tab_count"] = contentTabs };
        }
        if (rng.NextDouble() < 0.3)
        {
            var contentVerdicts = new JsonObject { [VerdictKeys[rng.Next(VerdictKeys.Length)]] = null };
            string key = contentVerdicts.First().Key;
            contentVerdicts[key] = Hist(Verdict2, key, "content");
            content["keyedHistograms"] = new JsonObject { [Verdict2.Name] = contentVerdicts };
        }
        var parent = new JsonObject { ["scalars"] = parentScalars, ["keyedScalars"] = parentKeyedScalars };
        if (rng.NextDouble() < 0.5)
        {
            // processes.parent.histograms is the parent process too
            parent["histograms"] = new JsonObject { [CompositeTime.Name] = Hist(CompositeTime, "", "parent") };
        }
        var processes = new JsonObject
        {
            ["parent"] = parent,
            ["content"] = content,
        };
        if (rng.NextDouble() < 0.3)
        {
            processes["gpu"] = new JsonObject { ["histograms"] = new JsonObject { [Checkerboard.Name] = Hist(Checkerboard, "", "gpu") } };
        }

        var payload = new JsonObject
        {
            ["info"] = new JsonObject { ["reason"] = "daily", ["subsessionLength"] = 3600, ["subsessionStartDate"] = "2017-11-01T00:00:00.0+00:00" },
            ["simpleMeasurements"] = simple,
            ["histograms"] = histograms,
            ["keyedHistograms"] = keyed,
            ["processes"] = processes,
        };
        if (rng.NextDouble() < 0.3)
        {
            // old-style child payloads count as content
            payload["childPayloads"] = new JsonArray(new JsonObject { ["histograms"] = new JsonObject { [Checkerboard.Name] = Hist(Checkerboard, "", "content") } });
        }

        var ping = new JsonObject
        {
            ["type"] = "main",
            ["id"] = docId,
            ["creationDate"] = "2017-11-05T10:00:00.000Z",
            ["version"] = 4,
            ["clientId"] = Guid.NewGuid().ToString(),
            ["application"] = new JsonObject
            {
                ["name"] = app,
                ["version"] = appVersion,
                ["channel"] = channel,
                ["buildId"] = buildId,
                ["architecture"] = arch,
                ["platformVersion"] = appVersion,
                ["vendor"] = "Mozilla",
            },
            ["environment"] = new JsonObject
            {
                ["build"] = new JsonObject { ["version"] = appVersion, ["buildId"] = buildId, ["architecture"] = arch },
                ["system"] = new JsonObject { ["os"] = new JsonObject { ["name"] = os, ["version"] = osVersion } },
                ["settings"] = new JsonObject { ["e10sEnabled"] = true },
            },
            ["payload"] = payload,
        };
        return (ping, obs);
    }

    /// <summary>
    /// What the real classic Firefox 23 ping contributes, from the reference bucket lists the seed's
    /// converter computed (data/buckets/buckets.a55c55edf302.json), independently of the product.
    /// </summary>
    public static List<AggObs> Classic(JsonElement ping, JsonElement referenceHistograms, string channel, string version, string buildDate, string subDate)
    {
        var info = ping.GetProperty("info");
        string os = info.GetProperty("OS").GetString()!;
        string osVersion = info.GetProperty("version").GetString()!;
        string arch = info.GetProperty("arch").GetString()!;
        string app = info.GetProperty("appName").GetString()!;
        var obs = new List<AggObs>();
        void Record(string metric, long[] counts, long sum) =>
            obs.Add(new AggObs(channel, version, buildDate, subDate, metric, "", "parent", app, arch, os, osVersion, counts, sum));

        foreach (var h in ping.GetProperty("histograms").EnumerateObject())
        {
            if (h.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            var v = h.Value;
            if (!v.GetProperty("sum").TryGetInt64(out long sum) || sum < 0)
            {
                continue;
            }
            long[] bounds;
            bool isCount;
            if (referenceHistograms.TryGetProperty(h.Name, out var reference)
                || (h.Name.StartsWith("STARTUP_", StringComparison.Ordinal) && referenceHistograms.TryGetProperty(h.Name[8..], out reference)))
            {
                isCount = reference.GetProperty("kind").GetString() == "4";
                bounds = reference.GetProperty("buckets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            }
            else
            {
                var range = v.GetProperty("range");
                long low = range[0].GetInt64(), high = range[1].GetInt64();
                int n = v.GetProperty("bucket_count").GetInt32();
                int type = v.GetProperty("histogram_type").GetInt32();
                isCount = type == 4;
                bounds = type switch
                {
                    0 => SpecLayouts.Exponential(low, high, n),
                    2 or 3 => SpecLayouts.TwoState,
                    _ => SpecLayouts.Linear(low, high, n),
                };
            }
            if (isCount)
            {
                Record(h.Name, SpecLayouts.Observe(SpecLayouts.CountObservations, sum), sum);
                continue;
            }
            var counts = new long[bounds.Length];
            bool valid = true;
            foreach (var value in v.GetProperty("values").EnumerateObject())
            {
                int idx = Array.IndexOf(bounds, long.Parse(value.Name, CultureInfo.InvariantCulture));
                if (idx < 0 || !value.Value.TryGetInt64(out long c) || c < 0)
                {
                    valid = false;
                    break;
                }
                counts[idx] += c;
            }
            if (valid)
            {
                Record(h.Name, counts, sum);
            }
        }

        foreach (var m in ping.GetProperty("simpleMeasurements").EnumerateObject())
        {
            if (m.Value.ValueKind == JsonValueKind.Number && m.Value.TryGetInt64(out long value) && value >= 0)
            {
                Record("SIMPLE_MEASURES_" + m.Name.ToUpperInvariant(), SpecLayouts.Observe(SpecLayouts.SimpleMeasures, value), value);
            }
            else if (m.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var sub in m.Value.EnumerateObject())
                {
                    if (sub.Value.ValueKind == JsonValueKind.Number && sub.Value.TryGetInt64(out long sv) && sv >= 0)
                    {
                        Record("SIMPLE_MEASURES_" + m.Name.ToUpperInvariant() + "_" + sub.Name.ToUpperInvariant(), SpecLayouts.Observe(SpecLayouts.SimpleMeasures, sv), sv);
                    }
                }
            }
        }
        return obs;
    }
}
