using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Contracts.Probes;
using Telemetry.Grains.Registry;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Ingest;

/// <summary>
/// Pings and probe definitions shared by the ingest tests, plus an independent implementation of the
/// bucket formulas of docs/probes.md (deliberately not the product's <c>BucketLayout</c>) for expectations.
/// </summary>
internal static class IngestTestData
{
    public const string ClassicRevision = "a55c55edf302";

    /// <summary>The modern sample definitions plus a declared count histogram; "nightly" points at it (and "beta" at the classic revision).</summary>
    public const string UnifiedRevision = "unified-test";

    public const string UnifiedChannel = "nightly";

    private static readonly Lazy<byte[]> RealPingLazy = new(() =>
        File.ReadAllBytes(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));

    private static readonly Lazy<string> UnifiedRevisionJsonLazy = new(() =>
    {
        var doc = JsonNode.Parse(File.ReadAllText(TestPaths.SharedData("histograms", "Histograms.modern-sample.json")))!.AsObject();
        doc["SYNTH_COUNT"] = new JsonObject
        {
            ["record_in_processes"] = new JsonArray("main"),
            ["expires_in_version"] = "never",
            ["kind"] = "count",
            ["description"] = "A synthetic count histogram for the ingest tests",
        };
        return doc.ToJsonString();
    });

    private static readonly Lazy<ProbeSnapshot> SnapshotLazy = new(() =>
    {
        var t0 = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var content = new ProbeRegistryContent
        {
            Version = 1,
            Revisions =
            [
                new ProbeRevisionDocument
                {
                    Revision = ClassicRevision,
                    HistogramsJson = File.ReadAllText(TestPaths.SharedData("histograms", $"Histograms.{ClassicRevision}.json")),
                    UploadedAt = t0,
                },
                new ProbeRevisionDocument { Revision = UnifiedRevision, HistogramsJson = UnifiedRevisionJson, UploadedAt = t0.AddDays(1) },
            ],
            Channels = ImmutableDictionary<string, string>.Empty.Add(UnifiedChannel, UnifiedRevision).Add("beta", ClassicRevision),
        };
        return ProbeSnapshotBuilder.Build(content, null);
    });

    /// <summary>The real Firefox 23 idle-daily ping (classic, uncompressed JSON).</summary>
    public static byte[] RealPing => RealPingLazy.Value;

    public const string RealPingPathRest = "idle-daily/Firefox/23.0.1/release/20130814063812";

    public static string PingsDirectory => Path.Combine(TestPaths.RepoRoot, "tests", "Telemetry.Tests", "TestData", "pings");

    /// <summary>The synthetic unified (version 4) main ping of TestData/pings.</summary>
    public static byte[] UnifiedPing => File.ReadAllBytes(Path.Combine(PingsDirectory, "unified-main-v4.json"));

    public const string UnifiedPathRest = "main/Firefox/57.0a1/nightly/20170901123456";

    public static string UnifiedRevisionJson => UnifiedRevisionJsonLazy.Value;

    public static ProbeSnapshot Snapshot => SnapshotLazy.Value;

    /// <summary>The real classic ping with some <c>info</c> fields replaced.</summary>
    public static byte[] ClassicVariant(string? buildId = null, string? os = null, string? osVersion = null)
    {
        var node = JsonNode.Parse(RealPing)!.AsObject();
        var info = node["info"]!.AsObject();
        if (buildId is not null) info["appBuildID"] = buildId;
        if (os is not null) info["OS"] = os;
        if (osVersion is not null) info["version"] = osVersion;
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    /// <summary>The synthetic unified ping after <paramref name="edit"/> changed its JSON tree.</summary>
    public static byte[] UnifiedVariant(Action<JsonObject> edit)
    {
        var node = JsonNode.Parse(UnifiedPing)!.AsObject();
        edit(node);
        return Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    // ------------------------------------------------------------------ independent bucket formulas (docs/probes.md)

    public static long[] LinearBounds(long low, long high, int n)
    {
        low = Math.Max(low, 1);
        var b = new long[n];
        for (int i = 1; i < n; i++)
        {
            b[i] = (long)Math.Floor((low * (double)(n - 1 - i) + high * (double)(i - 1)) / (n - 2) + 0.5);
        }
        return b;
    }

    public static long[] ExponentialBounds(long low, long high, int n)
    {
        low = Math.Max(low, 1);
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

    /// <summary>The bounds of the layout a ping declares: type 0 exponential; 1 and 5 linear; 2, 3, 4 (1, 2, 3).</summary>
    public static long[] DeclaredBounds(int type, long low, long high, int n) => type switch
    {
        0 => ExponentialBounds(low, high, n),
        1 or 5 => LinearBounds(low, high, n),
        2 or 3 or 4 => LinearBounds(1, 2, 3),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown histogram type"),
    };

    /// <summary>Index of the bucket with the largest lower bound ≤ value.</summary>
    public static int BucketOfValue(long[] bounds, double value)
    {
        int index = 0;
        for (int i = 0; i < bounds.Length; i++)
        {
            if (bounds[i] <= value) index = i;
        }
        return index;
    }

    /// <summary>Dense counts of a ping histogram's sparse <c>values</c> over <paramref name="bounds"/>.</summary>
    public static long[] DenseCounts(JsonElement histogram, long[] bounds)
    {
        var counts = new long[bounds.Length];
        foreach (var v in histogram.GetProperty("values").EnumerateObject())
        {
            int index = Array.IndexOf(bounds, long.Parse(v.Name, System.Globalization.CultureInfo.InvariantCulture));
            if (index < 0)
            {
                throw new InvalidOperationException($"bound {v.Name} is not in the layout");
            }
            counts[index] += v.Value.GetInt64();
        }
        return counts;
    }

    public static long[] CountObservationBounds => ExponentialBounds(1, 10000, 100);

    public static long[] ScalarBounds => ExponentialBounds(1, 10000, 100);

    public static long[] SimpleMeasureBounds => ExponentialBounds(1, 30000, 50);
}
