using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Telemetry.Bench;

/// <summary>
/// The ingest benchmark (targets and results: docs/benchmarks.md), driven by <c>scripts/bench.sh</c>:
/// <list type="bullet">
/// <item>(a) <c>/bench/discard</c> and (b) <c>/bench/tokenize</c> reference endpoints and (c) the real
/// submit endpoint, each under the same closed-loop load (N connections, fixed duration);</item>
/// <item>the 200-to-visible lag of marker pings during (c), and the catch-up time after it;</item>
/// <item>aggregates API latency for 1-date and 30-date queries on the populated store;</item>
/// <item>the silo's peak memory and the CPU split silo / PostgreSQL / load generator / rest of machine.</item>
/// </list>
/// Every target address must be on loopback; load loops are bounded in time and count.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: Telemetry.Bench run [--key value ...] | detectors [--series N] [--seed S] | regressions cost|latency ... | sentry fill|drain|latency ... | free-ports N | wait-ready URL SECONDS");
            return 2;
        }
        try
        {
            switch (args[0])
            {
                case "free-ports":
                    Console.WriteLine(string.Join(' ', FreePorts(int.Parse(args[1], CultureInfo.InvariantCulture))));
                    return 0;
                case "wait-ready":
                    return await WaitReadyAsync(Loopback.Require(args[1]), double.Parse(args[2], CultureInfo.InvariantCulture)) ? 0 : 1;
                case "crash":
                    return await CrashBench.RunAsync(args);
                case "pg-landing":
                    return await PgLandingBench.RunAsync(args);
                case "micro":
                    return MicroBench.Run(args);
                case "detectors":
                    return Detectors.DetectorBench.Run(args);
                case "regressions":
                    return await Regressions.RegressionBench.RunAsync(args);
                case "sentry":
                    return await SentryBench.RunAsync(args);
                case "run":
                    var options = BenchOptions.Parse(args.AsSpan(1));
                    return await new Runner(options).RunAsync();
                default:
                    Console.Error.WriteLine($"unknown command '{args[0]}'");
                    return 2;
            }
        }
        catch (BenchException e)
        {
            Console.Error.WriteLine($"bench: {e.Message}");
            return 1;
        }
    }

    private static List<int> FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                l.Start();
                listeners.Add(l);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToList();
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private static async Task<bool> WaitReadyAsync(Uri baseUri, double seconds)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                using var r = await http.GetAsync(new Uri(baseUri, "/health/ready"));
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(250);
        }
        return false;
    }
}

public sealed class BenchException(string message) : Exception(message);

internal static class Loopback
{
    /// <summary>The benchmark only ever targets loopback addresses.</summary>
    public static Uri Require(string url)
    {
        var uri = new Uri(url);
        if (!IPAddress.TryParse(uri.Host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            throw new BenchException($"refusing to target {uri.Host}: only loopback IP addresses (127.0.0.0/8, ::1) are allowed");
        }
        return uri;
    }
}

public sealed class BenchOptions
{
    public required Uri BaseUri { get; init; }
    public string? ConnectionString { get; init; }
    public string PingPath { get; init; } = "/work/shared/data/pings/firefox-23.0.1-idle-daily.json";
    public int Connections { get; init; } = 64;
    public double Seconds { get; init; } = 20;
    public double WarmupSeconds { get; init; } = 3;
    /// <summary>(c) also reports its steady state: from this many measured seconds to the end of the load (start-up compilation excluded).</summary>
    public double SteadyAfterSeconds { get; init; } = 60;
    public long TargetPings { get; init; } = 200_000;
    public double MaxLoadSeconds { get; init; } = 360;
    public double CatchUpTimeoutSeconds { get; init; } = 180;
    public double StallSeconds { get; init; } = 45;
    public double ApiSeconds { get; init; } = 10;
    public int MarkerIntervalMs { get; init; } = 1000;
    public double MarkerTimeoutSeconds { get; init; } = 60;
    public int BuildDates { get; init; } = 35;
    public string Phases { get; init; } = "abc";
    public int SiloPid { get; init; }
    /// <summary>The object-store emulator's process (its CPU is reported apart: a real store runs elsewhere).</summary>
    public int StorePid { get; init; }
    /// <summary>Where the silo keeps bodies (a label for the table).</summary>
    public string BodyStore { get; init; } = "";
    public int PostgresPid { get; init; }
    public string? ReadToken { get; init; } = "bench-read-token";
    public string? MarkdownOut { get; init; }
    public string? JsonOut { get; init; }
    public string Code { get; init; } = "unknown";
    public long MaxRequestsPerPhase { get; init; } = 5_000_000;

    public static BenchOptions Parse(ReadOnlySpan<string> args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new BenchException($"bad argument '{args[i]}' (expected --key value)");
            }
            map[args[i][2..]] = args[++i];
        }
        string Get(string key, string fallback) => map.Remove(key, out var v) && v.Length > 0 ? v : fallback;
        double D(string key, double fallback) => double.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        int I(string key, int fallback) => int.Parse(Get(key, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var o = new BenchOptions
        {
            BaseUri = Loopback.Require(Get("url", "http://127.0.0.1:5000")),
            ConnectionString = Get("pg", "") is { Length: > 0 } cs ? cs : null,
            PingPath = Get("ping", "/work/shared/data/pings/firefox-23.0.1-idle-daily.json"),
            Connections = I("connections", 64),
            Seconds = D("seconds", 20),
            WarmupSeconds = D("warmup", 3),
            SteadyAfterSeconds = D("steady-after", 60),
            TargetPings = long.Parse(Get("pings", "200000"), CultureInfo.InvariantCulture),
            MaxLoadSeconds = D("max-load-seconds", 360),
            CatchUpTimeoutSeconds = D("catchup-timeout", 180),
            StallSeconds = D("stall-seconds", 45),
            ApiSeconds = D("api-seconds", 10),
            MarkerIntervalMs = I("marker-interval-ms", 1000),
            MarkerTimeoutSeconds = D("marker-timeout", 60),
            BuildDates = I("build-dates", 35),
            Phases = Get("phases", "abc"),
            SiloPid = I("silo-pid", 0),
            StorePid = I("store-pid", 0),
            BodyStore = Get("body-store", ""),
            PostgresPid = I("pg-pid", 0),
            ReadToken = Get("read-token", "bench-read-token"),
            MarkdownOut = Get("out", "") is { Length: > 0 } md ? md : null,
            JsonOut = Get("json", "") is { Length: > 0 } js ? js : null,
            Code = Get("code", "unknown"),
        };
        if (map.Count > 0)
        {
            throw new BenchException("unknown option(s): " + string.Join(", ", map.Keys.Select(k => "--" + k)));
        }
        if (o.Connections is < 1 or > 1024 || o.Seconds <= 0 || o.Seconds > 600 || o.MaxLoadSeconds > 1800 || o.BuildDates is < 30 or > 300)
        {
            throw new BenchException("out of bounds: connections 1..1024, seconds 0..600, max-load-seconds ≤ 1800, build-dates 30..300");
        }
        if (o.ConnectionString is { } c && new NpgsqlConnectionStringBuilder(c).Host is { } host
            && !(host.StartsWith('/') || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)) || host == "localhost"))
        {
            throw new BenchException($"refusing PostgreSQL host {host}: loopback only");
        }
        return o;
    }
}

/// <summary>The real ping, as one gzip body per build date (the body's build id wins over the URL's).</summary>
public sealed class PingBodies
{
    public const string App = "Firefox";
    public const string Version = "23.0.1";
    public const string Major = "23";
    public const string Channel = "release";
    public const string DocType = "idle-daily";

    private readonly string _json;
    private readonly string _originalBuildId;

