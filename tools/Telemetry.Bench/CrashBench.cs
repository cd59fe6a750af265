using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using Npgsql;

namespace Telemetry.Bench;

/// <summary>
/// The crash-aggregation part of the benchmark (issue 3): ingest throughput of unified main and
/// crash pings (every one feeds crash aggregates as well as histograms), and the delay from a
/// 200 to the ping's row appearing in the <c>crash_aggregates</c> table.
/// Usage: <c>crash --url URL --pg CONNECTION --seconds N --connections N [--markers N]</c>.
/// </summary>
public static class CrashBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Get(string name, string fallback)
        {
            int i = Array.IndexOf(args, "--" + name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var url = new Uri(Get("url", "http://127.0.0.1:8080"));
        if (!IPAddress.TryParse(url.Host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            Console.Error.WriteLine("bench crash: the target must be a loopback address");
            return 2;
        }
        string cs = Get("pg", "");
        double seconds = double.Parse(Get("seconds", "20"), CultureInfo.InvariantCulture);
        int connections = int.Parse(Get("connections", "64"), CultureInfo.InvariantCulture);
        int markers = int.Parse(Get("markers", "5"), CultureInfo.InvariantCulture);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
        var bodies = Enumerable.Range(0, 16).Select(i => Gzip(Ping(i % 4 == 3 ? "crash" : "main", i, $"60.0a{i % 3}"))).ToArray();

        // Throughput: closed loop, bounded in time and count.
        long ok = 0, failed = 0;
        var deadline = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            for (int i = 0; deadline.Elapsed.TotalSeconds < seconds && i < 1_000_000; i++)
            {
                var body = bodies[(w + i) % bodies.Length];
                string type = (w + i) % bodies.Length % 4 == 3 ? "crash" : "main";
                try
                {
                    using var content = new ByteArrayContent(body);
                    using var r = await http.PostAsync($"/submit/telemetry/{Guid.NewGuid()}/{type}/Firefox/60.0/nightly/20180301000000", content);
                    if (r.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok); else Interlocked.Increment(ref failed);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        double elapsed = deadline.Elapsed.TotalSeconds;

        // Delay from 200 to the row in crash_aggregates (a fresh build_version per marker).
        var delays = new List<double>();
        for (int m = 0; m < markers && cs.Length > 0; m++)
        {
            string version = $"bench-{Guid.NewGuid():N}"[..20];
            var sw = Stopwatch.StartNew();
            using var content = new ByteArrayContent(Gzip(Ping("main", m, version)));
            using var r = await http.PostAsync($"/submit/telemetry/{Guid.NewGuid()}/main/Firefox/60.0/nightly/20180301000000", content);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                continue;
            }
            sw.Restart();
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync();
            while (sw.Elapsed < TimeSpan.FromSeconds(120))
            {
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM crash_aggregates WHERE dimensions->>'build_version' = @v", conn);
                cmd.Parameters.AddWithValue("v", version);
                if ((long)(await cmd.ExecuteScalarAsync())! > 0)
                {
                    delays.Add(sw.Elapsed.TotalSeconds);
                    break;
                }
                await Task.Delay(200);
            }
        }
        delays.Sort();
        string Pct(double p) => delays.Count == 0 ? "n/a" : delays[Math.Min(delays.Count - 1, (int)Math.Ceiling(p * delays.Count) - 1)].ToString("F1", CultureInfo.InvariantCulture) + " s";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| (d) submit, unified main + crash pings (crash aggregation on) | {ok / elapsed:N0} pings/s |  |  | {ok:N0} accepted in {elapsed:F1} s, {failed:N0} failed; {connections} connections; {bodies[0].Length:N0} B gzip |"));
        Console.WriteLine(
            $"| (d) 200 → row in crash_aggregates (p50 / max) | {Pct(0.5)} / {Pct(1.0)} | ≤ Crash:ProjectionSeconds + a few s |  | {delays.Count} of {markers} marker pings seen in the table (projection every Crash:ProjectionSeconds) |");
        return 0;
    }

    private static byte[] Gzip(string json)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        {
            gz.Write(Encoding.UTF8.GetBytes(json));
        }
        return ms.ToArray();
    }

    /// <summary>A unified (v4) main or crash ping with a few histograms and the crash counters.</summary>
    private static string Ping(string type, int variant, string buildVersion)
    {
        string os = (variant % 3) switch { 0 => "Windows_NT", 1 => "Linux", _ => "Darwin" };
        string day = DateTime.UtcNow.AddDays(-(variant % 3)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var histograms = new StringBuilder();
        for (int h = 0; h < 60; h++)
        {
            if (h > 0) histograms.Append(',');
            histograms.Append(CultureInfo.InvariantCulture, $"\"BENCH_HISTOGRAM_{h}\":{{\"range\":[1,10000],\"bucket_count\":50,\"histogram_type\":0,\"values\":{{\"0\":3,\"1\":{variant + 1},\"2\":5}},\"sum\":{variant + 11}}}");
        }
        string payload = type == "crash"
            ? $"\"payload\":{{\"crashDate\":\"{day}\",\"processType\":\"main\"}}"
            : $"\"payload\":{{\"info\":{{\"subsessionLength\":{1800 + variant},\"subsessionStartDate\":\"{day}T00:00:00.0+01:00\"}},"
              + $"\"histograms\":{{{histograms}}},"
              + "\"keyedHistograms\":{\"SUBPROCESS_CRASHES_WITH_DUMP\":{\"content\":{\"range\":[1,2],\"bucket_count\":3,\"histogram_type\":4,\"values\":{\"0\":" + (variant % 2) + "},\"sum\":" + (variant % 2) + "}}},"
              + "\"simpleMeasurements\":{\"uptime\":" + (variant + 3) + "}}";
        return "{\"type\":\"" + type + "\",\"id\":\"" + Guid.NewGuid() + "\",\"version\":4,\"creationDate\":\"" + day + "T10:00:00.000Z\","
            + "\"application\":{\"name\":\"Firefox\",\"version\":\"60.0\",\"channel\":\"nightly\",\"buildId\":\"20180301000000\",\"architecture\":\"x86-64\"},"
            + "\"environment\":{\"build\":{\"version\":\"" + buildVersion + "\",\"buildId\":\"20180301000000\",\"architecture\":\"x86-64\"},"
            + "\"system\":{\"os\":{\"name\":\"" + os + "\",\"version\":\"10.0\"},\"gfx\":{\"features\":{\"compositor\":\"d3d11\"}}},"
            + "\"settings\":{\"e10sEnabled\":true,\"e10sCohort\":\"test\"}},"
            + payload + "}";
    }
}
