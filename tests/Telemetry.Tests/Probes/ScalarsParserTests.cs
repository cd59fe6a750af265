using Telemetry.Grains.Probes;

namespace Telemetry.Tests.Probes;

public sealed class ScalarsParserTests
{
    private const string Yaml = """
        # This file contains a definition of the scalar probes that are recorded in Telemetry.
        ---
        a11y:
          instantiators:
            bug_numbers:
              - 1382820
            description: >
              The DLL and/or EXE filenames of the processes that caused accessibility
              to be instantiated.
            expires: never
            kind: string
            notification_emails:
              - jteh@mozilla.com
              - accessibility@mozilla.com
            release_channel_collection: opt-out
            record_in_processes:
              - 'main'

        browser.engagement:
          max_concurrent_tab_count:
            bug_numbers: [1271304]
            description: The count of maximum concurrent tabs.
            expires: "60"
            kind: uint
            notification_emails: ["rweiss@mozilla.com"]
            record_in_processes: [main]
          navigation.searchbar:
            description: Searches by source.
            expires: 68
            kind: uint
            keyed: true
            notification_emails:
              - bwinton@mozilla.com
          restored:
            kind: boolean
            keyed: false
            description: |
              Whether the session was restored.
            expires: never
            notification_emails: bwinton@mozilla.com
        """;

    private const string Json = """
        {
          "a11y": {
            "instantiators": {
              "description": "The DLL and/or EXE filenames.",
              "expires": "never",
              "kind": "string",
              "notification_emails": ["jteh@mozilla.com", "accessibility@mozilla.com"],
              "unknown_key": { "nested": [1, 2, 3] }
            }
          },
          "browser.engagement": {
            "max_concurrent_tab_count": {
              "description": "The count of maximum concurrent tabs.",
              "expires": 60,
              "kind": "uint",
              "keyed": false,
              "notification_emails": ["rweiss@mozilla.com"]
            },
            "navigation.searchbar": { "kind": "uint", "keyed": true, "description": "Searches by source.", "expires": "68" }
          }
        }
        """;

    [Fact]
    public void ParsesYaml()
    {
        var scalars = ScalarsParser.Parse(Yaml);
        Assert.Equal(
            ["a11y.instantiators", "browser.engagement.max_concurrent_tab_count", "browser.engagement.navigation.searchbar", "browser.engagement.restored"],
            scalars.Keys.Order(StringComparer.Ordinal));

        var inst = scalars["a11y.instantiators"];
        Assert.Equal("a11y.instantiators", inst.Name);
        Assert.Equal("string", inst.Kind);
        Assert.False(inst.Keyed);
        Assert.False(inst.IsNumeric);
        Assert.StartsWith("The DLL and/or EXE filenames", inst.Description);
        Assert.Equal("never", inst.Expires);
        Seq.Equal(["jteh@mozilla.com", "accessibility@mozilla.com"], inst.NotificationEmails);

        var tabs = scalars["browser.engagement.max_concurrent_tab_count"];
        Assert.Equal("uint", tabs.Kind);
        Assert.True(tabs.IsNumeric);
        Assert.Equal("60", tabs.Expires);
        Seq.Equal(["rweiss@mozilla.com"], tabs.NotificationEmails);

        var search = scalars["browser.engagement.navigation.searchbar"];
        Assert.True(search.Keyed);
        Assert.Equal("68", search.Expires);

        var restored = scalars["browser.engagement.restored"];
        Assert.Equal("boolean", restored.Kind);
        Assert.Equal("Whether the session was restored.", restored.Description);
        Seq.Equal(["bwinton@mozilla.com"], restored.NotificationEmails);
    }

    [Fact]
    public void ParsesJsonOfTheSameShape()
    {
        var fromJson = ScalarsParser.Parse(Json);
        Assert.Equal(3, fromJson.Count);
        var tabs = fromJson["browser.engagement.max_concurrent_tab_count"];
        Assert.Equal(("uint", false, "60"), (tabs.Kind, tabs.Keyed, tabs.Expires));
        Assert.True(fromJson["browser.engagement.navigation.searchbar"].Keyed);
        Seq.Equal(["jteh@mozilla.com", "accessibility@mozilla.com"], fromJson["a11y.instantiators"].NotificationEmails);

        // The same scalars as YAML give the same kinds and keyed flags.
        var fromYaml = ScalarsParser.Parse(Yaml);
        foreach (var (name, definition) in fromJson)
        {
            Assert.Equal((definition.Kind, definition.Keyed), (fromYaml[name].Kind, fromYaml[name].Keyed));
        }
    }

    [Fact]
    public void BrokenScalarsAreReportedByName()
    {
        var result = ScalarsParser.ParseWithErrors("""
            $schema: moz://mozilla.org/schemas/glean/metrics/1-0-0
            cat:
              good: { kind: uint, description: ok, expires: never }
              no_kind: { description: missing kind }
              bad_kind: { kind: float }
              bad_keyed: { kind: uint, keyed: maybe }
              not_a_map: [1, 2]
            scalar_list: [a, b]
            """);
        Seq.Equal(["cat.good"], result.Definitions.Keys);
        Seq.Equal(["cat.no_kind", "cat.bad_kind", "cat.bad_keyed", "cat.not_a_map", "scalar_list"], result.Errors.Select(e => e.Name));
    }

    [Theory]
    [InlineData("- a\n- b\n")]
    [InlineData("just a string")]
    [InlineData("[1, 2]")]
    [InlineData("key: [unclosed")]
    [InlineData("{ \"a\": ")]
    public void DocumentThatIsNotAMappingThrows(string text)
    {
        Assert.Throws<FormatException>(() => ScalarsParser.Parse(text));
    }

    [Fact]
    public void EmptyDocumentHasNoScalars()
    {
        Assert.Empty(ScalarsParser.Parse(""));
        Assert.Empty(ScalarsParser.Parse("# only a comment\n"));
    }

    [Fact]
    public void AliasExpansionIsBounded()
    {
        // 1000 categories x 1000 scalars x 1000 e-mails through aliases: a few KB of YAML that
        // would expand to a billion nodes.
        var emails = string.Join(", ", Enumerable.Repeat("a@x.org", 1000));
        var probes = string.Join(", ", Enumerable.Range(0, 1000).Select(i => $"p{i}: *p"));
        var sb = new System.Text.StringBuilder();
        sb.Append("p0: &p { kind: uint, notification_emails: [").Append(emails).Append("] }\n");
        sb.Append("c0: &c { ").Append(probes).Append(" }\n");
        for (var i = 1; i < 1000; i++)
        {
            sb.Append('c').Append(i).Append(": *c\n");
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        Assert.Throws<FormatException>(() => ScalarsParser.Parse(sb.ToString()));
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"took {started.Elapsed}");
    }
}