    public PingBodies(string path)
    {
        _json = path.EndsWith(".log", StringComparison.Ordinal) ? FromRawLog(path) : File.ReadAllText(path);
        using var doc = JsonDocument.Parse(_json);
        _originalBuildId = doc.RootElement.GetProperty("info").GetProperty("appBuildID").GetString()
            ?? throw new BenchException("the ping has no info.appBuildID");
        if (CountOccurrences(_json, Quoted(_originalBuildId)) == 0)
        {
            throw new BenchException("cannot find the build id text in the ping");
        }
    }

    public int JsonBytes => Encoding.UTF8.GetByteCount(_json);

    /// <summary>Dimension variants of the load (OS, OS version, architecture), so that aggregates hold several series per metric.</summary>
    public static readonly (string Os, string OsVersion, string Arch)[] Variants =
    [
        ("WINNT", "5.1", "x86"), ("WINNT", "6.1", "x86"), ("WINNT", "6.1", "x86-64"), ("WINNT", "6.2", "x86-64"),
        ("WINNT", "5.1", "x86-64"), ("WINNT", "6.2", "x86"), ("Darwin", "12.4.0", "x86-64"), ("Darwin", "13.0.0", "x86-64"),
        ("Linux", "3.10", "x86"), ("Linux", "3.10", "x86-64"),
    ];

    /// <summary>The gzip body with every occurrence of the original build id replaced (appBuildID and platformBuildID), and optionally another OS/arch.</summary>
    public byte[] GzipFor(string buildId) => GzipFor(buildId, null);

    public byte[] GzipFor(string buildId, (string Os, string OsVersion, string Arch)? variant)
    {
        var json = _json.Replace(Quoted(_originalBuildId), Quoted(buildId), StringComparison.Ordinal);
        if (variant is { } v)
        {
            json = ReplaceOnce(json, "\"OS\":\"WINNT\"", $"\"OS\":\"{v.Os}\"");
            json = ReplaceOnce(json, "\"version\":\"5.1\"", $"\"version\":\"{v.OsVersion}\"");
            json = ReplaceOnce(json, "\"arch\":\"x86\"", $"\"arch\":\"{v.Arch}\"");
        }
        var raw = Encoding.UTF8.GetBytes(json);
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(raw);
        }
        return ms.ToArray();
    }

    private static string Quoted(string s) => "\"" + s + "\"";

    private static string ReplaceOnce(string text, string what, string with)
    {
        int i = text.IndexOf(what, StringComparison.Ordinal);
        if (i < 0 || text.IndexOf(what, i + 1, StringComparison.Ordinal) >= 0)
        {
            throw new BenchException($"the ping does not hold {what} exactly once");
        }
        return string.Concat(text.AsSpan(0, i), with, text.AsSpan(i + what.Length));
    }

    private static int CountOccurrences(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + 1, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    /// <summary>The body of the first record of a v1 raw log (0x1E, u16 path length, u32 data length, u64 ms, path, data).</summary>
    private static string FromRawLog(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 15 || bytes[0] != 0x1E)
        {
            throw new BenchException($"{path} does not start with a v1 record");
        }
        int pathLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(1));
        int dataLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(3));
        var data = bytes.AsSpan(15 + pathLength, dataLength).ToArray();
        if (data.Length > 2 && data[0] == 0x1F && data[1] == 0x8B)
        {
            using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
            using var outMs = new MemoryStream();
            gz.CopyTo(outMs);
            data = outMs.ToArray();
        }
        return Encoding.UTF8.GetString(data);
    }
}

/// <summary>CPU time of a process (and, for the PostgreSQL postmaster, of its children) from /proc.</summary>
public static class ProcStat
{
    private const double TicksPerSecond = 100.0; // USER_HZ on Linux

    /// <summary>utime+stime of one process, in seconds; with <paramref name="withReaped"/> also cutime+cstime (children that exited).</summary>
    public static double CpuSeconds(int pid, bool withReaped = false)
    {
        var f = Fields(pid);
        if (f is null)
        {
            return 0;
        }
        double ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
        if (withReaped)
        {
            ticks += long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
        }
        return ticks / TicksPerSecond;
    }

