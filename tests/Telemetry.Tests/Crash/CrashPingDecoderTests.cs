using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Crash;

/// <summary>Decoding main and crash pings into crash aggregate contributions.</summary>
public sealed class CrashPingDecoderTests
{
    private static readonly DateOnly Submission = new(2016, 3, 5);

    private static CrashDecodeResult Decode(CrashPingModel m, string? country = "US", DateOnly? submission = null)
    {
        var raw = PingReader.Read(m.ToJson());
        return CrashPingDecoder.Decode(raw, CrashPingDecoder.DocTypeOf(raw, m.DocType), country, submission ?? Submission);
    }

    private static CrashContribution Contribution(CrashPingModel m, string? country = "US", DateOnly? submission = null)
    {
        var r = Decode(m, country, submission);
        Assert.Equal(CrashDecodeOutcome.Contributed, r.Outcome);
        Assert.Null(r.Rejection);
        return r.Contribution!;
    }

    private static CrashPingModel CrashPing(string? date = "2016-03-02") =>
        new() { DocType = "crash", Type = "crash", DateText = date, SubsessionLength = null };

    private static Dictionary<string, double> Bucket0(double count) => new() { ["0"] = count };

    private static long[] Values(CrashContribution c) => c.Stats.Values;

    // ------------------------------------------------------------------ the worked example 

    [Fact]
    public void Spec_worked_example_gives_one_row()
    {
        var main = new CrashPingModel
        {
            SubsessionLength = 42L,
            CrashesWithDump = new() { ["content"] = Bucket0(42), ["plugin"] = Bucket0(42), ["gmplugin"] = Bucket0(42) },
        };
        var crash = CrashPing();

        var builder = new CrashDeltaBuilder();
        builder.Add(Contribution(main), Submission);
        builder.Add(Contribution(crash), Submission);
        var deltas = builder.Build();

        var key = CrashStatNames.GrainKey("2016-03-05", "nightly", "47.0a1");
        Assert.Equal([key], deltas.Keys);
        var delta = deltas[key];
        Assert.Equal(2, delta.Pings);
        var (rowKey, stats) = Assert.Single(delta.Rows);
        Assert.Equal("2016-03-02", rowKey.ActivityDate);
        Assert.Equal(
            """{"application":"Firefox","architecture":"x86-64","build_id":"20160302030405","build_version":"47.0a1","channel":"nightly","country":"US","e10s_cohort":"test","e10s_enabled":"True","gfx_compositor":"d3d11","os_name":"Windows_NT","os_version":"6.1"}""",
            rowKey.Dimensions);

        // ping_count, usage (s), main, content, plugin, gmplugin, gpu, content_shutdown, then squares.
        Assert.Equal([1, 42, 1, 42, 42, 42, 0, 0, 1, 42 * 42, 1, 1764, 1764, 1764, 0, 0], stats.Values);
        Assert.Equal(1, stats.Get(0));
        Assert.Equal(42 / 3600.0, stats.Get(CrashStatNames.UsageHours), 1e-15);
        Assert.Equal(1, stats.Get(2));
        Assert.Equal(42, stats.Get(3));
        Assert.Equal(1764, stats.Get(3, squared: true));
        Assert.Equal(42, stats.Get(4));
        Assert.Equal(42, stats.Get(5));
        Assert.Equal(0, stats.Get(6));
        Assert.Equal(0, stats.Get(7));
        Assert.Equal(1, stats.Get(2, squared: true));
        Assert.Equal(Math.Pow(42 / 3600.0, 2), stats.Get(CrashStatNames.UsageHours, squared: true), 1e-18);
    }

    [Fact]
    public void Main_ping_alone_and_crash_ping_alone()
    {
        var main = Contribution(new CrashPingModel { SubsessionLength = 7200L });
        Assert.True(main.IsMainPing);
        Assert.Equal([1, 7200, 0, 0, 0, 0, 0, 0, 1, 7200L * 7200, 0, 0, 0, 0, 0, 0], Values(main));

        var crash = Contribution(CrashPing());
        Assert.False(crash.IsMainPing);
        Assert.Equal([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], Values(crash));
        Assert.Equal(main.Dimensions, crash.Dimensions);
    }

    // ------------------------------------------------------------------ dates

