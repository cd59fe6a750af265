using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Ingest;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// Real pings for the regression tests: a probe revision with three exponential histograms (1–1000, 20 buckets)
/// owned by different people, and unified main pings whose histograms put their samples in known buckets. Every
/// ping of a date is the same, so a series shifts exactly where a test says.
/// </summary>
internal static class RegressionPings
{
    public const string Revision = "regression-test";
    public const string Shifted = "REGRESSION_TEST_MS";
    public const string Quiet = "REGRESSION_QUIET_MS";
    public const string Ignored = "REGRESSION_IGNORED_MS";
    public const string ShiftedOwner = "shifted-owner@example.org";
    public const string QuietOwner = "quiet-owner@example.org";
    public const string IgnoredOwner = "ignored-owner@example.org";
    public const string Description = "Time a synthetic operation took, for the regression tests";

    /// <summary>
    /// 16 build dates (the default detector measures day-to-day noise on at least 10 pairs of dates before a
    /// candidate); <see cref="Shifted"/> and <see cref="Ignored"/> move one bucket up from <see cref="ShiftIndex"/> on.
    /// </summary>
    public static readonly DateOnly FirstDate = new(2026, 3, 1);
    public const int Dates = 16;
    public const int ShiftIndex = 12;
    public const int PingsPerDate = 25;

    public static DateOnly DateAt(int i) => FirstDate.AddDays(i);

    public static string BuildDate(int i) => DateAt(i).ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    public static readonly long[] Bounds = IngestTestData.ExponentialBounds(1, 1000, 20);

    /// <summary>Samples per ping by bucket index: 45, 10 and 5 in three neighbouring buckets (60 per ping, 1,125 in the largest per date).</summary>
    public static Dictionary<int, long> Samples(bool shifted)
    {
        int first = shifted ? 6 : 5;
        return new Dictionary<int, long> { [first] = 45, [first + 1] = 10, [first + 2] = 5 };
    }

    public static string RevisionJson()
    {
        JsonObject Definition(string owner) => new()
        {
            ["record_in_processes"] = new JsonArray("main"),
            ["expires_in_version"] = "never",
            ["kind"] = "exponential",
            ["low"] = 1,
            ["high"] = 1000,
            ["n_buckets"] = 20,
            ["description"] = Description,
            ["alert_emails"] = new JsonArray(owner),
        };
        return new JsonObject
        {
            [Shifted] = Definition(ShiftedOwner),
            [Quiet] = Definition(QuietOwner),
            [Ignored] = Definition(IgnoredOwner),
        }.ToJsonString();
    }

    public static byte[] Ping(int dateIndex)
    {
        string buildId = BuildDate(dateIndex) + "120000";
        bool shifted = dateIndex >= ShiftIndex;
        JsonObject Histogram(Dictionary<int, long> samples)
        {
            var values = new JsonObject();
            long sum = 0;
            foreach (var (bucket, count) in samples.OrderBy(kv => kv.Key))
            {
                values[Bounds[bucket].ToString(CultureInfo.InvariantCulture)] = count;
                sum += Bounds[bucket] * count;
            }
            return new JsonObject { ["range"] = new JsonArray(1, 1000), ["bucket_count"] = 20, ["histogram_type"] = 0, ["values"] = values, ["sum"] = sum };
        }
        return IngestTestData.UnifiedVariant(p =>
        {
            p["id"] = Guid.NewGuid().ToString();
            p["application"]!["buildId"] = buildId;
            p["environment"]!["build"]!["buildId"] = buildId;
            var payload = p["payload"]!.AsObject();
            payload["histograms"] = new JsonObject
            {
                [Shifted] = Histogram(Samples(shifted)),
                [Quiet] = Histogram(Samples(false)),
                [Ignored] = Histogram(Samples(shifted)),
            };
            payload["keyedHistograms"] = new JsonObject();
            payload["simpleMeasurements"] = new JsonObject();
            payload["processes"] = new JsonObject();
            payload["childPayloads"] = new JsonArray();
        });
    }

    /// <summary>Uploads the revision and points nightly at it.</summary>
    public static async Task InstallProbesAsync(SiloHost silo)
    {
        await AdminAsync(silo, HttpMethod.Put, $"/api/probes/revisions/{Revision}/histograms", RevisionJson());
        await AdminAsync(silo, HttpMethod.Put, "/api/probes/channels/nightly", $"{{\"revision\":\"{Revision}\"}}");
    }

    /// <summary>Submits every date's pings through the submit endpoint, date after date; returns when the last ping was answered 200.</summary>
    public static async Task SubmitAllAsync(SiloHost silo, int dates = Dates)
    {
        for (int d = 0; d < dates; d++)
        {
            await SubmitDateAsync(silo, d);
        }
    }

    public static async Task SubmitDateAsync(SiloHost silo, int dateIndex)
    {
        await Task.WhenAll(Enumerable.Range(0, PingsPerDate).Select(async _ =>
        {
            var r = await silo.SubmitAsync($"{Guid.NewGuid()}/main/Firefox/57.0a1/nightly/{BuildDate(dateIndex)}120000", SiloHost.Gzip(Ping(dateIndex)));
            if (r.StatusCode != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"ping rejected: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            }
        }));
    }

    /// <summary>Waits until the build-date aggregates hold every submitted ping of <see cref="Shifted"/>.</summary>
    public static async Task WaitUntilAggregatedAsync(SiloHost silo, int dates = Dates)
    {
        string list = string.Join(',', Enumerable.Range(0, dates).Select(BuildDate));
        long count = 0;
        bool done = await TestPaths.EventuallyAsync(async () =>
        {
            var r = await silo.GetAsync($"/aggregates_by/build_id/channels/nightly/?version=57&dates={list}&metric={Shifted}");
            if (r.StatusCode != HttpStatusCode.OK)
            {
                return false;
            }
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            count = doc.RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
            return count == (long)dates * PingsPerDate;
        }, TimeSpan.FromSeconds(60));
        Assert.True(done, $"the aggregates hold {count} of {dates * PingsPerDate} pings after 60 s");
    }

    public static async Task<HttpResponseMessage> AdminAsync(SiloHost silo, HttpMethod method, string url, string? body = null, string? token = SiloHost.AdminToken)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        var response = await silo.Http.SendAsync(request);
        if (method == HttpMethod.Put && !response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return response;
    }
}
