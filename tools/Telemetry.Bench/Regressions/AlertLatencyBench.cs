using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Telemetry.Bench.Regressions;

/// <summary>
/// <c>regressions latency --silo URL --maildev URL [--admin-token T] [--runs N] [--pings P] [--concurrency C]</c>: how long
/// after the last ping of a shifted build date its alert mail is in the SMTP catcher (docs/benchmarks.md, "Regression
/// alerts"). Each run has its own metric (owned by its own address) and its own 15 build dates: 12 alike (the default
/// detector measures day-to-day noise on at least 10 pairs of dates before a candidate), then 3 moved one bucket up
/// (it reports a shift once the two following dates confirm it). The first 14 dates are submitted and aggregated
/// first; the clock starts at the 200 of the last ping of the 15th and reads, by polling
/// every 50 ms: the aggregates API showing all of it, the regressions API listing the record, maildev holding the mail.
/// The silo must run with <c>Regressions:ReadyPings</c> = P (a date is ready when complete), SMTP to the maildev.
/// </summary>
public static class AlertLatencyBench
{
    private const int Dates = 15, ShiftIndex = 12;
    private static readonly long[] Bounds = ExponentialBounds(1, 1000, 20);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static async Task<int> RunAsync(string[] args)
    {
        Uri? silo = null, maildev = null;
        string token = "bench-admin-token";
        int runs = 5, pings = 200, concurrency = 16;
        double timeoutSeconds = 300;
        for (int i = 2; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new BenchException($"option {args[i]} needs a value");
            }
            string v = args[i + 1];
            switch (args[i])
            {
                case "--silo": silo = Loopback.Require(v); break;
                case "--maildev": maildev = Loopback.Require(v); break;
                case "--admin-token": token = v; break;
                case "--runs": runs = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--pings": pings = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--concurrency": concurrency = int.Parse(v, CultureInfo.InvariantCulture); break;
                case "--timeout": timeoutSeconds = double.Parse(v, CultureInfo.InvariantCulture); break;
                default: throw new BenchException($"unknown option {args[i]} ({RegressionBench.Usage})");
            }
        }
        if (silo is null || maildev is null)
        {
            throw new BenchException("--silo and --maildev are required");
        }
        if (runs is < 1 or > 50 || pings is < 20 or > 100_000 || concurrency is < 1 or > 256)
        {
            throw new BenchException("out of bounds: runs 1..50, pings 20..100,000, concurrency 1..256");
        }
        using var http = new HttpClient { BaseAddress = silo, Timeout = TimeSpan.FromSeconds(120) };
        using var mail = new HttpClient { BaseAddress = maildev, Timeout = TimeSpan.FromSeconds(30) };
        string runId = DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture);
        var metrics = Enumerable.Range(0, runs).Select(r => $"BENCH_LATENCY_{runId}_{r}_MS").ToList();
        await InstallProbesAsync(http, token, runId, metrics);

        var results = new List<(double Visible, double Recorded, double Mailed)>();
        var timeout = TimeSpan.FromSeconds(timeoutSeconds);
        for (int r = 0; r < runs; r++)
        {
            // Each run's dates are newer than the previous run's, so all of them are in the channel's window.
            var first = new DateOnly(2026, 1, 1).AddDays(r * (Dates + 2));
            string metric = metrics[r], owner = OwnerOf(metric);
            for (int d = 0; d < Dates - 1; d++)
            {
                await SubmitDateAsync(http, metric, first.AddDays(d), d >= ShiftIndex, pings, concurrency);
            }
            await WaitAsync(() => VisibleAsync(http, metric, first, Dates - 1, pings), timeout, "the first dates to be aggregated");
            await Task.Delay(TimeSpan.FromSeconds(2)); // let a check see them ready and run before the clock starts

            await SubmitDateAsync(http, metric, first.AddDays(Dates - 1), true, pings, concurrency);
            var clock = Stopwatch.StartNew();
            double visible = -1, recorded = -1, mailed = -1;
            while (mailed < 0)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new BenchException($"run {r}: no alert mail to {owner} after {timeout.TotalSeconds:0} s (visible {visible:0.00} s, recorded {recorded:0.00} s)");
                }
                if (visible < 0 && await VisibleAsync(http, metric, first, Dates, pings))
                {
                    visible = clock.Elapsed.TotalSeconds;
                }
                if (recorded < 0 && await RecordedAsync(http, metric))
                {
                    recorded = clock.Elapsed.TotalSeconds;
                }
                if (await MailedAsync(mail, owner))
                {
                    mailed = clock.Elapsed.TotalSeconds;
                }
                await Task.Delay(Poll);
            }
            results.Add((visible < 0 ? mailed : visible, recorded < 0 ? mailed : recorded, mailed));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {r}: visible {visible:0.00} s, recorded {recorded:0.00} s, mailed {mailed:0.00} s"));
        }

        DelayTable.Print($"Regression alert latency: last ping of the confirming build date → ({runs} runs, {pings} pings per date)",
            ("all pings visible in the aggregates API", results.Select(x => x.Visible)),
            ("regression record listed (`GET /api/regressions`)", results.Select(x => x.Recorded)),
            ("**alert mail in maildev**", results.Select(x => x.Mailed)));
        return 0;
    }

    private static string OwnerOf(string metric) => metric.ToLowerInvariant().Replace('_', '-') + "@bench.example.org";

    private static async Task InstallProbesAsync(HttpClient http, string token, string runId, List<string> metrics)
    {
        var revision = new JsonObject();
        foreach (var m in metrics)
        {
            revision[m] = new JsonObject
            {
                ["record_in_processes"] = new JsonArray("main"),
                ["expires_in_version"] = "never",
                ["kind"] = "exponential",
                ["low"] = 1,
                ["high"] = 1000,
                ["n_buckets"] = 20,
                ["description"] = "regression latency benchmark",
                ["alert_emails"] = new JsonArray(OwnerOf(m)),
            };
        }
        string name = "bench-latency-" + runId;
        await AdminPutAsync(http, token, $"/api/probes/revisions/{name}/histograms", revision.ToJsonString());
        await AdminPutAsync(http, token, "/api/probes/channels/nightly", $"{{\"revision\":\"{name}\"}}");
        await Task.Delay(TimeSpan.FromSeconds(3)); // every silo picks up registry changes within Probes:RefreshMs
    }

    private static async Task AdminPutAsync(HttpClient http, string token, string url, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new BenchException($"PUT {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task SubmitDateAsync(HttpClient http, string metric, DateOnly date, bool shifted, int pings, int concurrency)
    {
        string buildId = date.ToString("yyyyMMdd", CultureInfo.InvariantCulture) + "120000";
        byte[] body = Gzip(Ping(metric, buildId, shifted));
        using var gate = new SemaphoreSlim(concurrency);
        await Task.WhenAll(Enumerable.Range(0, pings).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentEncoding.Add("gzip");
                using var response = await http.PostAsync($"/submit/telemetry/{Guid.NewGuid()}/main/Firefox/57.0a1/nightly/{buildId}", content);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new BenchException($"ping refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>A minimal unified main ping carrying one histogram: 45, 10 and 5 samples in three neighbouring buckets.</summary>
    private static byte[] Ping(string metric, string buildId, bool shifted)
    {
        int b = shifted ? 6 : 5;
        var values = new JsonObject
        {
            [Bounds[b].ToString(CultureInfo.InvariantCulture)] = 45,
            [Bounds[b + 1].ToString(CultureInfo.InvariantCulture)] = 10,
            [Bounds[b + 2].ToString(CultureInfo.InvariantCulture)] = 5,
        };
        var ping = new JsonObject
        {
            ["type"] = "main",
            ["version"] = 4,
            ["application"] = new JsonObject
            {
                ["name"] = "Firefox", ["version"] = "57.0a1", ["channel"] = "nightly", ["buildId"] = buildId, ["architecture"] = "x86-64",
            },
            ["environment"] = new JsonObject
            {
                ["build"] = new JsonObject { ["buildId"] = buildId, ["applicationName"] = "Firefox", ["version"] = "57.0a1", ["architecture"] = "x86-64" },
                ["system"] = new JsonObject { ["os"] = new JsonObject { ["name"] = "Linux", ["version"] = "6.1" } },
            },
            ["payload"] = new JsonObject
            {
                ["info"] = new JsonObject { ["reason"] = "daily" },
                ["histograms"] = new JsonObject
                {
                    [metric] = new JsonObject { ["range"] = new JsonArray(1, 1000), ["bucket_count"] = 20, ["histogram_type"] = 0, ["values"] = values, ["sum"] = 1000 },
                },
            },
        };
        return Encoding.UTF8.GetBytes(ping.ToJsonString());
    }

    private static async Task<bool> VisibleAsync(HttpClient http, string metric, DateOnly first, int dates, int pings)
    {
        string list = string.Join(',', Enumerable.Range(0, dates).Select(d => first.AddDays(d).ToString("yyyyMMdd", CultureInfo.InvariantCulture)));
        using var response = await http.GetAsync($"/aggregates_by/build_id/channels/nightly/?version=57&dates={list}&metric={metric}");
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64()) >= (long)dates * pings;
    }

    private static async Task<bool> RecordedAsync(HttpClient http, string metric)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"/api/regressions?channel=nightly&metric={metric}&detector=default"));
        return doc.RootElement.GetProperty("regressions").GetArrayLength() > 0;
    }

    private static async Task<bool> MailedAsync(HttpClient mail, string owner)
    {
        using var doc = JsonDocument.Parse(await mail.GetStringAsync("/api/email"));
        return doc.RootElement.EnumerateArray().Any(m => m.GetProperty("to").EnumerateArray().Any(a => a.GetProperty("address").GetString() == owner));
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                throw new BenchException($"timed out waiting for {what}");
            }
            await Task.Delay(Poll);
        }
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        {
            gz.Write(data);
        }
        return ms.ToArray();
    }

    /// <summary>Firefox's exponential bucket formula (docs/probes.md), for the keys of a ping's <c>values</c>.</summary>
    private static long[] ExponentialBounds(long low, long high, int n)
    {
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
}
