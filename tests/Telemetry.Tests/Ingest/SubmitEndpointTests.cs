using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Ingest;

/// <summary>One embedded silo shared by the submit endpoint tests (tests use fresh docIds and build dates).</summary>
public sealed class SubmitSiloFixture : IAsyncLifetime
{
    public SiloHost Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await SiloHost.StartAsync();

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}

/// <summary>
/// Runs alone (after the parallel collections): every silo in the test process publishes a meter named
/// "Telemetry.Ingest", and OpenTelemetry's listener is process-wide, so a silo started while another is
/// alive may export the other's counters on its /metrics. The counter assertions need a silo that is alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IngestMetricsCollection
{
    public const string Name = "ingest-metrics (not parallel)";
}

/// <summary>Every row of the README's submit status table against a real silo over HTTP, plus a bad-input corpus.</summary>
[Collection(IngestMetricsCollection.Name)]
public sealed partial class SubmitEndpointTests(SubmitSiloFixture fixture) : IClassFixture<SubmitSiloFixture>
{
    private const int MaxErrorBodyChars = 300;
    private SiloHost Silo => fixture.Silo;

    private static string NewDocId() => Guid.NewGuid().ToString("D");

    private static string ClassicRest(string buildId) => $"idle-daily/Firefox/23.0.1/release/{buildId}";

    private Task<HttpResponseMessage> SubmitRealAsync(string? docId = null, string method = "POST") =>
        Silo.SubmitAsync((docId ?? NewDocId()) + "/" + IngestTestData.RealPingPathRest, SiloHost.Gzip(IngestTestData.RealPing), method: method);

