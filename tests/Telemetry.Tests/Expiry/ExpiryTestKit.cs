using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Expiry;

/// <summary>
/// A release calendar and probe definitions for the silo tests, and the HTTP calls they make.
/// <code>
/// train  nightly start (expiry)  first notice (-42)  final notice (-14)   probes
/// 120    2023-08-28              2023-07-17          2023-08-14           (none)
/// 121    2023-09-25              2023-08-14          2023-09-11           GC_MS ("121"), GC_SLICE_MS ("121.0"), NO_OWNER_FLAG ("121")
/// 122    2023-10-23              2023-09-11          2023-10-09           NET_RTT ("122")
/// 124    2023-12-18 (projected)  2023-11-06          2023-12-04           FAR_AWAY ("124")
/// </code>
/// </summary>
internal static class ExpiryTestKit
{
    public const string ListAddress = "list@example.org";
    public const string SheriffAddress = "sheriff@example.org";
    public const string GcOwner = "gc-owner@example.org";
    public const string SharedOwner = "shared@example.org";
    public const string NetOwner = "net-owner@example.org";

    public const string FirstNoticeOf121 = "2023-08-14";
    public const string FinalNoticeOf121 = "2023-09-11"; // also the first notice of 122

    public static readonly string[] SiloArgs = [$"--Expiry:ListAddress={ListAddress}", $"--Expiry:SheriffAddress={SheriffAddress}"];

    public const string Calendar = """
        {"comment": "test calendar",
         "versions": [
           {"version": "122", "nightly_start": "2023-10-23", "release": "2024-01-23"},
           {"version": "120", "nightly_start": "2023-08-28", "release": "2023-11-21"},
           {"version": "121", "nightly_start": "2023-09-25", "release": "2023-12-19"}
         ]}
        """;

    public static readonly string Histograms = $$"""
        {
          "GC_MS": {"kind": "exponential", "low": 1, "high": 10000, "n_buckets": 50, "expires_in_version": "121",
                    "alert_emails": ["{{GcOwner}}", "{{SharedOwner}}"], "description": "GC time"},
          "GC_SLICE_MS": {"kind": "exponential", "low": 1, "high": 10000, "n_buckets": 50, "expires_in_version": "121.0",
                          "alert_emails": ["{{GcOwner}}"], "description": "GC slice time"},
          "NO_OWNER_FLAG": {"kind": "flag", "expires_in_version": "121", "description": "nobody listed"},
          "NET_RTT": {"kind": "linear", "low": 1, "high": 1000, "n_buckets": 20, "expires_in_version": "122",
                      "alert_emails": ["{{NetOwner}}"], "description": "round trip"},
          "FAR_AWAY": {"kind": "flag", "expires_in_version": "124", "alert_emails": ["{{NetOwner}}"], "description": "projected"},
          "FOREVER": {"kind": "flag", "expires_in_version": "never", "alert_emails": ["{{GcOwner}}"], "description": "never expires"}
        }
        """;

    public static HttpRequestMessage Admin(HttpMethod method, string url, string? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        return request;
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(SiloHost silo, HttpRequestMessage request)
    {
        using var response = await silo.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> PutCalendarAsync(SiloHost silo, string json = Calendar)
    {
        var (status, body) = await SendAsync(silo, Admin(HttpMethod.Put, "/api/release-calendar", json));
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    /// <summary>Uploads definitions as a new revision through the probes API; the newest upload is the one expiry reads.</summary>
    public static async Task UploadProbesAsync(SiloHost silo, string histograms, string revision = "expiry-test")
    {
        var (status, body) = await SendAsync(silo, Admin(HttpMethod.Put, $"/api/probes/revisions/{revision}/histograms", histograms));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(body.GetProperty("errors").EnumerateArray());
    }

    public static async Task<JsonElement> RunAsync(SiloHost silo, string asOf, bool dryRun = false)
    {
        var (status, body) = await SendAsync(silo, Admin(HttpMethod.Post, $"/api/expiry/run?as_of={asOf}{(dryRun ? "&dry_run=true" : "")}"));
        Assert.True(status == HttpStatusCode.OK, $"run for {asOf}: {(int)status} {body}");
        return body;
    }

    /// <summary>A run's mails as lines: "first [gc-owner@example.org] GC_MS,GC_SLICE_MS new" (or "sent").</summary>
    public static string[] Mails(JsonElement run) =>
        [.. run.GetProperty("mails").EnumerateArray().Select(m =>
            $"{m.GetProperty("stage").GetString()} [{string.Join(",", m.GetProperty("to").EnumerateArray().Select(t => t.GetString()))}] " +
            $"{string.Join(",", m.GetProperty("probes").EnumerateArray().Select(p => p.GetProperty("name").GetString()))} " +
            (m.GetProperty("already_sent").GetBoolean() ? "sent" : "new"))];

    /// <summary>Caught mails as "recipient | subject", sorted.</summary>
    public static string[] Describe(IEnumerable<CaughtMail> mails) =>
        [.. mails.SelectMany(m => m.To.Select(to => $"{to} | {m.Subject}")).Order(StringComparer.Ordinal)];

    public static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly TodayUtc() => DateOnly.FromDateTime(DateTime.UtcNow);
}
