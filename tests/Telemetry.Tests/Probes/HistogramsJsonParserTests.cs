using System.Text;
using Telemetry.Grains.Probes;

namespace Telemetry.Tests.Probes;

public sealed class HistogramsJsonParserTests
{
    [Fact]
    public void NumbersGivenAsStringsAreAccepted()
    {
        var result = HistogramsJsonParser.Parse("""
            { "A": { "kind": "exponential", "low": "1", "high": "10000", "n_buckets": " 50 ", "description": "d" } }
            """);
        Assert.Empty(result.Errors);
        Assert.Same(BucketLayout.Exponential(1, 10000, 50), result.Definitions["A"].Layout);
        Assert.Equal("d", result.Definitions["A"].Description);
    }

    [Theory]
    [InlineData("80 + 1", 81)]
    [InlineData("2 * 60", 120)]
    [InlineData("(10+2)*3", 36)]
    [InlineData("16 * 1024 * 1024", 16 * 1024 * 1024)]
    [InlineData("10 * 1000", 10000)]
    [InlineData("100 - 2 * 3", 94)]
    [InlineData("(100 - 2) * 3", 294)]
    [InlineData("7 / 2 + 1", 4)]
    [InlineData("-(-30)", 30)]
    [InlineData(" ((( 5 ))) ", 5)]
    public void SimpleArithmeticIsEvaluated(string expression, long expected)
    {
        Assert.Equal(ExpressionOutcome.Value, ProbeExpression.Evaluate(expression, out var value));
        Assert.Equal(expected, value);

        var result = HistogramsJsonParser.Parse(
            $$"""{ "H": { "kind": "linear", "high": "{{expression}} + 1000", "n_buckets": "{{expression}} - {{expected}} + 20" } }""");
        Assert.Empty(result.Errors);
        var layout = result.Definitions["H"].Layout!;
        Assert.Equal((expected + 1000, 20), (layout.High, layout.BucketCount));
    }

    [Theory]
    [InlineData("JS::gcreason::NUM_TELEMETRY_REASONS")]
    [InlineData("mozilla::StartupTimeline::MAX_EVENT_ID")]
    [InlineData("NUM_REASONS + 1")]
    [InlineData("(mozilla::X - 1) / 2 + 2")]
    [InlineData("_private_Const1 * 4")]
    public void CppConstantsAreRecognised(string expression)
    {
        Assert.Equal(ExpressionOutcome.Constant, ProbeExpression.Evaluate(expression, out _));
    }