    [Theory]
    [InlineData("2016-03-02T00:00:00.0+01:00", "2016-03-02")]
    [InlineData("2016-03-02T23:00:00.0-05:00", "2016-03-02")] // the date as written, not converted to UTC
    [InlineData("2016-03-02", "2016-03-02")]
    [InlineData("2016-03-05T00:00:00.0+00:00", "2016-03-05")] // = submission date
    [InlineData("2016-02-27T00:00:00.0+00:00", "2016-02-27")] // exactly 7 days earlier: kept
    [InlineData("2016-03-09T00:00:00.0+00:00", "2016-03-05")] // future → submission date
    [InlineData("2017-01-01", "2016-03-05")]
    [InlineData("2016-02-24T00:00:00.0+00:00", "2016-02-27")] // 10 days earlier → submission − 7
    [InlineData("2016-02-26", "2016-02-27")]
    [InlineData("1970-01-01", "2016-02-27")]
    public void Activity_date_is_the_written_date_clamped_into_the_week_before_submission(string written, string expected)
    {
        Assert.Equal(expected, Contribution(new CrashPingModel { DateText = written }).ActivityDateText);
        Assert.Equal(expected, Contribution(CrashPing(written)).ActivityDateText);
    }

    [Fact]
    public void Clamped_pings_share_the_row_of_the_clamped_date()
    {
        var builder = new CrashDeltaBuilder();
        builder.Add(Contribution(new CrashPingModel { DateText = "2016-02-01T00:00:00.0+00:00" }), Submission);
        builder.Add(Contribution(new CrashPingModel { DateText = "2016-02-27" }), Submission);
        builder.Add(Contribution(CrashPing("2016-02-20")), Submission);
        builder.Add(Contribution(CrashPing("2030-01-01")), Submission);
        var rows = Assert.Single(builder.Build().Values).Rows;
        Assert.Equal(2, rows.Count);
        Assert.Equal(2, rows.Single(r => r.Key.ActivityDate == "2016-02-27").Value.Values[0]);
        Assert.Equal(1, rows.Single(r => r.Key.ActivityDate == "2016-02-27").Value.Values[2]);
        Assert.Equal(1, rows.Single(r => r.Key.ActivityDate == "2016-03-05").Value.Values[2]);
    }

    // ------------------------------------------------------------------ rejections and ignored input

    public static TheoryData<string?> BadBuildIds => new() { null, "", "2016030203040", "201603020304056", "2016030203040a", " 0160302030405", "２０160302030405" };

    [Theory]
    [MemberData(nameof(BadBuildIds))]
    public void Bad_build_id_is_rejected(string? buildId)
    {
        Assert.Equal(CrashRejection.BadBuildId, Decode(new CrashPingModel { BuildId = buildId }).Rejection);
        Assert.Equal(CrashRejection.BadBuildId, Decode(CrashPing() with { BuildId = buildId }).Rejection);
        Assert.Equal("bad_build_id", Decode(CrashPing() with { BuildId = buildId }).RejectionName);
    }

    [Fact]
    public void Build_id_comes_from_the_environment_not_the_application()
    {
        Assert.Equal(CrashRejection.BadBuildId, Decode(new CrashPingModel { BuildId = null, AppBuildId = "20160302030405" }).Rejection);
        var c = Contribution(new CrashPingModel { BuildId = "20160301000000", AppBuildId = "junk" });
        Assert.Equal("20160301000000", CrashDimensions.Parse(c.Dimensions)["build_id"]);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("2016-02-30")]
    [InlineData("2016-13-01T00:00:00.0+00:00")]
    [InlineData("2016-3-2")]
    [InlineData("03/02/2016")]
    [InlineData("2016-03-02 10:00:00")]
    [InlineData("2016-03-0")]
    public void Unparseable_activity_date_is_rejected(string? date)
    {
        Assert.Equal(CrashRejection.BadDate, Decode(new CrashPingModel { DateText = date }).Rejection);
        Assert.Equal(CrashRejection.BadDate, Decode(CrashPing(date)).Rejection);
        Assert.Equal("bad_date", Decode(CrashPing(date)).RejectionName);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(12.5)]
    [InlineData("42")]
    public void Main_ping_without_integer_subsession_length_is_rejected(object? length)
    {
        var r = Decode(new CrashPingModel { SubsessionLength = length });
        Assert.Equal(CrashDecodeOutcome.Rejected, r.Outcome);
        Assert.Equal(CrashRejection.NoSubsessionLength, r.Rejection);
        Assert.Equal("no_subsession_length", r.RejectionName);
        Assert.Null(r.Contribution);
        // A crash ping needs none.
        Assert.Equal(CrashDecodeOutcome.Contributed, Decode(CrashPing() with { SubsessionLength = length }).Outcome);
    }

