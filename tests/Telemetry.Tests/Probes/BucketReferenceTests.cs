using System.Globalization;
using System.Text.Json;
using Telemetry.Grains.Probes;
using Xunit.Abstractions;

namespace Telemetry.Tests.Probes;

/// <summary>
/// The reference test: for three real Firefox revisions, our layouts must equal the bucket
/// lists the original converter computed, for every histogram of the buckets file.
/// </summary>
public sealed class BucketReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Revisions()
    {
        var data = new TheoryData<string>();
        foreach (var revision in ProbeTestData.Revisions)
        {
            data.Add(revision);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Revisions))]
    public void LayoutsEqualTheReferenceBucketsForEveryHistogram(string revision)
    {
        var parsed = HistogramsJsonParser.Parse(ProbeTestData.ReadBytes($"Histograms.{revision}.json"));
        Assert.Empty(parsed.Errors);

        using var reference = JsonDocument.Parse(ProbeTestData.ReadBytes($"buckets.{revision}.json"));
        var histograms = reference.RootElement.GetProperty("histograms");

        var failures = new List<string>();
        var checkedCount = 0;
        var viaStartupPrefix = 0;
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in histograms.EnumerateObject())
        {
            var name = entry.Name;
            var expected = entry.Value;
            if (!parsed.Definitions.TryGetDefinition(name, out var definition))
            {
                failures.Add($"{name}: no definition (neither {name} nor its STARTUP_ base)");
                continue;
            }

            referenced.Add(definition.Name);
            if (definition.Name != name)
            {
                viaStartupPrefix++;
            }

            var layout = definition.Layout;
            if (layout is null)
            {
                failures.Add($"{name}: definition has no layout");
                continue;
            }

            var expectedBounds = expected.GetProperty("buckets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var expectedKind = int.Parse(expected.GetProperty("kind").GetString()!, CultureInfo.InvariantCulture);
            if (!layout.LowerBounds.SequenceEqual(expectedBounds))
            {
                failures.Add($"{name}: {layout} bounds [{string.Join(",", layout.LowerBounds)}] != reference [{string.Join(",", expectedBounds)}]");
            }

            if (layout.TypeCode != expectedKind)
            {
                failures.Add($"{name}: type code {layout.TypeCode} != reference kind {expectedKind}");
            }

            if (layout.Low != expected.GetProperty("min").GetInt64() ||
                layout.High != expected.GetProperty("max").GetInt64() ||
                layout.BucketCount != expected.GetProperty("bucket_count").GetInt32())
            {
                failures.Add($"{name}: {layout} != reference ({expected.GetProperty("min")}, {expected.GetProperty("max")}, {expected.GetProperty("bucket_count")})");
            }

            checkedCount++;
        }

        // Every definition of the Histograms file is in the bucket file, or is explained.
        var unexplained = new List<string>();
        foreach (var (name, definition) in parsed.Definitions.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (referenced.Contains(name))
            {
                continue;
            }

            if (definition.Layout is null)
            {
                output.WriteLine($"{revision}: {name} ({HistogramKinds.Name(definition.Kind)}) is not in the bucket file: " +
                                 "its parameters are C++ constants, so its layout comes from the ping.");
            }
            else
            {
                unexplained.Add($"{name}: has layout {definition.Layout} but is not in the bucket file");
            }
        }

        output.WriteLine($"{revision}: {parsed.Definitions.Count} definitions, {checkedCount} reference histograms checked " +
                         $"({viaStartupPrefix} STARTUP_ names resolved to their base definition).");
        foreach (var failure in failures.Concat(unexplained).Take(50))
        {
            output.WriteLine(failure);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} mismatches, first: {failures.FirstOrDefault()}");
        Assert.True(unexplained.Count == 0, $"{unexplained.Count} unexplained definitions, first: {unexplained.FirstOrDefault()}");
        Assert.True(checkedCount > 700, $"only {checkedCount} histograms checked");
    }

    [Theory]
    [MemberData(nameof(Revisions))]
    public void DefinitionsWithCppConstantsTakeTheirLayoutFromThePing(string revision)
    {
        var parsed = HistogramsJsonParser.Parse(ProbeTestData.ReadBytes($"Histograms.{revision}.json"));
        var gcReason = parsed.Definitions["GC_REASON_2"];
        Assert.Equal(HistogramKind.Enumerated, gcReason.Kind);
        Assert.Null(gcReason.Layout);
        Assert.Equal("Reason (enum value) for initiating a GC", gcReason.Description);

        // Enumerated histograms are sent as type 1 with range [1, n] and n + 1 buckets.
        var declared = BucketLayout.FromDeclared(1, 1, 100, 101);
        Assert.NotNull(declared);
        var resolved = gcReason.ResolveLayout(declared);
        Assert.NotNull(resolved);
        Assert.Equal(HistogramKind.Enumerated, resolved.Kind);
        Assert.Equal(101, resolved.BucketCount);
        Assert.True(resolved.HasSameBounds(declared));

        // A declared layout of another type, or not enumerated-shaped, is not valid for the kind.
        Assert.Null(gcReason.ResolveLayout(BucketLayout.FromDeclared(0, 1, 100, 10)));
        Assert.Null(gcReason.ResolveLayout(BucketLayout.FromDeclared(1, 1, 1000, 20)));
        Assert.Null(gcReason.ResolveLayout(null));

        // Definitions with a layout ignore the declared one.
        var gcMs = parsed.Definitions["GC_MS"];
        Assert.Same(gcMs.Layout, gcMs.ResolveLayout(declared));
    }

    [Fact]
    public void ModernSampleParsesWithoutErrors()
    {
        var parsed = HistogramsJsonParser.Parse(ProbeTestData.ReadBytes("Histograms.modern-sample.json"));
        Assert.Empty(parsed.Errors);
        Assert.Equal(31, parsed.Definitions.Count);
        Assert.All(parsed.Definitions.Values, d => Assert.NotNull(d.Layout));

        var consumers = parsed.Definitions["A11Y_CONSUMERS"];
        Assert.Equal(HistogramKind.Enumerated, consumers.Kind);
        Seq.Equal([0L, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], consumers.Layout!.LowerBounds);
        Assert.Equal("never", consumers.ExpiresInVersion);
        Seq.Equal(["main"], consumers.RecordInProcesses);
        Seq.Equal(["firefox", "fennec"], consumers.Products);
        Seq.Equal([1382820, 1462238], consumers.BugNumbers);
        Seq.Equal(["accessibility@mozilla.com", "jteh@mozilla.com"], consumers.AlertEmails);
        Assert.Equal("opt-out", consumers.ReleaseChannelCollection);

        var verdict = parsed.Definitions["APPLICATION_REPUTATION_SERVER_VERDICT_2"];
        Assert.True(verdict.Keyed);
        Assert.Equal(HistogramKind.Categorical, verdict.Kind);
        Assert.Equal(6, verdict.Labels.Length);
        Assert.Equal((1L, 50L, 51), (verdict.Layout!.Low, verdict.Layout.High, verdict.Layout.BucketCount));
        Assert.Equal("Dangerous", verdict.Layout.LabelOf(1));
        Assert.Null(verdict.Layout.LabelOf(6));

        Assert.False(parsed.Definitions["A11Y_UIA_DETECTION_TIMING_MS"].Keyed);
        var lookup = parsed.Definitions["APPLICATION_REPUTATION_REMOTE_LOOKUP_RESPONSE_TIME"].Layout!;
        Assert.Equal((HistogramKind.Linear, 1000L, 15000L, 17), (lookup.Kind, lookup.Low, lookup.High, lookup.BucketCount));
    }

    [Fact]
    public void FallbackCopyMatchesSharedData()
    {
        string[] files =
        [
            .. ProbeTestData.Revisions.Select(r => $"Histograms.{r}.json"),
            .. ProbeTestData.Revisions.Select(r => $"buckets.{r}.json"),
            "Histograms.modern-sample.json",
        ];
        foreach (var file in files)
        {
            var fallback = ProbeTestData.FallbackPathOf(file);
            Assert.True(File.Exists(fallback), $"missing fallback copy {fallback}");
            if (ProbeTestData.SharedDataDirectory is null)
            {
                continue;
            }

            Assert.True(
                File.ReadAllBytes(ProbeTestData.PathOf(file)).AsSpan().SequenceEqual(File.ReadAllBytes(fallback)),
                $"{fallback} differs from shared/data; copy it again");
        }

        output.WriteLine(ProbeTestData.SharedDataDirectory is null
            ? "shared/data not found: tests use TestData/shared"
            : $"tests use {ProbeTestData.SharedDataDirectory}");
    }
}
