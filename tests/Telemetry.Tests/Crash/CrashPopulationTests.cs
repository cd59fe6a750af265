using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Crash;

/// <summary>
/// A synthetic population of main, crash and other pings across every dimension, run through
/// PingReader + CrashPingDecoder + CrashDeltaBuilder, against a straightforward LINQ computation
/// over the generated model (README, "Crash aggregates").
/// </summary>
public sealed class CrashPopulationTests
{
    private sealed record Case(CrashPingModel Ping, string? Country, DateOnly Submission, byte[] Json);

    private sealed record Expected(string Outcome, string? GrainKey, string? ActivityDate, SortedDictionary<string, string>? Dimensions, long[]? Values);

    private static readonly DateOnly[] Submissions = [new(2016, 3, 5), new(2016, 3, 6)];

    private static readonly Lazy<List<Case>> PopulationLazy = new(() => Generate(4000, seed: 20160305));

    private static List<Case> Population => PopulationLazy.Value;

    // ------------------------------------------------------------------ generation

    private static T Pick<T>(Random rng, params T[] items) => items[rng.Next(items.Length)];

    private static List<Case> Generate(int count, int seed)
    {
        var rng = new Random(seed);
        var profiles = Enumerable.Range(0, 40).Select(_ =>
        {
            var (os, osVersion) = Pick<(string?, string?)>(rng, ("Windows_NT", "6.1"), ("Windows_NT", "10.0"), ("Darwin", "15.3.0"), ("Linux", "4.4.0-😀"), (null, null));
            var (expId, expBranch) = Pick<(string?, string?)>(rng, (null, null), (null, null), ("e10s@experiments", "control"), ("e10s@experiments", "experiment"), ("exp-ü", "branch\"q"));
            return new CrashPingModel
            {
                AppName = Pick(rng, "Firefox", "Firefox", "Fennec", null),
                Channel = Pick(rng, "nightly", "aurora", "beta", "release", null, "nïghtly"),
                BuildVersion = Pick(rng, "47.0a1", "46.0a2", "45.0", "45.0.1", null, "45.0β"),
                BuildId = Pick(rng, "20160301000000", "20160302030405", "20160215101010"),
                AppBuildId = Pick(rng, "20160301000000", null, "junk"),
                Architecture = Pick(rng, "x86", "x86-64", null),
                AppArchitecture = Pick(rng, "x86", null),
                OsName = os,
                OsVersion = osVersion,
                ExperimentId = expId,
                ExperimentBranch = expBranch,
                E10sEnabled = Pick<bool?>(rng, true, false, null),
                E10sCohort = Pick(rng, "test", "control", null, "unsupportedChannel", ""),
                Compositor = Pick(rng, "d3d11", "opengl", "none", null, "basic"),
            };
        }).ToArray();

        var cases = new List<Case>(count);
        for (int i = 0; i < count; i++)
        {
            var submission = Pick(rng, Submissions);
            var ping = Pick(rng, profiles) with { RawUtf8 = rng.Next(2) == 0 };
            var day = submission.AddDays(rng.Next(-12, 4));
            string dayText = day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string? dateText = rng.Next(50) == 0 ? Pick(rng, "garbage", "2016-02-30", null, "2016/03/01")
                : Pick(rng, dayText, dayText + "T00:00:00.0+01:00", dayText + "T00:00:00.0-08:00");
            if (rng.Next(50) == 0)
            {
                ping = ping with { BuildId = Pick(rng, "2016030100000", "2016030100000x", null) };
            }
            int kind = rng.Next(10);
            if (kind < 7)
            {
                object? length = rng.Next(50) switch
                {
                    0 => 12.5,
                    1 => null,
                    2 => (long)-rng.Next(1, 1000),
                    3 => (long)rng.Next(90_000, 200_000),
                    _ => (long)rng.Next(0, 90_000),
                };
                var dumps = new Dictionary<string, Dictionary<string, double>>();
                foreach (var key in new[] { "content", "plugin", "gmplugin", "gpu", "other" })
                {
                    if (rng.Next(3) == 0) dumps[key] = CountValues(rng);
                }
                var kill = new Dictionary<string, Dictionary<string, double>>();
                if (rng.Next(4) == 0) kill["ShutDownKill"] = CountValues(rng);
                if (rng.Next(6) == 0) kill["ShutdownKill"] = CountValues(rng); // wrong case: not counted
                ping = ping with
                {
                    DocType = "main",
                    Type = rng.Next(10) == 0 ? null : "main",
                    SubsessionLength = length,
                    DateText = dateText,
                    CrashesWithDump = dumps,
                    KillHard = kill,
                    ContentProcessNoise = rng.Next(5) == 0 ? rng.Next(1, 9) : null,
                };
            }
            else if (kind < 9)
            {
                ping = ping with
                {
                    DocType = "crash",
                    Type = rng.Next(10) == 0 ? null : "crash",
                    SubsessionLength = null,
                    DateText = dateText,
                    ProcessType = rng.Next(10) switch { 0 => "browser", 1 => "main", 2 => "content", 3 => "plugin", 4 => "gpu", _ => null },
                };
            }
            else
            {
                string docType = Pick(rng, "saved-session", "idle-daily", "first-shutdown");
                ping = ping with { DocType = docType, Type = docType, DateText = dateText };
            }
            string? country = Pick(rng, "US", "US", "de", "FR", null, "XYZ", "1A", "ÜS");
            cases.Add(new Case(ping, country, submission, ping.ToJson()));
        }
        return cases;
    }