    private async Task<HttpResponseMessage> SendAsync(string method, string url, byte[]? body, string? accept = null, string? contentEncoding = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (contentEncoding is not null) request.Content.Headers.ContentEncoding.Add(contentEncoding);
        }
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return await Silo.Http.SendAsync(request);
    }

    /// <summary>Asserts a short text/plain error naming <paramref name="reason"/>; returns its text.</summary>
    private static async Task<string> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string reason, params string[] mentions)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {reason}, got {(int)response.StatusCode}: {Clip(text)}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.True(text.Contains(reason, StringComparison.Ordinal), $"error text does not name '{reason}': {Clip(text)}");
        Assert.True(text.Length <= MaxErrorBodyChars, $"error body is {text.Length} chars: {Clip(text)}");
        foreach (var m in mentions)
        {
            Assert.True(text.Contains(m, StringComparison.Ordinal), $"error text does not mention '{m}': {text}");
        }
        return text;
    }

    private static string Clip(string s) => s.Length <= 400 ? s : s[..400] + "...";

    // ------------------------------------------------------------------ aggregates and metrics helpers

    /// <summary>CYCLE_COLLECTOR by build id for release 23 on <paramref name="buildDate"/>: (count, sum), or null when absent.</summary>
    private async Task<(long Count, long Sum)?> AggregateAsync(string buildDate, string metric = "CYCLE_COLLECTOR")
    {
        var r = await Silo.GetAsync($"/aggregates_by/build_id/channels/release/?version=23&dates={buildDate}&metric={metric}");
        if (r.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        long count = 0, sum = 0;
        foreach (var e in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            count += e.GetProperty("count").GetInt64();
            sum += e.GetProperty("sum").GetInt64();
        }
        return (count, sum);
    }

    private async Task WaitForCountAsync(string buildDate, long expected, string metric = "CYCLE_COLLECTOR")
    {
        (long, long)? last = null;
        bool ok = await TestPaths.EventuallyAsync(async () =>
        {
            last = await AggregateAsync(buildDate, metric);
            return last?.Item1 == expected;
        }, TimeSpan.FromSeconds(15));
        Assert.True(ok, $"{metric} on build date {buildDate}: expected count {expected}, last seen {last?.ToString() ?? "404"}");
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex PrometheusLine();

    /// <summary>Scrapes /metrics: series (name plus the labels other than otel_scope_*) → value.</summary>
    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        var text = await Silo.Http.GetStringAsync("/metrics");
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in PrometheusLine().Matches(text))
        {
            var labels = m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)).Order(StringComparer.Ordinal);
            string key = m.Groups["name"].Value + "{" + string.Join(",", labels) + "}";
            if (double.TryParse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            {
                result[key] = v;
            }
        }
        return result;
    }

    private static double Get(Dictionary<string, double> metrics, string key) => metrics.GetValueOrDefault(key);

    private static string Rejected(string reason) => $"telemetry_ingest_rejected_total{{reason=\"{reason}\"}}";

    private const string AcceptedKey = "telemetry_ingest_accepted_total{outcome=\"accepted\"}";
    private const string DuplicateKey = "telemetry_ingest_accepted_total{outcome=\"duplicate\"}";
    private const string InvalidHistogramsKey = "telemetry_ingest_invalid_histograms_total{}";

    /// <summary>Waits until every expected counter increase is visible (the exporter may cache a scrape briefly).</summary>
    private async Task AssertCounterIncreasesAsync(Dictionary<string, double> before, IReadOnlyDictionary<string, double> increases)
    {
        Dictionary<string, double> after = before;
        bool ok = await TestPaths.EventuallyAsync(async () =>
        {
            after = await ScrapeAsync();
            return increases.All(kv => Get(after, kv.Key) - Get(before, kv.Key) == kv.Value);
        }, TimeSpan.FromSeconds(5));
        Assert.True(ok, "counter increases: " + string.Join("; ", increases.Select(kv =>
            $"{kv.Key} expected +{kv.Value}, got +{Get(after, kv.Key) - Get(before, kv.Key)}")));
    }

    // ------------------------------------------------------------------ 200 rows

    [Fact]
    public async Task Status_answers_OK()
    {
        var r = await Silo.Http.GetAsync("/status");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("OK", (await r.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    public async Task Stored_ping_is_200_and_counted()
    {
        const string buildDate = "20010101";
        var r = await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest(buildDate + "063812"),
            SiloHost.Gzip(IngestTestData.ClassicVariant(buildId: buildDate + "063812")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await WaitForCountAsync(buildDate, 1);
        Assert.Equal(13370, (await AggregateAsync(buildDate))!.Value.Sum);
    }

    [Fact]
    public async Task Plain_json_body_and_declared_gzip_body_are_both_accepted()
    {
        const string buildDate = "20010108";
        var body = IngestTestData.ClassicVariant(buildId: buildDate + "000000");
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest(buildDate + "000000"), body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest(buildDate + "000000"), SiloHost.Gzip(body), "gzip")).StatusCode);
        await WaitForCountAsync(buildDate, 2);
    }

    [Fact]
    public async Task Same_docId_is_200_duplicate_and_not_counted_twice()
    {
        const string buildDate = "20010102";
        string rest = ClassicRest(buildDate + "000000");
        var body = SiloHost.Gzip(IngestTestData.ClassicVariant(buildId: buildDate + "000000"));
        var before = await ScrapeAsync();
        string docId = NewDocId();

        var first = await Silo.SubmitAsync(docId + "/" + rest, body);
        var second = await Silo.SubmitAsync(docId + "/" + rest, body);
        var third = await Silo.SubmitAsync(docId + "/" + rest, body, method: "PUT");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);

        // A marker with another docId, submitted after the duplicates were answered.
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(NewDocId() + "/" + rest, body)).StatusCode);
        await WaitForCountAsync(buildDate, 2);
        await Task.Delay(700); // more than the push interval: a late double count would show now
        Assert.Equal(2, (await AggregateAsync(buildDate))!.Value.Count);
        Assert.Equal(2 * 13370, (await AggregateAsync(buildDate))!.Value.Sum);
        await AssertCounterIncreasesAsync(before, new Dictionary<string, double> { [AcceptedKey] = 2, [DuplicateKey] = 2 });
    }

    [Fact]
    public async Task Concurrent_submissions_of_one_docId_are_all_200_and_counted_once()
    {
        const string buildDate = "20010103";
        string rest = ClassicRest(buildDate + "000000");
        var body = SiloHost.Gzip(IngestTestData.ClassicVariant(buildId: buildDate + "000000"));
        string docId = NewDocId();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Silo.SubmitAsync(docId + "/" + rest, body)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(NewDocId() + "/" + rest, body)).StatusCode);
        await WaitForCountAsync(buildDate, 2);
        await Task.Delay(700);
        Assert.Equal(2, (await AggregateAsync(buildDate))!.Value.Count);
    }

    [Fact]
    public async Task Put_works_like_post()
    {
        const string buildDate = "20010104";
        var r = await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest(buildDate + "000000"),
            SiloHost.Gzip(IngestTestData.ClassicVariant(buildId: buildDate + "000000")), method: "PUT");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await WaitForCountAsync(buildDate, 1);
    }

    // ------------------------------------------------------------------ 404 / 405

    [Theory]
    [InlineData("/submit/other/d/idle-daily/Firefox/23.0.1/release/20130814063812")]
    [InlineData("/submit/telemetryx/d/idle-daily/Firefox/23.0.1/release/20130814063812")]
    [InlineData("/telemetry/d/idle-daily/Firefox/23.0.1/release/20130814063812")]
    [InlineData("/submit")]
    public async Task Path_not_under_submit_telemetry_is_404(string url)
    {
        var r = await SendAsync("POST", url, SiloHost.Gzip(IngestTestData.RealPing));
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    [InlineData("PATCH")]
    public async Task Other_methods_are_405(string method)
    {
        var r = await SendAsync(method, "/submit/telemetry/" + NewDocId() + "/" + IngestTestData.RealPingPathRest, method == "GET" ? null : IngestTestData.RealPing);
        await AssertErrorAsync(r, HttpStatusCode.MethodNotAllowed, "method");
        Assert.Contains("POST", r.Content.Headers.Allow);
        Assert.Contains("PUT", r.Content.Headers.Allow);
    }

    // ------------------------------------------------------------------ bad_path

    [Fact]
    public async Task Wrong_number_of_segments_is_400_bad_path_naming_the_segments()
    {
        var body = SiloHost.Gzip(IngestTestData.RealPing);
        await AssertErrorAsync(await Silo.SubmitAsync("d/idle-daily/Firefox/23.0.1/release", body), HttpStatusCode.BadRequest, "bad_path", "appBuildId");
        var four = await AssertErrorAsync(await Silo.SubmitAsync("d/idle-daily/Firefox/23.0.1", body), HttpStatusCode.BadRequest, "bad_path", "appUpdateChannel", "appBuildId");
        Assert.DoesNotContain("appVersion", four.Split("missing")[^1]);
        await AssertErrorAsync(await Silo.SubmitAsync("", body), HttpStatusCode.BadRequest, "bad_path", "docId");
        var seven = await AssertErrorAsync(await Silo.SubmitAsync("d/idle-daily/Firefox/23.0.1/release/20130814063812/extra", body),
            HttpStatusCode.BadRequest, "bad_path", "7", "appBuildId");
        Assert.Contains("6", seven);
    }

    [Fact]
    public async Task Segment_over_256_bytes_or_path_over_10_KiB_is_bad_path()
    {
        var body = SiloHost.Gzip(IngestTestData.RealPing);
        await AssertErrorAsync(await Silo.SubmitAsync(new string('a', 257) + "/" + IngestTestData.RealPingPathRest, body), HttpStatusCode.BadRequest, "bad_path");
        // 129 two-byte characters are 258 UTF-8 bytes.
        await AssertErrorAsync(await Silo.SubmitAsync("d/" + new string('é', 129) + "/Firefox/23.0.1/release/20130814063812", body), HttpStatusCode.BadRequest, "bad_path");
        await AssertErrorAsync(await Silo.SubmitAsync(string.Join('/', Enumerable.Repeat(new string('p', 250), 44)), body), HttpStatusCode.BadRequest, "bad_path");
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + new string('q', 11 * 1024) + "/" + IngestTestData.RealPingPathRest, body), HttpStatusCode.BadRequest, "bad_path");
        // The boundary: exactly 256 bytes is fine.
        var ok = await Silo.SubmitAsync(Guid.NewGuid().ToString("N") + new string('b', 256 - 32) + "/" + IngestTestData.RealPingPathRest, body);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    // ------------------------------------------------------------------ too_large

    [Fact]
    public async Task Body_over_1_MiB_is_413_too_large_and_exactly_1_MiB_is_accepted()
    {
        const int limit = 1024 * 1024;
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, new byte[limit + 1]),
            HttpStatusCode.RequestEntityTooLarge, "too_large");

        // Without a Content-Length (chunked) the limit is enforced while reading.
        var chunked = new HttpRequestMessage(HttpMethod.Post, "/submit/telemetry/" + NewDocId() + "/" + IngestTestData.RealPingPathRest)
        {
            Content = new StreamContent(new MemoryStream(new byte[limit + 100_000])),
        };
        chunked.Headers.TransferEncodingChunked = true;
        await AssertErrorAsync(await Silo.Http.SendAsync(chunked), HttpStatusCode.RequestEntityTooLarge, "too_large");

        // A valid ping padded with whitespace to exactly the limit.
        var padded = new byte[limit];
        Array.Fill(padded, (byte)' ');
        IngestTestData.RealPing.CopyTo(padded, 0);
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, padded)).StatusCode);
    }

    [Fact]
    public async Task Gzip_bomb_is_413_and_the_silo_stays_responsive()
    {
        byte[] bomb;
        using (var ms = new MemoryStream())
        {
            using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize))
            {
                var zeros = new byte[1024 * 1024];
                for (int i = 0; i < 40; i++) gz.Write(zeros);
            }
            bomb = ms.ToArray();
        }
        Assert.True(bomb.Length < 1024 * 1024, $"bomb is {bomb.Length} bytes compressed");

        var sw = Stopwatch.StartNew();
        var bombs = Enumerable.Range(0, 6).Select(_ => Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, bomb)).ToList();
        var status = await Silo.Http.GetAsync("/status");
        var responses = await Task.WhenAll(bombs);
        sw.Stop();
        foreach (var r in responses)
        {
            await AssertErrorAsync(r, HttpStatusCode.RequestEntityTooLarge, "too_large");
        }
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"six bombs took {sw.Elapsed}");

        // The same with the header declared.
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, bomb, "gzip"), HttpStatusCode.RequestEntityTooLarge, "too_large");
        Assert.Equal(HttpStatusCode.OK, (await SubmitRealAsync()).StatusCode);
    }

    [Fact]
    public async Task Configured_body_and_inflated_limits_are_honoured()
    {
        await using var small = await SiloHost.StartAsync(null, "--Ingest:MaxBodyBytes=2048", "--Ingest:MaxInflatedBytes=4096");
        string path = NewDocId() + "/" + IngestTestData.RealPingPathRest;
        // The real ping is ~18 KB gzipped: over 2048.
        await AssertErrorAsync(await small.SubmitAsync(path, SiloHost.Gzip(IngestTestData.RealPing)), HttpStatusCode.RequestEntityTooLarge, "too_large");
        // Small compressed, 5000 bytes inflated: over 4096.
        var json = Encoding.UTF8.GetBytes("{\"ver\":1,\"info\":{\"pad\":\"" + new string('x', 4950) + "\"}}");
        var gz = SiloHost.Gzip(json);
        Assert.True(gz.Length < 2048);
        await AssertErrorAsync(await small.SubmitAsync(path, gz), HttpStatusCode.RequestEntityTooLarge, "too_large");
        // Under both limits: stored.
        var okJson = Encoding.UTF8.GetBytes("{\"ver\":1,\"info\":{\"appName\":\"Firefox\",\"appVersion\":\"23.0.1\",\"appUpdateChannel\":\"release\",\"appBuildID\":\"20130814063812\"}}");
        Assert.Equal(HttpStatusCode.OK, (await small.SubmitAsync(path, SiloHost.Gzip(okJson))).StatusCode);
    }

    // ------------------------------------------------------------------ bad_gzip, bad_json, bad_payload, empty

    [Fact]
    public async Task Corrupt_gzip_is_400_bad_gzip()
    {
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        var flipped = (byte[])gz.Clone();
        flipped[^6] ^= 0xFF; // CRC32 of the trailer
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, flipped), HttpStatusCode.BadRequest, "bad_gzip");
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        garbage[0] = 0x1F;
        garbage[1] = 0x8B;
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, garbage), HttpStatusCode.BadRequest, "bad_gzip");
    }

    [Fact]
    public async Task Truncated_gzip_is_400_bad_gzip()
    {
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        await AssertErrorAsync(await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, gz[..(gz.Length / 2)]), HttpStatusCode.BadRequest, "bad_gzip");
    }

    [Fact]
    public async Task Content_encoding_gzip_with_a_plain_body_is_400()
    {
        var r = await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, IngestTestData.RealPing, "gzip");
        await AssertErrorAsync(r, HttpStatusCode.BadRequest, "bad_gzip");
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("[{\"ver\":1}]")]
    [InlineData("\"a json string\"")]
    [InlineData("42")]
    [InlineData("{\"ver\":1,\"info\":{}")]
    public async Task Not_json_or_not_an_object_is_400_bad_json(string body)
    {
        var r = await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, Encoding.UTF8.GetBytes(body));
        await AssertErrorAsync(r, HttpStatusCode.BadRequest, "bad_json");
    }

    [Theory]
    [InlineData("""{"ver":1,"histograms":{}}""", "info")]
    [InlineData("""{"ver":1,"info":{"appName":"Firefox"},"histograms":{"GC_MS":{"range":[1,10000],"bucket_count":50,"histogram_type":0,"values":{"0":1},"sum":0}}}""", "info.revision")]
    [InlineData("""{"version":4,"payload":{"histograms":{}}}""", "application")]
    [InlineData("""{"version":4,"application":{"name":"Firefox","version":"57.0","channel":"nightly","buildId":"20170901000000"}}""", "payload")]
    public async Task Missing_required_fields_are_400_bad_payload_naming_the_field(string body, string field)
    {
        var r = await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, Encoding.UTF8.GetBytes(body));
        await AssertErrorAsync(r, HttpStatusCode.BadRequest, "bad_payload", field);
    }

    [Fact]
    public async Task Empty_body_is_400_empty()
    {
        var r = await Silo.SubmitAsync(NewDocId() + "/" + IngestTestData.RealPingPathRest, []);
        await AssertErrorAsync(r, HttpStatusCode.BadRequest, "empty");
    }

    // ------------------------------------------------------------------ error bodies

    [Theory]
    [InlineData("not-json")]
    [InlineData("unterminated-string")]
    [InlineData("bad-payload")]
    [InlineData("bad-path")]
    public async Task Error_bodies_are_short_and_never_echo_the_input(string kind)
    {
        // 5 KB of input with a recognisable marker.
        string marker = "ECHO" + Guid.NewGuid().ToString("N");
        string filler = string.Concat(Enumerable.Repeat(marker, 5000 / marker.Length + 1));
        string path = NewDocId() + "/" + IngestTestData.RealPingPathRest;
        byte[] body = kind switch
        {
            "not-json" => Encoding.UTF8.GetBytes(filler),
            "unterminated-string" => Encoding.UTF8.GetBytes("{\"ver\":1,\"info\":{\"appName\":\"" + filler),
            "bad-payload" => Encoding.UTF8.GetBytes("{\"ver\":1,\"" + filler + "\":\"" + filler + "\"}"),
            _ => IngestTestData.RealPing,
        };
        if (kind == "bad-path") path = marker + "/" + filler[..300] + "/" + IngestTestData.RealPingPathRest;
        var r = await Silo.SubmitAsync(path, body);
        Assert.True((int)r.StatusCode is >= 400 and < 500, $"status {(int)r.StatusCode}");
        string text = await r.Content.ReadAsStringAsync();
        Assert.True(text.Length <= MaxErrorBodyChars, $"{text.Length} chars: {Clip(text)}");
        Assert.DoesNotContain(marker, text);

        // The same as problem+json.
        var json = await SendAsync("POST", "/submit/telemetry/" + path, body, accept: "application/json");
        string jsonText = await json.Content.ReadAsStringAsync();
        Assert.DoesNotContain(marker, jsonText);
        Assert.True(jsonText.Length <= 2 * MaxErrorBodyChars, $"{jsonText.Length} chars: {Clip(jsonText)}");
    }

    [Fact]
    public async Task Accept_json_gets_problem_details()
    {
        var r = await SendAsync("POST", "/submit/telemetry/" + NewDocId() + "/" + IngestTestData.RealPingPathRest,
            Encoding.UTF8.GetBytes("[1,2,3]"), accept: "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal(400, doc.RootElement.GetProperty("status").GetInt32());
        Assert.Contains("bad_json", doc.RootElement.GetRawText());

        var tooLarge = await SendAsync("POST", "/submit/telemetry/" + NewDocId() + "/" + IngestTestData.RealPingPathRest,
            new byte[1024 * 1024 + 1], accept: "application/problem+json, application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("application/problem+json", tooLarge.Content.Headers.ContentType?.MediaType);
        Assert.Contains("too_large", await tooLarge.Content.ReadAsStringAsync());
    }

    // ------------------------------------------------------------------ /metrics

    [Fact]
    public async Task Metrics_count_rejections_by_reason()
    {
        var before = await ScrapeAsync();
        string rest = IngestTestData.RealPingPathRest;
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        var flipped = (byte[])gz.Clone();
        flipped[^6] ^= 0xFF;
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync("a/b/c", gz)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync(new string('s', 300) + "/" + rest, gz)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Silo.SubmitAsync(NewDocId() + "/" + rest, new byte[1024 * 1024 + 1])).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync(NewDocId() + "/" + rest, flipped)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync(NewDocId() + "/" + rest, "nope"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync(NewDocId() + "/" + rest, "{\"version\":4}"u8.ToArray())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Silo.SubmitAsync(NewDocId() + "/" + rest, [])).StatusCode);
        string docId = NewDocId();
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(docId + "/" + rest, gz)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Silo.SubmitAsync(docId + "/" + rest, gz)).StatusCode);
        // 404 and 405 are not submissions.
        await SendAsync("POST", "/submit/other/a/b/c/d/e/f", gz);
        await SendAsync("GET", "/submit/telemetry/" + docId + "/" + rest, null);

        await AssertCounterIncreasesAsync(before, new Dictionary<string, double>
        {
            [Rejected("bad_path")] = 2,
            [Rejected("too_large")] = 1,
            [Rejected("bad_gzip")] = 1,
            [Rejected("bad_json")] = 1,
            [Rejected("bad_payload")] = 1,
            [Rejected("empty")] = 1,
            [AcceptedKey] = 1,
            [DuplicateKey] = 1,
        });
        var text = await Silo.Http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE telemetry_ingest_rejected_total counter", text);
    }

    // ------------------------------------------------------------------ bad-input corpus

    public static TheoryData<string> CorpusCases =>
    [
        "truncated-gzip-middle",
        "truncated-gzip-trailer",
        "gzip-header-only",
        "deep-nesting-array",
        "deep-nesting-in-object",
        "invalid-utf8-kept-field",
        "invalid-utf8-skipped-field",
        "binary-garbage",
        "nul-bytes",
        "gzip-of-text",
        "oversized-path",
        "plain-body-declared-gzip",
    ];

    [Theory]
    [MemberData(nameof(CorpusCases))]
    public async Task Bad_input_gets_its_4xx_and_a_valid_ping_is_still_accepted_afterwards(string name)
    {
        var gz = SiloHost.Gzip(IngestTestData.RealPing);
        string path = NewDocId() + "/" + IngestTestData.RealPingPathRest;
        string? encoding = null;
        byte[] InvalidUtf8(string field)
        {
            var b = new List<byte>(Encoding.UTF8.GetBytes($"{{\"ver\":1,\"info\":{{\"appName\":\"Firefox\",\"{field}\":\"WIN"));
            b.AddRange([0xC3, 0x28, 0xFF, 0xFE, 0xED, 0xA0, 0x80]);
            b.AddRange(Encoding.UTF8.GetBytes("\"}}"));
            return b.ToArray();
        }
        (byte[] body, HttpStatusCode status, string reason) = name switch
        {
            "truncated-gzip-middle" => (gz[..(gz.Length / 2)], HttpStatusCode.BadRequest, "bad_gzip"),
            "truncated-gzip-trailer" => (gz[..^4], HttpStatusCode.BadRequest, "bad_gzip"),
            "gzip-header-only" => (gz[..10], HttpStatusCode.BadRequest, "bad_gzip"),
            "deep-nesting-array" => (Encoding.ASCII.GetBytes(new string('[', 10_000)), HttpStatusCode.BadRequest, "bad_json"),
            "deep-nesting-in-object" => (Encoding.ASCII.GetBytes("{\"ver\":1,\"info\":" + new string('[', 10_000) + new string(']', 10_000) + "}"), HttpStatusCode.BadRequest, "bad_json"),
            "invalid-utf8-kept-field" => (InvalidUtf8("OS"), HttpStatusCode.BadRequest, "bad_json"),
            "invalid-utf8-skipped-field" => (InvalidUtf8("adapterDescription"), HttpStatusCode.BadRequest, "bad_json"),
            "binary-garbage" => (Garbage(), HttpStatusCode.BadRequest, "bad_json"),
            "nul-bytes" => (new byte[64], HttpStatusCode.BadRequest, "bad_json"),
            "gzip-of-text" => (SiloHost.Gzip("hello, world"u8.ToArray()), HttpStatusCode.BadRequest, "bad_json"),
            "oversized-path" => (gz, HttpStatusCode.BadRequest, "bad_path"),
            "plain-body-declared-gzip" => (IngestTestData.RealPing, HttpStatusCode.BadRequest, "bad_gzip"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
        if (name == "oversized-path") path = string.Join('/', Enumerable.Repeat(new string('z', 2000), 6));
        if (name == "plain-body-declared-gzip") encoding = "gzip";

        var r = await Silo.SubmitAsync(path, body, encoding);
        await AssertErrorAsync(r, status, reason);

        var ok = await SubmitRealAsync();
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static byte[] Garbage()
    {
        var b = new byte[8192];
        new Random(42).NextBytes(b);
        b[0] = 0x01;
        return b;
    }

    [Fact]
    public async Task Histogram_level_garbage_is_skipped_and_counted_while_the_ping_is_stored()
    {
        // A histogram with counts that are not non-negative integers is skipped (invalid_histogram);
        // the rest of the ping is used. 1e400 is valid JSON but no integer count; [1,2] is not a values object.
        const string buildDate = "20010106";
        string body = """
            {"ver":1,"info":{"reason":"idle-daily","appName":"Firefox","appVersion":"23.0.1","appUpdateChannel":"release",
              "appBuildID":"BUILDDATE000000","revision":"http://hg.mozilla.org/releases/mozilla-release/rev/a55c55edf302",
              "OS":"WINNT","version":"5.1","arch":"x86"},
             "histograms":{
               "CYCLE_COLLECTOR":{"range":[1,10000],"bucket_count":50,"histogram_type":0,"values":{"0":1e400},"sum":0},
               "GC_MS":{"range":[1,10000],"bucket_count":50,"histogram_type":0,"values":{"0":2,"14":1},"sum":14},
               "A11Y_CONSUMERS":{"range":[1,11],"bucket_count":12,"histogram_type":1,"values":[1,2],"sum":1}}}
            """.Replace("BUILDDATE", buildDate, StringComparison.Ordinal);
        var before = await ScrapeAsync();
        var r = await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest(buildDate + "000000"), Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await WaitForCountAsync(buildDate, 1, "GC_MS");
        Assert.Equal(14, (await AggregateAsync(buildDate, "GC_MS"))!.Value.Sum);
        Assert.Null(await AggregateAsync(buildDate, "CYCLE_COLLECTOR"));
        Assert.Null(await AggregateAsync(buildDate, "A11Y_CONSUMERS"));
        await AssertCounterIncreasesAsync(before, new Dictionary<string, double> { [InvalidHistogramsKey] = 2, [AcceptedKey] = 1 });
    }

    [Fact]
    public async Task Wrongly_typed_histograms_section_is_ignored_and_the_ping_stored()
    {
        // Not covered by the status table: a classic ping with "histograms":"x" carries nothing to aggregate but
        // has what its version needs (ver, info). The product stores it; this pins that behaviour.
        string body = """{"ver":1,"info":{"appName":"Firefox","appVersion":"23.0.1","appUpdateChannel":"release","appBuildID":"20010107000000"},"histograms":"x"}""";
        var r = await Silo.SubmitAsync(NewDocId() + "/" + ClassicRest("20010107000000"), Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SubmitRealAsync()).StatusCode);
    }
}
