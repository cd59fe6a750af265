using System.Text;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Sentry;

namespace Telemetry.Tests.Sentry;

/// <summary>Reading Sentry's serialized events: every field the alerts use, and bad messages named by reason.</summary>
public sealed class SentryEventParserTests
{
    private static SentryParseResult Parse(string json) => SentryEventParser.Parse(Encoding.UTF8.GetBytes(json));

    // Shaped like a processed event of Sentry's JSON serializer for a browser script error.
    private const string Event = """
        {
          "eventID": "4f9a7b8fdc2e4c5b9a0e1f2d3c4b5a69",
          "groupID": 1337,
          "project": "firefox-nightly",
          "dateReceived": "2026-11-30T21:14:05.123Z",
          "fingerprints": ["{{ default }}", "TypeError"],
          "message": "TypeError: this.browser is null",
          "release": "148.0a1",
          "environment": "nightly",
          "level": "error",
          "platform": "javascript",
          "user": {"id": "c0ffee"},
          "tags": [["os", "Windows 10"], ["browser", "Firefox"]],
          "entries": [
            {"type": "breadcrumbs", "data": {"values": []}},
            {"type": "exception", "data": {"values": [
              {"type": "TypeError", "module": "resource://gre/modules/Tabs.sys.mjs",
               "stacktrace": {"frames": [
                 {"function": "onLocationChange", "module": "Tabs", "lineNo": 120, "colNo": 7},
                 {"function": null, "module": "Browser", "lineNo": "x"}
               ]}},
              {"type": "Later", "module": "ignored"}
            ]}}
          ]
        }
        """;

    [Fact]
    public void A_browser_error_event_is_read_with_every_field_the_alerts_use()
    {
        var r = Parse(Event);
        Assert.Null(r.Reason);
        var e = r.Event!;
        Assert.Equal("4f9a7b8fdc2e4c5b9a0e1f2d3c4b5a69", e.EventId);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 21, 14, 5, 123, TimeSpan.Zero), e.DateReceived);
        Assert.Equal("1337", e.GroupId);
        Assert.Equal("firefox-nightly", e.Project);
        Assert.Equal("{{ default }}:TypeError", e.Fingerprint);
        Assert.Equal("TypeError: this.browser is null", e.Message);
        Assert.Equal(("148.0a1", "nightly", "c0ffee", "error", "javascript"), (e.Release, e.Environment, e.UserId, e.Level, e.Platform));
        Assert.Equal(["browser", "os"], e.Tags.Keys);
        Assert.Equal("Windows 10", e.Tags["os"]);
        Assert.Equal("resource://gre/modules/Tabs.sys.mjs", e.Module);
        Assert.Equal([new SentryFrame("onLocationChange", "Tabs", 120, 7), new SentryFrame(null, "Browser", null, null)], e.Frames.ToArray());
    }

    [Theory]
    [InlineData("""{"k":"v"}""", null)]
    [InlineData("""[{"key":"k","value":"v"}]""", null)]
    [InlineData("""[["k","v"]]""", null)]
    [InlineData("""[["k"]]""", "none")]
    [InlineData("\"k=v\"", "none")]
    public void Tags_are_read_in_each_form_Sentry_writes_them(string tags, string? none)
    {
        var e = Parse(Event.Replace("""[["os", "Windows 10"], ["browser", "Firefox"]]""", tags, StringComparison.Ordinal)).Event!;
        Assert.Equal(none is null ? ["k"] : [], e.Tags.Keys);
    }

    [Fact]
    public void An_exception_without_values_or_without_an_exception_entry_is_no_error()
    {
        var direct = Parse("""
            {"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x"],"message":"m",
             "entries":[{"type":"exception","data":{"module":"m1","stacktrace":{"frames":[{"function":"f","lineNo":1}]}}}]}
            """).Event!;
        Assert.Equal("m1", direct.Module);
        Assert.Equal("f", Assert.Single(direct.Frames).Function);
        var none = Parse("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00+01:00","fingerprints":["x"],"message":"m"}""").Event!;
        Assert.Empty(none.Frames);
        Assert.Equal("default", none.Project);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 23, 0, 0, TimeSpan.Zero), none.DateReceived);
    }

    [Theory]
    [InlineData("not json at all", SentryRejections.NotJson)]
    [InlineData("""["eventID"]""", SentryRejections.NotObject)]
    [InlineData("""{"dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x"],"message":"m"}""", SentryRejections.EventId)]
    [InlineData("""{"eventID":7,"dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x"],"message":"m"}""", SentryRejections.EventId)]
    [InlineData("""{"eventID":"a","dateReceived":"yesterday","fingerprints":["x"],"message":"m"}""", SentryRejections.DateReceived)]
    [InlineData("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":"x","message":"m"}""", SentryRejections.Fingerprints)]
    [InlineData("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":[],"message":"m"}""", SentryRejections.Fingerprints)]
    [InlineData("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x",1],"message":"m"}""", SentryRejections.Fingerprints)]
    [InlineData("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x"]}""", SentryRejections.Message)]
    [InlineData("""{"eventID":"a","dateReceived":"2026-11-30T00:00:00Z","fingerprints":["x"],"message":"m","project":5}""", SentryRejections.Project)]
    public void Bad_messages_are_named_by_reason(string json, string reason)
    {
        var r = Parse(json);
        Assert.Null(r.Event);
        Assert.Equal(reason, r.Reason);
        Assert.False(string.IsNullOrWhiteSpace(r.Detail));
    }
}