    [Fact]
    public void LiteralZeroDivisorIsInvalidEvenNextToConstants()
    {
        Assert.Equal(ExpressionOutcome.Invalid, ProbeExpression.Evaluate("mozilla::X / 0", out _));
        Assert.Equal(ExpressionOutcome.Invalid, ProbeExpression.Evaluate("mozilla::X / (2 - 2)", out _));
        Assert.Equal(ExpressionOutcome.Constant, ProbeExpression.Evaluate("10 / (X - X)", out _)); // unknown, not provably zero
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1 +")]
    [InlineData("(1 + 2")]
    [InlineData("1 + 2)")]
    [InlineData("10 / 0")]
    [InlineData("10u")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("2 ** 3")]
    [InlineData("2 ^ 3")]
    [InlineData("sizeof(int)")]
    [InlineData("JS::")]
    [InlineData("a b")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775807 * 2")]
    [InlineData("__import__('os')")]
    public void OtherStringsAreNotExpressions(string expression)
    {
        Assert.Equal(ExpressionOutcome.Invalid, ProbeExpression.Evaluate(expression, out _));
    }

    [Fact]
    public void DeepOrLongExpressionsAreRejected()
    {
        Assert.Equal(ExpressionOutcome.Invalid, ProbeExpression.Evaluate(new string('(', 100) + "1" + new string(')', 100), out _));
        Assert.Equal(ExpressionOutcome.Invalid, ProbeExpression.Evaluate(string.Join("+", Enumerable.Repeat("1", 200)), out _));
        Assert.Equal(ExpressionOutcome.Value, ProbeExpression.Evaluate(string.Join("+", Enumerable.Repeat("1", 100)), out var v));
        Assert.Equal(100, v);
    }

    [Fact]
    public void CppConstantKeepsKindAndDescriptionWithoutLayout()
    {
        var result = HistogramsJsonParser.Parse("""
            {
              "GC_REASON_2": { "kind": "enumerated", "n_values": "JS::gcreason::NUM_TELEMETRY_REASONS", "description": "Reason" },
              "EXP_CONST": { "kind": "exponential", "high": "mozilla::MAX", "n_buckets": 20, "description": "e" },
              "CAT_CONST": { "kind": "categorical", "labels": ["a", "b"], "n_values": "NS::N", "description": "c" }
            }
            """);
        Assert.Empty(result.Errors);

        var gc = result.Definitions["GC_REASON_2"];
        Assert.Equal(HistogramKind.Enumerated, gc.Kind);
        Assert.Equal("Reason", gc.Description);
        Assert.Null(gc.Layout);
        Assert.Equal(HistogramKind.Enumerated, gc.ResolveLayout(BucketLayout.FromDeclared(1, 1, 60, 61))!.Kind);

        var exp = result.Definitions["EXP_CONST"];
        Assert.Null(exp.Layout);
        Assert.Same(BucketLayout.Exponential(1, 5000, 20), exp.ResolveLayout(BucketLayout.FromDeclared(0, 1, 5000, 20)));
        Assert.Null(exp.ResolveLayout(BucketLayout.FromDeclared(1, 1, 5000, 20))); // linear is not exponential

        var cat = result.Definitions["CAT_CONST"];
        Assert.Null(cat.Layout);
        var catLayout = cat.ResolveLayout(BucketLayout.FromDeclared(5, 1, 80, 81))!;
        Assert.Equal((HistogramKind.Categorical, 81), (catLayout.Kind, catLayout.BucketCount));
        Seq.Equal(["a", "b"], catLayout.Labels);
        Assert.Null(cat.ResolveLayout(BucketLayout.FromDeclared(5, 1, 1, 2)));
    }

    [Fact]
    public void BrokenDefinitionsAreReportedByNameWhileTheRestLoads()
    {
        var result = HistogramsJsonParser.Parse("""
            {
              "GOOD": { "kind": "boolean", "description": "fine", "unknown_key": { "nested": [1, 2] } },
              "NOT_OBJECT": [1, 2, 3],
              "NO_KIND": { "high": 100, "n_buckets": 10 },
              "BAD_KIND": { "kind": "histogram" },
              "KIND_NOT_STRING": { "kind": 0 },
              "ENUM_NO_VALUES": { "kind": "enumerated" },
              "ENUM_BAD_VALUES": { "kind": "enumerated", "n_values": [3] },
              "EXP_NO_HIGH": { "kind": "exponential", "n_buckets": 10 },
              "EXP_GARBAGE": { "kind": "exponential", "high": "1 +* 2", "n_buckets": 10 },
              "EXP_FRACTION": { "kind": "exponential", "high": 100.5, "n_buckets": 10 },
              "EXP_TOO_FEW": { "kind": "exponential", "high": 100, "n_buckets": 2 },
              "EXP_TOO_MANY": { "kind": "exponential", "high": 100, "n_buckets": 10001 },
              "LIN_INVERTED": { "kind": "linear", "low": 50, "high": 10, "n_buckets": 5 },
              "LABELS_NOT_STRINGS": { "kind": "categorical", "labels": [1, 2] },
              "ALSO_GOOD": { "kind": "flag", "description": "also fine" }
            }
            """u8);

        Seq.Equal(["ALSO_GOOD", "GOOD"], result.Definitions.Keys.Order());
        Assert.Equal(
            [
                "NOT_OBJECT", "NO_KIND", "BAD_KIND", "KIND_NOT_STRING", "ENUM_NO_VALUES", "ENUM_BAD_VALUES", "EXP_NO_HIGH",
                "EXP_GARBAGE", "EXP_FRACTION", "EXP_TOO_FEW", "EXP_TOO_MANY", "LIN_INVERTED", "LABELS_NOT_STRINGS",
            ],
            result.Errors.Select(e => e.Name));
        Assert.All(result.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Reason)));
        Assert.Contains("kind", result.Errors.Single(e => e.Name == "BAD_KIND").Reason);
        Assert.Contains("histogram", result.Errors.Single(e => e.Name == "BAD_KIND").Reason);
        Assert.Contains("n_values", result.Errors.Single(e => e.Name == "ENUM_NO_VALUES").Reason);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"kind\": \"flag\"}]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{ not json")]
    [InlineData("")]
    public void DocumentThatIsNotAJsonObjectThrows(string json)
    {
        var ex = Assert.Throws<FormatException>(() => HistogramsJsonParser.Parse(json));
        Assert.Contains("histograms document", ex.Message);
    }

    [Fact]
    public void TooManyDefinitionsThrow()
    {
        var sb = new StringBuilder("{");
        for (var i = 0; i <= HistogramsJsonParser.MaxDefinitions; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("\"H").Append(i).Append("\":{\"kind\":\"flag\"}");
        }

        sb.Append('}');
        var ex = Assert.Throws<FormatException>(() => HistogramsJsonParser.Parse(sb.ToString()));
        Assert.Contains("20000", ex.Message);
    }

    [Fact]
    public void BomAndTrailingCommasAreTolerated()
    {
        var bytes = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{ "F": { "kind": "flag", }, }""")).ToArray();
        var result = HistogramsJsonParser.Parse(bytes);
        Assert.Single(result.Definitions);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void AllFieldsAreStored()
    {
        var result = HistogramsJsonParser.Parse("""
            {
              "FULL": {
                "kind": "linear", "low": 0, "high": 1000, "n_buckets": 50, "keyed": "true",
                "description": "all fields", "expires_in_version": 60, "alert_emails": ["a@x.org", "b@x.org"],
                "bug_numbers": [1, "2", "x"], "releaseChannelCollection": "opt-out",
                "record_in_processes": ["main", "content"], "products": ["firefox"],
                "cpp_guard": "XP_WIN", "extended_statistics_ok": true
              },
              "CAT": { "kind": "categorical", "labels": ["A", "B", "C"], "n_values": 60 },
              "CNT": { "kind": "count", "keyed": true }
            }
            """);
        Assert.Empty(result.Errors);
        var full = result.Definitions["FULL"];
        Assert.Equal("FULL", full.Name);
        Assert.Equal(HistogramKind.Linear, full.Kind);
        Assert.Same(BucketLayout.Linear(1, 1000, 50), full.Layout);
        Assert.True(full.Keyed);
        Assert.Equal("all fields", full.Description);
        Assert.Equal("60", full.ExpiresInVersion);
        Seq.Equal(["a@x.org", "b@x.org"], full.AlertEmails);
        Seq.Equal([1, 2], full.BugNumbers);
        Assert.Equal("opt-out", full.ReleaseChannelCollection);
        Seq.Equal(["main", "content"], full.RecordInProcesses);
        Seq.Equal(["firefox"], full.Products);
        Assert.Equal("XP_WIN", full.CppGuard);
        Assert.True(full.ExtendedStatisticsOk);
        Assert.True(full.Labels.IsEmpty);

        var cat = result.Definitions["CAT"];
        Assert.Equal((1L, 60L, 61), (cat.Layout!.Low, cat.Layout.High, cat.Layout.BucketCount));
        Seq.Equal(["A", "B", "C"], cat.Labels);
        Assert.Equal("C", cat.Layout.LabelOf(2));

        var cnt = result.Definitions["CNT"];
        Assert.Equal(HistogramKind.Count, cnt.Kind);
        Assert.Equal(4, cnt.Layout!.TypeCode);
        Assert.True(cnt.Keyed);
        Assert.Null(cnt.ExpiresInVersion);
        Assert.True(cnt.AlertEmails.IsEmpty);
    }

    [Fact]
    public void StartupNamesUseTheBaseDefinition()
    {
        var result = HistogramsJsonParser.Parse("""{ "X": { "kind": "flag" }, "STARTUP_Y": { "kind": "boolean" } }""");
        Assert.True(result.Definitions.TryGetDefinition("STARTUP_X", out var x));
        Assert.Equal("X", x.Name);
        Assert.True(result.Definitions.TryGetDefinition("STARTUP_Y", out var y));
        Assert.Equal("STARTUP_Y", y.Name);
        Assert.False(result.Definitions.TryGetDefinition("STARTUP_", out _));
        Assert.False(result.Definitions.TryGetDefinition("STARTUP_Z", out _));
    }

    [Fact]
    public void LaterDuplicateNameWins()
    {
        var result = HistogramsJsonParser.Parse("""{ "D": { "kind": "nonsense" }, "D": { "kind": "flag" } }""");
        Assert.Empty(result.Errors);
        Assert.Equal(HistogramKind.Flag, result.Definitions["D"].Kind);
    }
}