    [Theory]
    [InlineData("content")]
    [InlineData("plugin")]
    [InlineData("gmplugin")]
    [InlineData("gpu")]
    [InlineData("")]
    public void Child_process_crash_pings_are_rejected(string processType)
    {
        var r = Decode(CrashPing() with { ProcessType = processType });
        Assert.Equal(CrashRejection.ChildProcessCrash, r.Rejection);
        Assert.Equal("child_process_crash", r.RejectionName);
        // Checked before anything else: a child crash with a bad build id is still a child crash.
        Assert.Equal(CrashRejection.ChildProcessCrash, Decode(CrashPing("bad") with { ProcessType = processType, BuildId = null }).Rejection);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("browser")]
    [InlineData("main")]
    public void Browser_crash_pings_count(string? processType)
    {
        Assert.Equal(1, Values(Contribution(CrashPing() with { ProcessType = processType }))[2]);
    }

    [Fact]
    public void Process_type_of_a_main_ping_does_not_matter()
    {
        Assert.Equal(CrashDecodeOutcome.Contributed, Decode(new CrashPingModel { ProcessType = "content" }).Outcome);
    }

    [Theory]
    [InlineData("saved-session", "saved-session")]
    [InlineData("idle-daily", null)]
    [InlineData("event", "event")]
    [InlineData("main", "modules")] // the body's type wins over the URL
    [InlineData("Main", null)]
    public void Other_document_types_are_ignored_not_rejected(string urlDocType, string? bodyType)
    {
        var r = Decode(new CrashPingModel { DocType = urlDocType, Type = bodyType, BuildId = "bad" });
        Assert.Equal(CrashDecodeOutcome.Ignored, r.Outcome);
        Assert.Null(r.Rejection);
        Assert.Null(r.RejectionName);
        Assert.Null(r.Contribution);
        Assert.False(new CrashDeltaBuilder().Add(in r, Submission));
    }

    [Fact]
    public void Url_doc_type_is_used_when_the_body_has_no_type()
    {
        Assert.Equal(CrashDecodeOutcome.Contributed, Decode(new CrashPingModel { DocType = "main", Type = null }).Outcome);
        var crash = Decode(CrashPing() with { Type = null });
        Assert.False(crash.Contribution!.IsMainPing);
    }

    [Fact]
    public void Classic_pings_are_ignored()
    {
        Assert.Equal(CrashDecodeOutcome.Ignored, Decode(new CrashPingModel { Classic = true, DocType = "main", Type = null }).Outcome);
    }

    [Fact]
    public void Rejection_names_are_the_counter_labels()
    {
        Assert.Equal(["bad_build_id", "bad_date", "no_subsession_length", "child_process_crash"],
            CrashRejections.All.Select(CrashRejections.Name));
    }

    // ------------------------------------------------------------------ dimensions

    [Fact]
    public void Every_dimension_comes_from_its_field()
    {
        var c = Contribution(new CrashPingModel
        {
            AppName = "Fennec",
            Channel = "beta",
            BuildVersion = "45.0b3",
            BuildId = "20160101000000",
            Architecture = "arm",
            AppArchitecture = "x86",
            OsName = "Android",
            OsVersion = "23",
            ExperimentId = "e10s-beta45@experiments.mozilla.org",
            ExperimentBranch = "control",
            E10sEnabled = false,
            E10sCohort = "disqualified",
            Compositor = "opengl",
        }, country: "DE");
        Assert.Equal(
            """{"application":"Fennec","architecture":"arm","build_id":"20160101000000","build_version":"45.0b3","channel":"beta","country":"DE","e10s_cohort":"disqualified","e10s_enabled":"False","experiment_branch":"control","experiment_id":"e10s-beta45@experiments.mozilla.org","gfx_compositor":"opengl","os_name":"Android","os_version":"23"}""",
            c.Dimensions);
        Assert.Equal("beta", c.Channel);
        Assert.Equal("45.0b3", c.BuildVersion);
        Assert.Equal(CrashStatNames.GrainKey("2016-03-05", "beta", "45.0b3"), c.GrainKey(Submission));
    }