    /// <summary>A postmaster with its live children and the ones it has reaped.</summary>
    public static double TreeCpuSeconds(int rootPid)
    {
        if (rootPid <= 0)
        {
            return 0;
        }
        double total = CpuSeconds(rootPid, withReaped: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out int pid) && pid != rootPid && Fields(pid) is { } f
                && int.Parse(f[1], CultureInfo.InvariantCulture) == rootPid)
            {
                total += CpuSeconds(pid);
            }
        }
        return total;
    }

    /// <summary>Busy seconds of the whole machine (all cores) from /proc/stat.</summary>
    public static double MachineBusySeconds()
    {
        var line = File.ReadLines("/proc/stat").First();
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long idle = parts[3] + (parts.Length > 4 ? parts[4] : 0);
        long total = parts.Take(8).Sum();
        return (total - idle) / TicksPerSecond;
    }

    /// <summary>Seconds during which some runnable task waited for a CPU (/proc/pressure/cpu "some" total), or -1.</summary>
    public static double CpuPressureSeconds()
    {
        try
        {
            var some = File.ReadLines("/proc/pressure/cpu").First();
            var total = some.Split(' ').First(p => p.StartsWith("total=", StringComparison.Ordinal));
            return long.Parse(total[6..], CultureInfo.InvariantCulture) / 1e6;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return -1;
        }
    }

    /// <summary>A /proc/PID/status value in kB (VmHWM, VmRSS), or -1.</summary>
    public static long StatusKb(int pid, string key)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException) { }
        return -1;
    }

    /// <summary>Fields of /proc/PID/stat after the command name: [0]=state, [1]=ppid, ..., [11]=utime, [12]=stime, [13]=cutime, [14]=cstime.</summary>
    private static string[]? Fields(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            int close = text.LastIndexOf(')');
            return text[(close + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>CPU split over an interval, in percent of one core (200% = both cores of this machine).</summary>
public sealed class CpuMeter(int siloPid, int postgresPid, int storePid = 0)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly int _self = Environment.ProcessId;
    private (double Wall, double Silo, double Pg, double Self, double Machine, double Pressure, double Store) _start;

    public void Start() => _start = Sample();

    public CpuSplit Stop()
    {
        var end = Sample();
        double wall = end.Wall - _start.Wall;
        double Pct(double a, double b) => wall <= 0 ? 0 : 100 * (a - b) / wall;
        double silo = Pct(end.Silo, _start.Silo), pg = Pct(end.Pg, _start.Pg), self = Pct(end.Self, _start.Self), machine = Pct(end.Machine, _start.Machine);
        double store = Pct(end.Store, _start.Store);
        return new CpuSplit(silo, pg, self, Math.Max(0, machine - silo - pg - self - store), machine,
            end.Pressure < 0 ? double.NaN : Pct(end.Pressure, _start.Pressure), wall, store);
    }

    private (double Wall, double Silo, double Pg, double Self, double Machine, double Pressure, double Store) Sample() =>
        (_clock.Elapsed.TotalSeconds,
         siloPid > 0 ? ProcStat.CpuSeconds(siloPid) : 0,
         ProcStat.TreeCpuSeconds(postgresPid),
         ProcStat.CpuSeconds(_self),
         ProcStat.MachineBusySeconds(),
         ProcStat.CpuPressureSeconds(),
         storePid > 0 ? ProcStat.TreeCpuSeconds(storePid) : 0);
}

/// <summary>Percent of one core each (200% = the whole 2-core machine); Pressure = share of the time some runnable task waited for a CPU (PSI).</summary>
public sealed record CpuSplit(double Silo, double Postgres, double Bench, double Other, double Machine, double Pressure, double WallSeconds, double Store = 0)
{
    /// <summary>CPU microseconds per ping of the object-store emulator (0 without one).</summary>
    public double StoreMicrosPerPing(long pings) => pings <= 0 ? double.NaN : Store / 100 * WallSeconds * 1e6 / pings;

    /// <summary>CPU microseconds per ping of the silo, PostgreSQL and the load generator: insensitive to other load on the machine.</summary>
    public (double Silo, double Postgres, double Bench) MicrosPerPing(long pings) => pings <= 0 ? (double.NaN, double.NaN, double.NaN)
        : (Silo / 100 * WallSeconds * 1e6 / pings, Postgres / 100 * WallSeconds * 1e6 / pings, Bench / 100 * WallSeconds * 1e6 / pings);

    public override string ToString() =>
        FormattableString.Invariant($"CPU silo {Silo:F0}%, pg {Postgres:F0}%, bench {Bench:F0}%, ") + (Store > 0 ? FormattableString.Invariant($"object-store emulator {Store:F0}%, ") : "")
        + FormattableString.Invariant($"other processes {Other:F0}% (of 200%), CPU pressure {Pressure:F0}%");
}

/// <summary>What one closed-loop load phase did.</summary>
public sealed class LoadResult
{
    public required string Name { get; init; }
    public double MeasuredSeconds { get; set; }
    public double TotalSeconds { get; set; }
    public long MeasuredOk { get; set; }
    public long TotalOk { get; set; }
    public long TotalDuplicates { get; set; }
    public Dictionary<int, long> Statuses { get; } = new();
    public long Exceptions { get; set; }
    public string? FirstError { get; set; }
    public List<double> LatenciesMs { get; } = new();
    public long[] OkPerBuildDate { get; set; } = [];
    public CpuSplit? Cpu { get; set; }
    /// <summary>The steady-state window of a long phase (<see cref="BenchOptions.SteadyAfterSeconds"/> to the end); null when the phase was shorter.</summary>
    public CpuSplit? SteadyCpu { get; set; }
    public long SteadyOk { get; set; }
    public double SteadySeconds { get; set; }
    public double SteadyRate => SteadySeconds > 0 ? SteadyOk / SteadySeconds : 0;

    public double Rate => MeasuredSeconds > 0 ? MeasuredOk / MeasuredSeconds : 0;

    public long Failures => Statuses.Where(kv => kv.Key != 200).Sum(kv => kv.Value) + Exceptions;
}

/// <summary>A markdown table of delays over repeated runs: median, min and max per measure, in seconds.</summary>
public static class DelayTable
{
    public static void Print(string title, params (string Measure, IEnumerable<double> Seconds)[] rows)
    {
        Console.WriteLine(title);
        Console.WriteLine();
        Console.WriteLine("| measure | median (s) | min (s) | max (s) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (measure, seconds) in rows)
        {
            var sorted = seconds.Order().ToList();
            double median = sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {measure} | {median:0.00} | {sorted[0]:0.00} | {sorted[^1]:0.00} |"));
        }
    }
}

/// <summary>Sorted-sample percentiles.</summary>
public static class Percentiles
{
    public static double Of(List<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }
        int idx = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(idx, 0, sorted.Count - 1)];
    }
}

public sealed class Runner(BenchOptions o)
{
    private readonly Uri _base = o.BaseUri;
    private PingBodies _ping = null!;
    private string[] _loadBuildIds = [];
    private byte[][] _loadBodies = [];
    private readonly List<Row> _rows = new();

    private sealed record Row(string Measure, string Value, string Target, string Met, string Notes);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    public async Task<int> RunAsync()
    {
        _ping = new PingBodies(o.PingPath);
        // Load build dates: 2098-01-01 + i; marker build dates: 2099-01-01 + k (each marker its own aggregate).
        var first = new DateOnly(2098, 1, 1);
        _loadBuildIds = Enumerable.Range(0, o.BuildDates).Select(i => first.AddDays(i).ToString("yyyyMMdd", CultureInfo.InvariantCulture) + "000000").ToArray();
        _loadBodies = _loadBuildIds.SelectMany(id => PingBodies.Variants.Select(v => _ping.GzipFor(id, v))).ToArray();
        Progress(Inv($"ping: {_ping.JsonBytes:N0} B JSON, {_loadBodies[0].Length:N0} B gzip, {_loadBuildIds.Length} build dates × {PingBodies.Variants.Length} OS/arch variants; {o.Connections} connections, {o.Seconds:F0} s per phase (+{o.WarmupSeconds:F0} s warm-up)"));

        using var loadClient = NewClient(o.Connections);
        LoadResult? a = null, b = null, c = null;
        if (o.Phases.Contains('a'))
        {
            a = await RunLoadAsync("discard", loadClient, i => BenchPath("discard", i),
                o.Seconds, o.Seconds, 0, null);
            Progress(Inv($"(a) discard: {a.Rate:N0}/s"));
            NoteMemory("after (a)");
        }
        if (o.Phases.Contains('b'))
        {
            b = await RunLoadAsync("tokenize", loadClient, i => BenchPath("tokenize", i),
                o.Seconds, o.Seconds, 0, null);
            Progress(Inv($"(b) tokenize: {b.Rate:N0}/s"));
            NoteMemory("after (b)");
        }
        MarkerResult? markers = null;
        double catchUp = double.NaN;
        long apiCount = -1;
        if (o.Phases.Contains('c'))
        {
            using var markerCts = new CancellationTokenSource();
            var lag = new LagProbe(this, o);
            Task<MarkerResult>? markerTask = null;
            var pg = o.ConnectionString is null ? null : new PgStats(o.ConnectionString);
            if (pg is not null && !await pg.ResetAsync())
            {
                pg = null;
            }
            var e2eCpu = new CpuMeter(o.SiloPid, o.PostgresPid, o.StorePid);
            e2eCpu.Start();
            c = await RunLoadAsync("submit", loadClient, i => SubmitPath(Guid.NewGuid(), _loadBuildIds[i]),
                o.Seconds, o.MaxLoadSeconds, o.TargetPings,
                onMeasuredStart: () => markerTask = lag.RunAsync(markerCts.Token));
            markerCts.Cancel(); // stops starting markers; the ones in flight are still followed
            Progress(Inv($"(c) submit: {c.Rate:N0}/s accepted, {c.TotalOk:N0} stored in {c.TotalSeconds:F1} s; waiting for aggregation"));
            NoteMemory("after (c) load");
            (catchUp, apiCount) = await CatchUpAsync(c);
            _e2eCpu = e2eCpu.Stop();
            Progress(Inv($"caught up after {catchUp:F1} s (API count {apiCount:N0} vs {c.TotalOk:N0} accepted)"));
            if (pg is not null)
            {
                _pgReport = await pg.ReportAsync(c.TotalOk, _e2eCpu.WallSeconds);
            }
            markers = markerTask is null ? new MarkerResult() : await markerTask;
            Progress(Inv($"markers: {markers.LagsSeconds.Count} visible, {markers.TimedOut} timed out, {markers.Failed} failed"));
        }

        ApiLatency? api1 = null, api30 = null;
        if (o.Phases.Contains('c'))
        {
            (api1, api30) = await MeasureApiAsync();
        }
        if (b is not null && c is not null)
        {
            // (b) once more: on a shared machine the speed drifts during the minutes (c) takes, so the
            // reference is measured on both sides of it and the ratios use the mean of the two.
            _bAfter = await RunLoadAsync("tokenize", loadClient, i => BenchPath("tokenize", i),
                o.Seconds, o.Seconds, 0, null);
            Progress(Inv($"(b) tokenize again, after (c): {_bAfter.Rate:N0}/s"));
        }
        var store = await StoreStatsAsync();
        long hwm = o.SiloPid > 0 ? ProcStat.StatusKb(o.SiloPid, "VmHWM") : -1;
        long rss = o.SiloPid > 0 ? ProcStat.StatusKb(o.SiloPid, "VmRSS") : -1;
        string? metrics = await ScrapeMetricsAsync();
        _lagMetric = metrics?.Split("; ").FirstOrDefault(l => l.StartsWith("telemetry_aggregation_lag_seconds", StringComparison.Ordinal))?.Split(' ').LastOrDefault() ?? "?";

        BuildTable(a, b, c, catchUp, apiCount, markers, api1, api30, store, hwm, rss, metrics);
        var table = RenderTable();
        Console.WriteLine(table);
        if (o.MarkdownOut is { } md)
        {
            await File.WriteAllTextAsync(md, table);
        }
        if (o.JsonOut is { } js)
        {
            await File.WriteAllTextAsync(js, JsonSerializer.Serialize(new
            {
                discard = a?.Rate,
                tokenize = b?.Rate,
                tokenizeAfter = _bAfter?.Rate,
                submitAccepted = c?.Rate,
                endToEnd = c is null ? (double?)null : c.TotalOk / (c.TotalSeconds + catchUp),
                catchUpSeconds = catchUp,
                lagP50 = markers is null ? (double?)null : P(markers.LagsSeconds, 50),
                lagP99 = markers is null ? (double?)null : P(markers.LagsSeconds, 99),
                api1P50 = api1?.P50, api1P99 = api1?.P99, api30P50 = api30?.P50, api30P99 = api30?.P99,
                storedPings = store?.Rows,
                siloHwmKb = hwm,
            }));
        }
        bool failed = c is not null && (c.TotalOk == 0 || c.Failures > 0);
        return failed ? 3 : 0;
    }

    private readonly List<(string When, long Kb)> _memory = new();
    private readonly DateTime _startedUtc = DateTime.UtcNow;

    private static string MachineText()
    {
        string cpu = "?";
        long memKb = 0;
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
            var mem = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            memKb = long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException) { }
        string load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        return Inv($"{Environment.ProcessorCount} cores {cpu}, {memKb / 1048576.0:F0} GiB, load average {load} at start");
    }
    private CpuSplit? _e2eCpu;
    private LoadResult? _bAfter;

    // The (b) reference: its rate and CPU per ping (silo + PostgreSQL + load generator), the mean of
    // the measurements before and after (c) when both exist.
    private (double Rate, double Cost) Reference(LoadResult b)
    {
        static double Cost(LoadResult r)
        {
            var m = r.Cpu!.MicrosPerPing(r.MeasuredOk);
            return m.Silo + m.Postgres + m.Bench;
        }
        if (b.Cpu is null)
        {
            return (b.Rate, double.NaN);
        }
        return _bAfter is { Cpu: not null } after
            ? ((b.Rate + after.Rate) / 2, (Cost(b) + Cost(after)) / 2)
            : (b.Rate, Cost(b));
    }
    private string? _pgReport;
    private string _lagMetric = "?";

    private void NoteMemory(string when)
    {
        if (o.SiloPid > 0)
        {
            _memory.Add((when, ProcStat.StatusKb(o.SiloPid, "VmHWM")));
        }
    }

    // A reference endpoint's path for load request i: the submit path's segments under /bench/{endpoint}.
    private string BenchPath(string endpoint, int i) =>
        Inv($"/bench/{endpoint}/{Guid.NewGuid()}/{PingBodies.DocType}/{PingBodies.App}/{PingBodies.Version}/{PingBodies.Channel}/{_loadBuildIds[i]}");

    internal static string SubmitPath(Guid docId, string buildId) =>
        Inv($"/submit/telemetry/{docId}/{PingBodies.DocType}/{PingBodies.App}/{PingBodies.Version}/{PingBodies.Channel}/{buildId}");

    internal PingBodies Ping => _ping;

    internal Uri Base => _base;

    internal static HttpClient NewClient(int connections) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseCookies = false,
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = TimeSpan.FromSeconds(60),
    };

    internal HttpRequestMessage ApiRequest(string pathAndQuery)
    {
        var req = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, pathAndQuery));
        if (o.ReadToken is { Length: > 0 } token)
        {
            req.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
        return req;
    }

    /// <summary>
    /// Closed loop: <see cref="BenchOptions.Connections"/> workers, each sends the next request when its
    /// previous one is answered. Warm-up first (not measured), then at least <paramref name="minSeconds"/>;
    /// with <paramref name="targetOk"/> &gt; 0 it goes on until that many 200s or <paramref name="maxSeconds"/>.
    /// </summary>
    private async Task<LoadResult> RunLoadAsync(string name, HttpClient client, Func<int, string> pathFor,
        double minSeconds, double maxSeconds, long targetOk, Action? onMeasuredStart)
    {
        var result = new LoadResult { Name = name, OkPerBuildDate = new long[_loadBuildIds.Length] };
        var clock = Stopwatch.StartNew();
        double warmup = o.WarmupSeconds;
        long measureStartTicks = (long)(warmup * Stopwatch.Frequency);
        long stopTicks = long.MaxValue;
        long issued = 0, totalOk = 0, measuredOk = 0, duplicates = 0, exceptions = 0;
        var statuses = new long[600];
        string? firstError = null;
        var latencies = new List<double>[o.Connections];
        var cpu = new CpuMeter(o.SiloPid, o.PostgresPid, o.StorePid);
        bool stopping = false;

        async Task Worker(int w)
        {
            var lat = latencies[w] = new List<double>(1 << 16);
            var okPerDate = result.OkPerBuildDate;
            while (!Volatile.Read(ref stopping))
            {
                long n = Interlocked.Increment(ref issued);
                if (n > o.MaxRequestsPerPhase)
                {
                    break;
                }
                int dateIndex = (int)(n % _loadBuildIds.Length);
                int variant = (int)(n / _loadBuildIds.Length % PingBodies.Variants.Length);
                using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, pathFor(dateIndex)))
                {
                    Content = new ByteArrayContent(_loadBodies[dateIndex * PingBodies.Variants.Length + variant]),
                };
                req.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                long t0 = clock.ElapsedTicks;
                int status;
                string text;
                try
                {
                    using var resp = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead);
                    status = (int)resp.StatusCode;
                    text = await resp.Content.ReadAsStringAsync();
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    Interlocked.Increment(ref exceptions);
                    Interlocked.CompareExchange(ref firstError, e.GetType().Name + ": " + e.Message, null);
                    await Task.Delay(50);
                    continue;
                }
                long t1 = clock.ElapsedTicks;
                Interlocked.Increment(ref statuses[Math.Clamp(status, 0, statuses.Length - 1)]);
                if (status == 200)
                {
                    if (text.Contains("duplicate", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref duplicates);
                    }
                    else
                    {
                        Interlocked.Increment(ref totalOk);
                        Interlocked.Increment(ref okPerDate[dateIndex]);
                        if (t1 >= measureStartTicks && t1 <= Volatile.Read(ref stopTicks))
                        {
                            Interlocked.Increment(ref measuredOk);
                        }
                    }
                }
                else
                {
                    Interlocked.CompareExchange(ref firstError, Inv($"HTTP {status}: {(text.Length > 200 ? text[..200] : text)}"), null);
                }
                if (t0 >= measureStartTicks)
                {
                    lat.Add((t1 - t0) * 1000.0 / Stopwatch.Frequency);
                }
            }
        }

        var workers = Enumerable.Range(0, o.Connections).Select(w => Task.Run(() => Worker(w))).ToArray();
        // Controller: warm-up, then measure until the end condition; stop handing out requests.
        while (clock.Elapsed.TotalSeconds < warmup)
        {
            await Task.Delay(20);
        }
        cpu.Start();
        onMeasuredStart?.Invoke();
        double measuredStart = clock.Elapsed.TotalSeconds;
        var lastReport = Stopwatch.StartNew();
        CpuMeter? steadyCpu = null;
        long steadyOk0 = 0;
        double steadyStart = 0;
        while (true)
        {
            await Task.Delay(50);
            double measured = clock.Elapsed.TotalSeconds - measuredStart;
            long ok = Interlocked.Read(ref totalOk);
            if (steadyCpu is null && targetOk > 0 && measured >= o.SteadyAfterSeconds)
            {
                steadyCpu = new CpuMeter(o.SiloPid, o.PostgresPid, o.StorePid);
                steadyCpu.Start();
                steadyOk0 = Interlocked.Read(ref measuredOk);
                steadyStart = clock.Elapsed.TotalSeconds;
            }
            if (measured >= maxSeconds || Interlocked.Read(ref issued) >= o.MaxRequestsPerPhase
                || (measured >= minSeconds && (targetOk <= 0 || ok >= targetOk)))
            {
                break;
            }
            if (targetOk > 0 && lastReport.Elapsed.TotalSeconds >= 10)
            {
                lastReport.Restart();
                Progress(Inv($"  {name}: {ok:N0} stored, {measured:F0} s, {Interlocked.Read(ref measuredOk) / Math.Max(measured, 0.001):N0}/s, failures {statuses.Where((_, i) => i != 200).Sum() + Interlocked.Read(ref exceptions)}"));
            }
        }
        Volatile.Write(ref stopTicks, clock.ElapsedTicks);
        result.MeasuredSeconds = clock.Elapsed.TotalSeconds - measuredStart;
        result.Cpu = cpu.Stop();
        if (steadyCpu is not null)
        {
            result.SteadyCpu = steadyCpu.Stop();
            result.SteadyOk = Interlocked.Read(ref measuredOk) - steadyOk0;
            result.SteadySeconds = clock.Elapsed.TotalSeconds - steadyStart;
        }
        Volatile.Write(ref stopping, true);
        await Task.WhenAll(workers);
        result.TotalSeconds = clock.Elapsed.TotalSeconds;
        result.MeasuredOk = measuredOk;
        result.TotalOk = totalOk;
        result.TotalDuplicates = duplicates;
        result.Exceptions = exceptions;
        result.FirstError = firstError;
        for (int s = 0; s < statuses.Length; s++)
        {
            if (statuses[s] > 0)
            {
                result.Statuses[s] = statuses[s];
            }
        }
        foreach (var l in latencies)
        {
            if (l is not null)
            {
                result.LatenciesMs.AddRange(l);
            }
        }
        result.LatenciesMs.Sort();
        return result;
    }

    /// <summary>Sum of SIMPLE_MEASURES_UPTIME counts over dates of the build_id family (-1 when the API does not answer 200/404).</summary>
    internal async Task<long> CountAsync(HttpClient http, IEnumerable<string> buildDates, CancellationToken ct = default)
    {
        using var req = ApiRequest(Inv($"/aggregates_by/build_id/channels/{PingBodies.Channel}/?version={PingBodies.Major}&dates={string.Join(',', buildDates)}&metric=SIMPLE_MEASURES_UPTIME"));
        using var resp = await http.SendAsync(req, ct);
        if (resp.StatusCode == HttpStatusCode.NotFound)
        {
            return 0;
        }
        if (resp.StatusCode != HttpStatusCode.OK)
        {
            return -1;
        }
        using var doc = JsonDocument.Parse(await resp.Content.ReadAsStreamAsync(ct));
        long sum = 0;
        foreach (var e in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            sum += e.GetProperty("count").GetInt64();
        }
        return sum;
    }

    /// <summary>Waits until the API counts every accepted ping of the load's build dates.</summary>
    private async Task<(double Seconds, long Count)> CatchUpAsync(LoadResult c)
    {
        using var http = NewClient(2);
        var dates = _loadBuildIds.Select(id => id[..8]).ToArray();
        var clock = Stopwatch.StartNew();
        long count = -1, lastCount = -1;
        var unchanged = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < o.CatchUpTimeoutSeconds)
        {
            try
            {
                count = await CountAsync(http, dates);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                count = -1;
            }
            if (count >= c.TotalOk)
            {
                return (clock.Elapsed.TotalSeconds, count);
            }
            if (count != lastCount)
            {
                lastCount = count;
                unchanged.Restart();
            }
            else if (count > 0 && unchanged.Elapsed.TotalSeconds >= o.StallSeconds)
            {
                // Nothing moved for a long time: the missing pings are not coming (lost or stuck).
                Progress(Inv($"API count stuck at {count:N0} for {o.StallSeconds:F0} s ({c.TotalOk - count:N0} accepted pings not counted)"));
                _stalled = true;
                return (double.PositiveInfinity, count);
            }
            await Task.Delay(100);
        }
        return (double.PositiveInfinity, count);
    }

    private bool _stalled;

    public sealed record ApiLatency(string Name, int Requests, double P50, double P99, double Max, int Errors, int Entries);

    /// <summary>Closed loop, one request at a time, on the populated store (after the load).</summary>
    private async Task<(ApiLatency, ApiLatency)> MeasureApiAsync()
    {
        using var http = NewClient(1);
        string filters = "&os=WINNT&application=Firefox";
        string metric = "CYCLE_COLLECTOR";
        var dates30 = _loadBuildIds.Take(30).Select(id => id[..8]).ToArray();
        string q1 = Inv($"/aggregates_by/build_id/channels/{PingBodies.Channel}/?version={PingBodies.Major}&dates={dates30[0]}&metric={metric}{filters}");
        string q30 = Inv($"/aggregates_by/build_id/channels/{PingBodies.Channel}/?version={PingBodies.Major}&dates={string.Join(',', dates30)}&metric={metric}{filters}");
        var r1 = await TimeQueryAsync(http, "1 date", q1);
        var r30 = await TimeQueryAsync(http, "30 dates", q30);
        Progress(Inv($"API 1 date p50 {r1.P50:F1} ms p99 {r1.P99:F1} ms ({r1.Entries} entries); 30 dates p50 {r30.P50:F1} ms p99 {r30.P99:F1} ms ({r30.Entries} entries)"));
        return (r1, r30);
    }

    private async Task<ApiLatency> TimeQueryAsync(HttpClient http, string name, string pathAndQuery)
    {
        var lat = new List<double>();
        int errors = 0, entries = 0;
        const int MaxRequests = 20_000;
        for (int i = 0; i < 20; i++) // warm-up
        {
            using var req = ApiRequest(pathAndQuery);
            using var resp = await http.SendAsync(req);
            var body = await resp.Content.ReadAsStringAsync();
            if (i == 0 && resp.StatusCode == HttpStatusCode.OK)
            {
                using var doc = JsonDocument.Parse(body);
                entries = doc.RootElement.GetProperty("data").GetArrayLength();
            }
            else if (i == 0)
            {
                Progress(Inv($"API {name}: HTTP {(int)resp.StatusCode} {body[..Math.Min(200, body.Length)]}"));
            }
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < o.ApiSeconds && lat.Count < MaxRequests)
        {
            long t0 = Stopwatch.GetTimestamp();
            using var req = ApiRequest(pathAndQuery);
            using var resp = await http.SendAsync(req, HttpCompletionOption.ResponseContentRead);
            _ = await resp.Content.ReadAsByteArrayAsync();
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            if (resp.StatusCode != HttpStatusCode.OK)
            {
                errors++;
            }
        }
        lat.Sort();
        return new ApiLatency(name, lat.Count, Percentiles.Of(lat, 50), Percentiles.Of(lat, 99), lat.Count > 0 ? lat[^1] : double.NaN, errors, entries);
    }

    public sealed record StoreStats(long Rows, long Batches, double AvgBatch, long P50Batch, long P99Batch, long MaxBatch, long TableBytes, long Objects, long ObjectBytes);

    /// <summary>Landing-log rows and group-commit sizes (rows per batch id), straight from PostgreSQL.</summary>
    private async Task<StoreStats?> StoreStatsAsync()
    {
        if (o.ConnectionString is null)
        {
            return null;
        }
        try
        {
            await using var conn = new NpgsqlConnection(o.ConnectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                WITH b AS (SELECT batch_id, count(*) AS n FROM landing GROUP BY batch_id)
                SELECT (SELECT count(*) FROM landing), count(*), coalesce(avg(n), 0)::float8,
                       coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0), coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY n), 0),
                       coalesce(max(n), 0), pg_total_relation_size('landing'),
                       (SELECT count(*) FROM landing_objects), (SELECT coalesce(sum(bytes), 0)::bigint FROM landing_objects)
                FROM b
                """, conn);
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            return new StoreStats(r.GetInt64(0), r.GetInt64(1), r.GetDouble(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.GetInt64(8));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            Progress("store stats unavailable: " + e.Message);
            return null;
        }
    }

    private async Task<string?> ScrapeMetricsAsync()
    {
        try
        {
            using var http = NewClient(1);
            var text = await http.GetStringAsync(new Uri(_base, "/metrics"));
            var lines = text.Split('\n').Where(l => l.StartsWith("telemetry_aggregation_lag_seconds", StringComparison.Ordinal)
                || l.StartsWith("telemetry_ingest_rejected", StringComparison.Ordinal)).Select(l => l.Trim()).ToList();
            return lines.Count == 0 ? null : string.Join("; ", lines);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static double P(List<double> values, double p)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return Percentiles.Of(sorted, p);
    }

    private static string Met(bool ok) => ok ? "yes" : "**NO**";

    private static string LoadNotes(LoadResult r)
    {
        var statuses = string.Join(", ", r.Statuses.OrderBy(kv => kv.Key).Select(kv => Inv($"{kv.Key}×{kv.Value}")));
        var cost = r.Cpu?.MicrosPerPing(r.MeasuredOk) ?? (double.NaN, double.NaN, double.NaN);
        string storeCost = r.Cpu is { Store: > 0 } sc ? Inv($", object-store emulator {sc.StoreMicrosPerPing(r.MeasuredOk):F0} µs (not in the ratio)") : "";
        var notes = Inv($"{r.MeasuredOk:N0} in {r.MeasuredSeconds:F1} s; CPU per ping: silo {cost.Silo:F0} µs, pg {cost.Postgres:F0} µs, bench {cost.Bench:F0} µs{storeCost}; latency p50 {Percentiles.Of(r.LatenciesMs, 50):F1} ms p99 {Percentiles.Of(r.LatenciesMs, 99):F1} ms; {r.Cpu}; statuses {statuses}");
        if (r.Exceptions > 0)
        {
            notes += Inv($"; {r.Exceptions} client errors");
        }
        if (r.FirstError is { } e)
        {
            notes += "; first error: " + e.Replace('|', '/').ReplaceLineEndings(" ");
        }
        return notes;
    }

    private void BuildTable(LoadResult? a, LoadResult? b, LoadResult? c, double catchUp, long apiCount, MarkerResult? markers,
        ApiLatency? api1, ApiLatency? api30, StoreStats? store, long hwmKb, long rssKb, string? metrics)
    {
        _rows.Add(new("run", Inv($"{_startedUtc:yyyy-MM-dd HH:mm} UTC"), "", "", Inv($"code {o.Code}; {MachineText()}; {o.Connections} connections, {o.Seconds:F0} s per phase + {o.WarmupSeconds:F0} s warm-up") + (o.BodyStore.Length > 0 ? Inv($"; bodies in the {o.BodyStore} store") : "")));
        if (a is not null)
        {
            _rows.Add(new("(a) discard endpoint (HTTP ceiling)", Inv($"{a.Rate:N0} pings/s"), "reference", "", LoadNotes(a)));
        }
        if (b is not null)
        {
            _rows.Add(new("(b) inflate + tokenize endpoint", Inv($"{b.Rate:N0} pings/s"), "reference", "", LoadNotes(b)));
            if (_bAfter is { } after)
            {
                var (refRate, refCost) = Reference(b);
                double drift = after.Rate / b.Rate - 1;
                _rows.Add(new("(b) again, after (c)", Inv($"{after.Rate:N0} pings/s"), "reference", Math.Abs(drift) > 0.15 ? "**drifted**" : "",
                    Inv($"{drift * 100:+0;-0} % against (b) before (c); the ratios below use the mean of the two: {refRate:N0} pings/s, {refCost:F0} µs/ping") +
                    (Math.Abs(drift) > 0.15 ? " — the machine's speed changed by more than 15 % during the run: not a quiet run; " : "; ") + LoadNotes(after)));
            }
        }
        if (c is not null)
        {
            _rows.Add(new("(c) submit, accepted (200, durable)", Inv($"{c.Rate:N0} pings/s"), "", "", LoadNotes(c)));
            double e2e = c.TotalOk / (c.TotalSeconds + catchUp);
            bool caught = !double.IsInfinity(catchUp);
            _rows.Add(new("(c) submit end to end (landed + aggregated)", caught ? Inv($"{e2e:N0} pings/s") : "not caught up", "", "",
                Inv($"{c.TotalOk:N0} accepted (incl. warm-up) / ({c.TotalSeconds:F1} s load + {catchUp:F1} s catch-up)")));
            _rows.Add(new("catch-up after load (API count = 200s)",
                caught ? Inv($"{catchUp:F1} s") : _stalled ? Inv($"never: {c.TotalOk - apiCount:N0} pings missing") : Inv($"> {o.CatchUpTimeoutSeconds:F0} s"), "", caught ? "" : "**NO**",
                Inv($"API count {apiCount:N0} vs {c.TotalOk:N0} accepted over {_loadBuildIds.Length} build dates") + (apiCount > c.TotalOk ? " — **OVERCOUNT**" : "")
                + (_stalled ? Inv($" — count unchanged for {o.StallSeconds:F0} s while /metrics reports lag {_lagMetric}: **accepted pings lost (exactly-once violated)**") : "")));
            if (b is not null && b.Rate > 0)
            {
                var (refRate, refCost) = Reference(b);
                double ratio = caught ? e2e / refRate : 0;
                string costNote = "";
                double costRatio = double.NaN;
                if (b.Cpu is not null && _e2eCpu is { } ec)
                {
                    var ce = ec.MicrosPerPing(c.TotalOk);
                    double costB = refCost, costC = ce.Silo + ce.Postgres + ce.Bench;
                    costRatio = costB / costC;
                    string storeNote = ec.Store > 0 ? Inv($"; the object-store emulator adds {ec.StoreMicrosPerPing(c.TotalOk):F0} µs/ping, not counted: a real object store runs elsewhere") : "";
                    costNote = Inv($"; CPU-cost ratio (insensitive to other load) {costRatio:F2}: (b) {costB:F0} µs/ping vs (c) end to end {costC:F0} µs/ping (silo {ce.Silo:F0} + pg {ce.Postgres:F0} + bench {ce.Bench:F0}, load + catch-up){storeNote}");
                }
                _rows.Add(new("ratio (c) end-to-end / (b)", Inv($"{ratio:F2}"), "≥ 0.50, CPU-cost ratio ≥ 0.50", Met(ratio >= 0.5 && !(costRatio < 0.5)),
                    Inv($"accepted-rate ratio (c)/(b) {c.Rate / refRate:F2}") + (a is not null && a.Rate > 0 ? Inv($"; (b)/(a) {b.Rate / a.Rate:F2}") : "") + costNote));
                if (c.SteadyCpu is { } sc && c.SteadyOk > 0 && b.Cpu is not null)
                {
                    // Past the silo's start-up (tiered JIT compiling the submit, Orleans and Npgsql paths):
                    // what a long-running silo costs. Aggregation keeping up is shown by the marker lag and
                    // the catch-up rows; this window's accepted pings are aggregated within them.
                    var cs = sc.MicrosPerPing(c.SteadyOk);
                    double costB = refCost, costS = cs.Silo + cs.Postgres + cs.Bench;
                    double steadyRatio = caught ? c.SteadyRate / refRate : 0, steadyCost = costB / costS;
                    string storeNote = sc.Store > 0 ? Inv($"; object-store emulator {sc.StoreMicrosPerPing(c.SteadyOk):F0} µs/ping, not counted") : "";
                    _rows.Add(new(Inv($"(c) steady state: {o.SteadyAfterSeconds:F0} s into (c) to the end of the load"), Inv($"{c.SteadyRate:N0} pings/s"), "", "",
                        Inv($"{c.SteadyOk:N0} in {c.SteadySeconds:F1} s; CPU per ping: silo {cs.Silo:F0} µs, pg {cs.Postgres:F0} µs, bench {cs.Bench:F0} µs{storeNote}; {sc}")));
                    _rows.Add(new("ratio (c) steady state / (b)", Inv($"{steadyRatio:F2}"), "≥ 0.50, CPU-cost ratio ≥ 0.50", Met(steadyRatio >= 0.5 && steadyCost >= 0.5),
                        Inv($"CPU-cost ratio {steadyCost:F2}: (b) {costB:F0} µs/ping vs (c) steady {costS:F0} µs/ping (silo {cs.Silo:F0} + pg {cs.Postgres:F0} + bench {cs.Bench:F0}); the whole-run ratio above includes the silo's start-up")));
                }
            }
        }
        if (markers is not null)
        {
            double p50 = P(markers.LagsSeconds, 50), p99 = P(markers.LagsSeconds, 99);
            bool ok = markers.LagsSeconds.Count > 0 && markers.TimedOut == 0 && p99 < 10;
            _rows.Add(new("200 → visible in API, during load (p50 / p99)", Inv($"{p50:F2} s / {p99:F2} s"), "p99 < 10 s", Met(ok),
                Inv($"{markers.LagsSeconds.Count} marker pings (one build date each), max {(markers.LagsSeconds.Count > 0 ? markers.LagsSeconds.Max() : double.NaN):F2} s, {markers.TimedOut} not visible within {o.MarkerTimeoutSeconds:F0} s, {markers.Failed} not accepted{(markers.FirstError is { } me ? "; " + me : "")}")));
        }
        if (api1 is not null && api30 is not null)
        {
            string storeNote = store is null ? "" : Inv($"store {store.Rows:N0} pings; ");
            _rows.Add(new("aggregates API, 1 date, 2 filters (p50 / p99)", Inv($"{api1.P50:F1} ms / {api1.P99:F1} ms"), "", "",
                storeNote + Inv($"{api1.Requests:N0} sequential requests, max {api1.Max:F1} ms, {api1.Entries} entries, {api1.Errors} errors")));
            _rows.Add(new("aggregates API, 30 dates, 2 filters (p50 / p99)", Inv($"{api30.P50:F1} ms / {api30.P99:F1} ms"), "p99 < 50 ms",
                Met(api30.P99 < 50 && api30.Errors == 0 && api30.Entries >= 30 && (store is null || store.Rows >= 200_000)),
                storeNote + Inv($"{api30.Requests:N0} sequential requests, max {api30.Max:F1} ms, {api30.Entries} entries, {api30.Errors} errors; build_id family, os=WINNT & application=Firefox (6 of 10 OS/arch variants), metric CYCLE_COLLECTOR")));
        }
        if (store is not null)
        {
            _rows.Add(new("landing log (PostgreSQL)", Inv($"{store.Rows:N0} pings"), "≥ 200,000", Met(store.Rows >= 200_000),
                Inv($"table {store.TableBytes / 1048576.0:N0} MiB; bodies: {(store.Objects > 0 ? Inv($"{store.Objects:N0} objects, {store.ObjectBytes / 1048576.0:N0} MiB in the {o.BodyStore} store") : "in the table")}; group commit rows/batch avg {store.AvgBatch:F1}, p50 {store.P50Batch}, p99 {store.P99Batch}, max {store.MaxBatch} over {store.Batches:N0} batches")));
        }
        if (_pgReport is not null)
        {
            _rows.Add(new("PostgreSQL during (c) load + catch-up", "", "", "", _pgReport));
        }
        if (hwmKb > 0)
        {
            var steps = string.Join(", ", _memory.Select(m => Inv($"{m.When} {m.Kb / 1024.0:N0} MiB")));
            _rows.Add(new("silo peak memory (VmHWM)", Inv($"{hwmKb / 1024.0:N0} MiB"), "< 1,536 MiB", Met(hwmKb < 1536 * 1024),
                Inv($"VmHWM {steps}; VmRSS at end {rssKb / 1024.0:N0} MiB")));
        }
        if (metrics is not null && _rows.Count > 0)
        {
            _rows.Add(new("silo /metrics at end", "", "", "", metrics.Replace('|', '/')));
        }
    }

    private string RenderTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| Measure | Value | Target | Met | Notes |");
        sb.AppendLine("|---|---|---|---|---|");
        foreach (var r in _rows)
        {
            sb.AppendLine($"| {r.Measure} | {r.Value} | {r.Target} | {r.Met} | {r.Notes} |");
        }
        return sb.ToString();
    }
}

public sealed class MarkerResult
{
    public List<double> LagsSeconds { get; } = new();
    public int TimedOut { get; set; }
    public int Failed { get; set; }
    public string? FirstError { get; set; }
}

/// <summary>
/// Every interval, submits one marker ping whose build date (2099-01-01 + k) no other ping has, then
/// polls the API for that date until its count is 1: the time from the 200 to then is the lag.
/// </summary>
internal sealed class LagProbe(Runner runner, BenchOptions o)
{
    public async Task<MarkerResult> RunAsync(CancellationToken stop)
    {
        var result = new MarkerResult();
        using var submitClient = Runner.NewClient(4);
        using var pollClient = Runner.NewClient(16);
        var first = new DateOnly(2099, 1, 1);
        var followers = new List<Task>();
        int k = 0;
        while (!stop.IsCancellationRequested && k < 365)
        {
            var date = first.AddDays(k++).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
            followers.Add(FollowAsync(result, submitClient, pollClient, date));
            try
            {
                await Task.Delay(o.MarkerIntervalMs, stop);
            }
            catch (TaskCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(followers);
        return result;
    }

    private async Task FollowAsync(MarkerResult result, HttpClient submitClient, HttpClient pollClient, string buildDate)
    {
        var body = runner.Ping.GzipFor(buildDate + "120000");
        using var req = new HttpRequestMessage(HttpMethod.Post, new Uri(runner.Base, Runner.SubmitPath(Guid.NewGuid(), buildDate + "120000")))
        {
            Content = new ByteArrayContent(body),
        };
        try
        {
            using var resp = await submitClient.SendAsync(req);
            if (resp.StatusCode != HttpStatusCode.OK)
            {
                lock (result)
                {
                    result.Failed++;
                    result.FirstError ??= FormattableString.Invariant($"marker HTTP {(int)resp.StatusCode}");
                }
                return;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            lock (result)
            {
                result.Failed++;
                result.FirstError ??= "marker: " + e.Message;
            }
            return;
        }
        var since = Stopwatch.StartNew();
        while (since.Elapsed.TotalSeconds < o.MarkerTimeoutSeconds)
        {
            long count;
            try
            {
                count = await runner.CountAsync(pollClient, [buildDate]);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                count = 0;
            }
            if (count >= 1)
            {
                lock (result)
                {
                    result.LagsSeconds.Add(since.Elapsed.TotalSeconds);
                }
                return;
            }
            await Task.Delay(50);
        }
        lock (result)
        {
            result.TimedOut++;
        }
    }
}

/// <summary>
/// What the silo asked of PostgreSQL during (c), from pg_stat_statements (loaded by scripts/bench.sh):
/// group commits, batches read back from the landing log (pings decoded a second time), grain state writes, WAL.
/// </summary>
public sealed class PgStats(string connectionString)
{
    public async Task<bool> ResetAsync()
    {
        try
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset(); SELECT pg_stat_reset_shared('wal');", conn);
            await cmd.ExecuteNonQueryAsync();
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            Console.Error.WriteLine("pg_stat_statements unavailable (" + e.Message + "); no PostgreSQL breakdown");
            return false;
        }
    }

    public async Task<string?> ReportAsync(long acceptedPings, double seconds)
    {
        try
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            var groups = new Dictionary<string, (long Calls, long Rows, double Ms)>(StringComparer.Ordinal);
            await using (var cmd = new NpgsqlCommand("""
                SELECT query, calls, rows, total_exec_time FROM pg_stat_statements
                WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                """, conn))
            await using (var r = await cmd.ExecuteReaderAsync())
            {
                while (await r.ReadAsync())
                {
                    string q = r.GetString(0);
                    string key =
                        q.Contains("INSERT INTO landing_objects", StringComparison.OrdinalIgnoreCase) && !q.Contains("unnest", StringComparison.OrdinalIgnoreCase) ? "objects"
                        : q.Contains("INSERT INTO landing", StringComparison.OrdinalIgnoreCase) || q.Contains("COPY landing", StringComparison.OrdinalIgnoreCase) ? "insert"
                        : q.Contains("nextval(", StringComparison.OrdinalIgnoreCase) && q.Contains("FROM landing WHERE doc_id", StringComparison.OrdinalIgnoreCase) ? "commitids"
                        : q.Contains("FROM landing", StringComparison.OrdinalIgnoreCase) && q.Contains("GROUP BY batch_id", StringComparison.OrdinalIgnoreCase) ? "list"
                        : q.Contains("FROM landing", StringComparison.OrdinalIgnoreCase) && q.Contains("body", StringComparison.OrdinalIgnoreCase) ? "reread"
                        : q.Contains("writetostorage", StringComparison.OrdinalIgnoreCase) ? "statewrite"
                        : q.Contains("UPDATE aggregate_states", StringComparison.OrdinalIgnoreCase) || q.Contains("INSERT INTO aggregate_states", StringComparison.OrdinalIgnoreCase) ? "aggwrite"
                        : q.Contains("INSERT INTO aggregate_parts", StringComparison.OrdinalIgnoreCase) ? "aggpart"
                        : q.Contains("DELETE FROM aggregate_parts", StringComparison.OrdinalIgnoreCase) ? "aggbase"
                        : q.Contains("landing_batch_seq", StringComparison.OrdinalIgnoreCase) ? "horizon"
                        : "other";
                    var g = groups.GetValueOrDefault(key);
                    groups[key] = (g.Calls + r.GetInt64(1), g.Rows + r.GetInt64(2), g.Ms + r.GetDouble(3));
                }
            }
            long walBytes = 0;
            await using (var cmd = new NpgsqlCommand("SELECT wal_bytes::bigint FROM pg_stat_wal", conn))
            {
                walBytes = Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            }
            // Aggregate parts and the rest of the grain state, in one round trip.
            long partBytes = 0, partRows = 0, partsStored = 0, aggregates = 0;
            long stateBytes = 0, stateRows = 0, largest = 0, largestStored = 0;
            await using (var cmd = new NpgsqlCommand("""
                SELECT p.bytes, p.rows, p.stored, (SELECT count(*) FROM aggregate_states), o.bytes, o.rows, o.largest, o.largest_stored
                FROM (SELECT coalesce(sum(length(data)), 0)::bigint AS bytes, count(*) AS rows,
                             coalesce(sum(pg_column_size(data)), 0)::bigint AS stored
                      FROM aggregate_parts) p,
                     (SELECT coalesce(sum(length(payloadbinary)), 0)::bigint AS bytes, count(*) AS rows,
                             coalesce(max(length(payloadbinary)), 0)::bigint AS largest,
                             coalesce(max(pg_column_size(payloadbinary)), 0)::bigint AS largest_stored
                      FROM orleansstorage) o
                """, conn))
            await using (var r = await cmd.ExecuteReaderAsync())
            {
                if (await r.ReadAsync())
                {
                    partBytes = r.GetInt64(0);
                    partRows = r.GetInt64(1);
                    partsStored = r.GetInt64(2);
                    aggregates = r.GetInt64(3);
                    stateBytes = r.GetInt64(4);
                    stateRows = r.GetInt64(5);
                    largest = r.GetInt64(6);
                    largestStored = r.GetInt64(7);
                }
            }
            string G(string key, string label, bool perRow)
            {
                var g = groups.GetValueOrDefault(key);
                if (g.Calls == 0)
                {
                    return FormattableString.Invariant($"{label}: none");
                }
                string rows = perRow ? FormattableString.Invariant($", {g.Rows:N0} rows ({(double)g.Rows / g.Calls:F1}/call)") : "";
                return FormattableString.Invariant($"{label}: {g.Calls:N0} calls{rows}, mean {g.Ms / g.Calls:F1} ms, {g.Ms / 1000 / Math.Max(seconds, 0.001) * 100:F0}% of a backend");
            }
            var reread = groups.GetValueOrDefault("reread");
            return string.Join("; ",
                G("insert", "landing COPY (group commits; INSERT after a docId race)", true),
                G("commitids", "group commits' batch id + duplicate check", false),
                G("objects", "body object records (one per group commit)", false),
                G("reread", "batches read back from the landing log (re-decoded)", true)
                    + (acceptedPings > 0 ? FormattableString.Invariant($" = {100.0 * reread.Rows / acceptedPings:F0}% of accepted pings parsed twice") : ""),
                G("list", "batch listings", false),
                G("aggwrite", "aggregate state writes (header)", false),
                G("aggpart", "aggregate parts written (base or delta)", false),
                G("aggbase", "new bases (replacing an aggregate's parts)", false),
                G("statewrite", "other grain state writes", false),
                G("other", "other statements", false),
                FormattableString.Invariant($"WAL {walBytes / 1048576.0:N0} MiB ({walBytes / 1048576.0 / Math.Max(seconds, 0.001):F1} MiB/s); aggregate states: {aggregates:N0} aggregates, {partRows:N0} parts, {partBytes / 1048576.0:N1} MiB ({partsStored / 1048576.0:N1} MiB stored, compressed); other grain state in orleansstorage {stateBytes / 1048576.0:N1} MiB in {stateRows:N0} rows, largest {largest / 1024.0:N0} KiB ({largestStored / 1024.0:N0} KiB after pglz)"));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return "pg_stat_statements unavailable: " + e.Message;
        }
    }
}