    private static Dictionary<string, double> CountValues(Random rng)
    {
        var values = new Dictionary<string, double>();
        if (rng.Next(6) != 0) values["0"] = rng.Next(0, 6);
        if (rng.Next(3) == 0) values["1"] = rng.Next(1, 4);
        return values;
    }

    // ------------------------------------------------------------------ the independent computation

    private static readonly Regex BuildIdPattern = new("^[0-9]{14}$");
    private static readonly Regex CountryPattern = new("^[A-Za-z]{2}$");
    private static readonly Regex NonAscii = new(@"[\uD800-\uDBFF][\uDC00-\uDFFF]|[^\x00-\x7F]");
    private static readonly Regex DatePattern = new(@"^(\d{4}-\d{2}-\d{2})(T.*)?$");

    private static string? Ascii(string? s) => s is null ? null : NonAscii.Replace(s, "?");

    private static Expected Expect(Case c)
    {
        var p = c.Ping;
        string docType = p.Type ?? p.DocType;
        if (docType is not ("main" or "crash"))
        {
            return new Expected("ignored", null, null, null, null);
        }
        bool main = docType == "main";
        if (!main && p.ProcessType is not (null or "browser" or "main")) return new Expected("child_process_crash", null, null, null, null);
        if (p.BuildId is null || !BuildIdPattern.IsMatch(p.BuildId)) return new Expected("bad_build_id", null, null, null, null);
        if (main && p.SubsessionLength is not long) return new Expected("no_subsession_length", null, null, null, null);
        var m = p.DateText is null ? null : DatePattern.Match(p.DateText);
        if (m is null || !m.Success || !DateTime.TryParseExact(m.Groups[1].Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var written))
        {
            return new Expected("bad_date", null, null, null, null);
        }
        var activity = DateOnly.FromDateTime(written);
        if (activity > c.Submission) activity = c.Submission;
        if (activity < c.Submission.AddDays(-7)) activity = c.Submission.AddDays(-7);

        var dims = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Put(string name, string? value)
        {
            if (value is not null) dims[name] = Ascii(value)!;
        }
        Put("build_version", p.BuildVersion);
        Put("build_id", p.BuildId);
        Put("channel", p.Channel);
        Put("application", p.AppName);
        Put("os_name", p.OsName);
        Put("os_version", p.OsVersion);
        Put("architecture", p.Architecture);
        Put("country", c.Country is not null && CountryPattern.IsMatch(c.Country) ? c.Country : "??");
        Put("experiment_id", p.ExperimentId);
        Put("experiment_branch", p.ExperimentBranch);
        Put("e10s_enabled", p.E10sEnabled?.ToString());
        Put("e10s_cohort", p.E10sCohort);
        Put("gfx_compositor", p.Compositor == "none" ? null : p.Compositor);

        long[] basic = new long[8];
        if (main)
        {
            long Bucket0(Dictionary<string, Dictionary<string, double>> h, string key) =>
                h.TryGetValue(key, out var v) && v.TryGetValue("0", out var n) ? (long)n : 0;
            basic[0] = 1;
            basic[1] = Math.Min(90_000, Math.Max(0, (long)p.SubsessionLength!));
            basic[3] = Bucket0(p.CrashesWithDump, "content");
            basic[4] = Bucket0(p.CrashesWithDump, "plugin");
            basic[5] = Bucket0(p.CrashesWithDump, "gmplugin");
            basic[6] = Bucket0(p.CrashesWithDump, "gpu");
            basic[7] = Bucket0(p.KillHard, "ShutDownKill");
        }
        else
        {
            basic[2] = 1;
        }
        var values = basic.Concat(basic.Select(x => x * x)).ToArray();
        string grainKey = string.Join('\u001f', "crash", c.Submission.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Ascii(p.Channel) ?? "", Ascii(p.BuildVersion) ?? "");
        return new Expected("contributed", grainKey, activity.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), dims, values);
    }

    private static string DimsKey(IEnumerable<KeyValuePair<string, string>> dims) =>
        string.Join("\u0001", dims.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    // ------------------------------------------------------------------ the product

    private static CrashDecodeResult Decode(Case c)
    {
        var raw = PingReader.Read(c.Json);
        return CrashPingDecoder.Decode(raw, CrashPingDecoder.DocTypeOf(raw, c.Ping.DocType), c.Country, c.Submission);
    }

    private static ImmutableDictionary<string, CrashDelta> BuildDeltas(IEnumerable<Case> cases)
    {
        var builder = new CrashDeltaBuilder();
        foreach (var c in cases)
        {
            builder.Add(Decode(c), c.Submission);
        }
        return builder.Build();
    }

    /// <summary>Every delta, every row, in a fixed order: what a reprocessing must reproduce byte for byte.</summary>
    private static string Canonical(IReadOnlyDictionary<string, CrashDelta> deltas)
    {
        var sb = new StringBuilder();
        foreach (var key in deltas.Keys.Order(StringComparer.Ordinal))
        {
            var delta = deltas[key];
            sb.Append(key.Replace('\u001f', '|')).Append(" pings=").Append(delta.Pings).Append('\n');
            foreach (var (row, stats) in delta.Rows.OrderBy(r => r.Key.ActivityDate, StringComparer.Ordinal).ThenBy(r => r.Key.Dimensions, StringComparer.Ordinal))
            {
                sb.Append("  ").Append(row.ActivityDate).Append(' ').Append(row.Dimensions).Append(' ')
                    .AppendJoin(',', stats.Values).Append('\n');
            }
        }
        return sb.ToString();
    }

    // ------------------------------------------------------------------ tests

    [Fact]
    public void Population_covers_every_outcome()
    {
        var outcomes = Population.Select(c => Expect(c).Outcome).CountBy(o => o).ToDictionary();
        foreach (var o in new[] { "ignored", "contributed", "bad_build_id", "bad_date", "no_subsession_length", "child_process_crash" })
        {
            Assert.True(outcomes.GetValueOrDefault(o) > 10, $"{o}: {outcomes.GetValueOrDefault(o)}");
        }
        Assert.True(outcomes["contributed"] > 2500);
    }

    [Fact]
    public void Each_ping_is_ignored_rejected_or_contributes_as_the_model_says()
    {
        var actual = new Dictionary<string, int>();
        foreach (var c in Population)
        {
            var e = Expect(c);
            var r = Decode(c);
            string outcome = r.Outcome switch
            {
                CrashDecodeOutcome.Ignored => "ignored",
                CrashDecodeOutcome.Contributed => "contributed",
                _ => r.RejectionName!,
            };
            Assert.Equal(e.Outcome, outcome);
            if (r.Contribution is { } contribution)
            {
                Assert.Equal(e.GrainKey, contribution.GrainKey(c.Submission));
                Assert.Equal(e.ActivityDate, contribution.ActivityDateText);
                Assert.Equal(e.Values, contribution.Stats.Values);
                Assert.Equal(e.Dimensions!, CrashDimensions.Parse(contribution.Dimensions));
            }
        }
    }

    [Fact]
    public void Aggregates_equal_a_straightforward_group_by()
    {
        var deltas = BuildDeltas(Population);

        var expected = Population.Select(Expect).Where(e => e.Outcome == "contributed")
            .GroupBy(e => e.GrainKey!)
            .ToDictionary(g => g.Key, g => (
                Pings: g.Count(),
                Rows: g.GroupBy(e => e.ActivityDate + "|" + DimsKey(e.Dimensions!))
                    .ToDictionary(r => r.Key, r => (
                        Dimensions: r.First().Dimensions!,
                        Values: Enumerable.Range(0, 16).Select(i => r.Sum(e => e.Values![i])).ToArray()))));

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), deltas.Keys.Order(StringComparer.Ordinal));
        var relaxed = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = false };
        int rows = 0, merged = 0;
        foreach (var (key, delta) in deltas)
        {
            var want = expected[key];
            Assert.Equal(want.Pings, delta.Pings);
            Assert.Equal(want.Rows.Count, delta.Rows.Count);
            foreach (var (rowKey, stats) in delta.Rows)
            {
                var id = rowKey.ActivityDate + "|" + DimsKey(CrashDimensions.Parse(rowKey.Dimensions));
                Assert.True(want.Rows.TryGetValue(id, out var row), $"unexpected row {id}");
                Assert.Equal(row.Values, stats.Values);
                // Canonical text: sorted keys, no whitespace, same bytes as an ordinary serializer would write.
                Assert.Equal(JsonSerializer.Serialize(row.Dimensions, relaxed), rowKey.Dimensions);
                rows++;
                if (stats.Values[0] + stats.Values[2] > 1) merged++;
            }
        }
        Assert.True(rows > 100, $"{rows} rows");
        Assert.True(merged > 100, $"{merged} rows with more than one ping"); // the population exercises summation
        Assert.Equal(Population.Count(c => Expect(c).Outcome == "contributed"), deltas.Values.Sum(d => d.Pings));
    }

    [Fact]
    public void Summation_order_does_not_change_a_byte()
    {
        string reference = Canonical(BuildDeltas(Population));
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var shuffled = Population.ToArray();
            new Random(seed).Shuffle(shuffled);
            Assert.Equal(reference, Canonical(BuildDeltas(shuffled)));
        }
        var reversed = Population.AsEnumerable().Reverse().ToList();
        Assert.Equal(reference, Canonical(BuildDeltas(reversed)));
    }

    [Fact]
    public void Batches_merged_like_the_grain_merges_them_equal_one_batch()
    {
        string reference = Canonical(BuildDeltas(Population));
        var merged = new Dictionary<string, CrashDelta>(StringComparer.Ordinal);
        foreach (var batch in Population.Chunk(337))
        {
            foreach (var (key, delta) in BuildDeltas(batch))
            {
                if (!merged.TryGetValue(key, out var into))
                {
                    merged[key] = into = new CrashDelta();
                }
                into.Pings += delta.Pings;
                foreach (var (row, stats) in delta.Rows)
                {
                    if (into.Rows.TryGetValue(row, out var existing)) existing.Add(stats);
                    else into.Rows[row] = stats.Clone();
                }
            }
        }
        Assert.Equal(reference, Canonical(merged));
    }
}