    [Fact]
    public void Null_values_are_absent_and_the_grain_key_uses_empty_strings()
    {
        var c = Contribution(new CrashPingModel
        {
            AppName = null, Channel = null, BuildVersion = null, Architecture = null, OsName = null, OsVersion = null,
            E10sEnabled = null, E10sCohort = null, Compositor = null,
        }, country: null);
        Assert.Equal("""{"build_id":"20160302030405","country":"??"}""", c.Dimensions);
        Assert.Null(c.Channel);
        Assert.Equal(CrashStatNames.GrainKey("2016-03-05", "", ""), c.GrainKey(Submission));
    }

    [Fact]
    public void Empty_string_values_are_kept()
    {
        var dims = CrashDimensions.Parse(Contribution(new CrashPingModel { E10sCohort = "" }).Dimensions);
        Assert.Equal("", dims["e10s_cohort"]);
    }

    [Fact]
    public void None_compositor_counts_as_absent()
    {
        var none = Contribution(new CrashPingModel { Compositor = "none" });
        var absent = Contribution(new CrashPingModel { Compositor = null });
        Assert.Equal(absent.Dimensions, none.Dimensions);
        Assert.DoesNotContain("gfx_compositor", none.Dimensions);
        Assert.NotEqual(none.Dimensions, Contribution(new CrashPingModel { Compositor = "None" }).Dimensions);

        var builder = new CrashDeltaBuilder();
        builder.Add(none, Submission);
        builder.Add(absent, Submission);
        builder.Add(Contribution(CrashPing() with { Compositor = "none" }), Submission);
        var (_, stats) = Assert.Single(Assert.Single(builder.Build().Values).Rows);
        Assert.Equal(2, stats.Values[0]);
        Assert.Equal(1, stats.Values[2]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Non_ascii_characters_become_question_marks(bool rawUtf8)
    {
        var c = Contribution(new CrashPingModel
        {
            RawUtf8 = rawUtf8,
            Channel = "nïghtly",
            BuildVersion = "47.0α1",
            OsVersion = "Windows 😀 10", // one character (two UTF-16 units) → one '?'
            E10sCohort = "日本語",
            ExperimentBranch = "a\"b\\c<d>&'+", // ASCII is kept (and escaped as JSON needs)
        });
        var dims = CrashDimensions.Parse(c.Dimensions);
        Assert.Equal("n?ghtly", dims["channel"]);
        Assert.Equal("47.0?1", dims["build_version"]);
        Assert.Equal("Windows ? 10", dims["os_version"]);
        Assert.Equal("???", dims["e10s_cohort"]);
        Assert.Equal("a\"b\\c<d>&'+", dims["experiment_branch"]);
        Assert.True(System.Text.Ascii.IsValid(c.Dimensions));
        Assert.Contains("\"experiment_branch\":\"a\\\"b\\\\c<d>&'+\"", c.Dimensions);
        Assert.Equal("n?ghtly", c.Channel);
        Assert.Equal(CrashStatNames.GrainKey("2016-03-05", "n?ghtly", "47.0?1"), c.GrainKey(Submission));
    }

    [Fact]
    public void Control_characters_become_question_marks_so_grain_keys_stay_parseable()
    {
        var c = Contribution(new CrashPingModel { Channel = "night\u001fly", BuildVersion = "47\t0\u007f", OsName = "Lin\nux" });
        Assert.Equal("night?ly", c.Channel);
        Assert.Equal("47?0?", c.BuildVersion);
        Assert.Equal("Lin?ux", CrashDimensions.Parse(c.Dimensions)["os_name"]);
        Assert.Equal(("2016-03-05", "night?ly", "47?0?"), CrashStatNames.ParseGrainKey(c.GrainKey(Submission)));
    }

    [Theory]
    [InlineData("US", "US")]
    [InlineData("de", "de")]
    [InlineData("Fr", "Fr")]
    [InlineData(null, "??")]
    [InlineData("", "??")]
    [InlineData("U", "??")]
    [InlineData("USA", "??")]
    [InlineData("U1", "??")]
    [InlineData("??", "??")]
    [InlineData("ÜS", "??")]
    [InlineData(" US", "??")]
    public void Country_is_the_header_when_it_is_two_ascii_letters(string? header, string expected)
    {
        Assert.Equal(expected, CrashDimensions.Parse(Contribution(new CrashPingModel(), country: header).Dimensions)["country"]);
        Assert.Equal(expected, CrashDimensions.CountryOf(header));
    }

    [Fact]
    public void Canonical_json_is_independent_of_insertion_order()
    {
        var a = CrashDimensions.ToCanonicalJson([new("os_name", "Linux"), new("channel", "beta"), new("country", null), new("build_id", "x")]);
        var b = CrashDimensions.ToCanonicalJson([new("build_id", "x"), new("channel", "beta"), new("os_name", "Linux")]);
        Assert.Equal("""{"build_id":"x","channel":"beta","os_name":"Linux"}""", a);
        Assert.Equal(a, b);
        Assert.Equal(CrashDimensions.Names.Order(StringComparer.Ordinal), CrashDimensions.Names);

        var decoded = Contribution(new CrashPingModel { ExperimentId = "x", ExperimentBranch = "y" });
        var reordered = CrashDimensions.Parse(decoded.Dimensions).Reverse().Select(kv => new KeyValuePair<string, string?>(kv.Key, kv.Value));
        Assert.Equal(decoded.Dimensions, CrashDimensions.ToCanonicalJson(reordered));
    }

    // ------------------------------------------------------------------ stats

    [Theory]
    [InlineData(-5L, 0L)]
    [InlineData(0L, 0L)]
    [InlineData(1L, 1L)]
    [InlineData(90_000L, 90_000L)]
    [InlineData(90_001L, 90_000L)]
    [InlineData(10_000_000_000L, 90_000L)]
    public void Usage_is_clamped_to_25_hours(long seconds, long expected)
    {
        var v = Values(Contribution(new CrashPingModel { SubsessionLength = seconds }));
        Assert.Equal(expected, v[1]);
        Assert.Equal(expected * expected, v[9]);
        Assert.Equal(1, v[0]);
        Assert.Equal(1, v[8]);
    }

    [Fact]
    public void Crash_counts_come_from_bucket_zero_of_the_parent_keyed_histograms()
    {
        var v = Values(Contribution(new CrashPingModel
        {
            CrashesWithDump = new()
            {
                ["content"] = new() { ["0"] = 3, ["1"] = 9, ["2"] = 1 },
                ["plugin"] = new() { ["1"] = 5 },          // no bucket 0 → 0
                ["gmplugin"] = new() { ["0"] = 0 },
                ["gpu"] = new() { ["0"] = 2 },
                ["unknown"] = new() { ["0"] = 100 },
            },
            KillHard = new() { ["ShutDownKill"] = new() { ["0"] = 4 }, ["Other"] = new() { ["0"] = 50 } },
            ContentProcessNoise = 1000,
        }));
        Assert.Equal([1, 3600, 0, 3, 0, 0, 2, 4, 1, 3600L * 3600, 0, 9, 0, 0, 4, 16], v);
    }

    [Theory]
    [InlineData(1.5, 0L)]
    [InlineData(-3, 0L)]
    [InlineData(2e6, 1_000_000L)]
    [InlineData(1e300, 1_000_000L)]
    public void Unusable_crash_counts(double count, long expected)
    {
        var v = Values(Contribution(new CrashPingModel { CrashesWithDump = new() { ["content"] = Bucket0(count) } }));
        Assert.Equal(expected, v[3]);
        Assert.Equal(expected * expected, v[11]);
    }

    [Fact]
    public void Crash_pings_ignore_histograms()
    {
        var v = Values(Contribution(CrashPing() with { CrashesWithDump = new() { ["content"] = Bucket0(5) } }));
        Assert.Equal([0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0], v);
    }

    // ------------------------------------------------------------------ builder

    [Fact]
    public void Builder_key_filter_drops_other_aggregates_and_does_not_alias_stats()
    {
        var keep = CrashStatNames.GrainKey("2016-03-05", "nightly", "47.0a1");
        var builder = new CrashDeltaBuilder(k => k == keep);
        var first = Contribution(new CrashPingModel());
        builder.Add(first, Submission);
        builder.Add(Contribution(new CrashPingModel()), Submission);
        builder.Add(Contribution(new CrashPingModel { Channel = "beta" }), Submission);
        builder.Add(Contribution(new CrashPingModel()), Submission.AddDays(1));
        var deltas = builder.Build();
        Assert.Equal([keep], deltas.Keys);
        Assert.Equal(2, deltas[keep].Pings);
        Assert.Equal(4, builder.Contributions);
        Assert.Equal(2, Assert.Single(deltas[keep].Rows).Value.Values[0]);
        Assert.Equal(1, first.Stats.Values[0]); // the contribution itself is not modified
    }
}
