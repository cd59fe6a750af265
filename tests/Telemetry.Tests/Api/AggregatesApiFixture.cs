using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Telemetry.Contracts.Ingest;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Api;

/// <summary>
/// One silo on one fresh PostgreSQL database for the whole aggregates API class, populated once with
/// a known synthetic population (unified pings, the real classic Firefox 23 ping, and imported pings
/// with earlier submission dates). <see cref="Model"/> holds what was sent.
/// </summary>
public sealed class AggregatesApiFixture : IAsyncLifetime
{
    public const string PublicMetric = "SIMPLE_MEASURES_UPTIME";
    public static readonly string[] ExtraArgs = [$"--Aggregates:PublicMetrics:0={PublicMetric}"];

    /// <summary>Versions and build dates of the unified population.</summary>
    public static readonly Dictionary<string, string[]> BuildDates = new()
    {
        ["58"] = ["20171101", "20171102", "20171103"],
        ["57"] = ["20171001", "20171015"],
    };

    public const int ClassicReleaseCopies = 12;
    public const int ClassicNightlyCopies = 8;
    public const string ClassicReleaseBuild = "20130814";
    public const string ClassicNightlyBuild = "20130815";
    public const string AuroraVersion = "58";
    public const string AuroraBuild = "20171104";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private Exception? _failed;
    private int _docCounter;

    public SiloHost? Silo { get; private set; }
    public string ConnectionString { get; private set; } = "";
    public AggregatesModel Model { get; } = new();
    public string Today { get; } = DateTime.UtcNow.ToString("yyyyMMdd");
    public string[] ImportedDates { get; } =
    [
        DateTime.UtcNow.AddDays(-1).ToString("yyyyMMdd"),
        DateTime.UtcNow.AddDays(-2).ToString("yyyyMMdd"),
    ];
    public TimeSpan PopulateTime { get; private set; }
    public List<string> Timings { get; } = new();
    public int PingsSent { get; private set; }
    public JsonElement ClassicPing { get; private set; }
    public JsonElement ReferenceHistograms { get; private set; }
    public JsonElement ModernSample { get; private set; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
            Silo = null;
        }
    }

    public async Task<SiloHost> EnsureStartedAsync(PostgresFixture pg)
    {
        await _gate.WaitAsync();
        try
        {
            if (_failed is not null)
            {
                throw new InvalidOperationException("the aggregates fixture failed to start", _failed);
            }
            if (Silo is null)
            {
                try
                {
                    await StartAndPopulateAsync(pg);
                }
                catch (Exception e)
                {
                    _failed = e;
                    throw;
                }
            }
            return Silo!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the silo and starts a new one on the same database.</summary>
    public async Task<SiloHost> RestartAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (Silo is not null)
            {
                await Silo.DisposeAsync();
                Silo = null;
            }
            Silo = await SiloHost.StartAsync(ConnectionString, ExtraArgs);
            return Silo;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartAndPopulateAsync(PostgresFixture pg)
    {
        var sw = Stopwatch.StartNew();
        ClassicPing = JsonDocument.Parse(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json"))).RootElement.Clone();
        ReferenceHistograms = JsonDocument.Parse(await File.ReadAllBytesAsync(TestPaths.SharedData("buckets", "buckets.a55c55edf302.json"))).RootElement.GetProperty("histograms").Clone();
        ModernSample = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(TestPaths.ProbeSeeds, "Histograms.modern-sample.json"))).RootElement.Clone();

        ConnectionString = await pg.Server.CreateDatabaseAsync();
        Silo = await SiloHost.StartAsync(ConnectionString, ExtraArgs);
        Timings.Add($"silo started at {sw.ElapsedMilliseconds} ms");

        // Unified pings use their channel's revision: point every channel used at modern-sample.
        foreach (var channel in new[] { "nightly", "release", "aurora" })
        {
            var r = await SendAsync(HttpMethod.Put, $"/api/probes/channels/{channel}", SiloHost.AdminToken, JsonContent("{\"revision\":\"modern-sample\"}"));
            Assert.True(r.StatusCode is HttpStatusCode.NoContent or HttpStatusCode.OK, $"PUT channel {channel}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }

        var rng = new Random(20171101);
        var live = new List<(string Path, byte[] Body, List<AggObs> Obs)>();

        // 300 unified pings over nightly and release, 2 versions, 5 build dates, received today.
        for (int i = 0; i < 300; i++)
        {
            string channel = i % 2 == 0 ? "nightly" : "release";
            string version = rng.NextDouble() < 0.6 ? "58" : "57";
            var dates = BuildDates[version];
            string buildDate = dates[rng.Next(dates.Length)];
            live.Add(UnifiedSubmission(rng, channel, version, buildDate, Today));
        }
        // The real classic Firefox 23 ping: on release as received, and relabelled as nightly with another build.
        for (int i = 0; i < ClassicReleaseCopies; i++)
        {
            live.Add(ClassicSubmission("release", "20130814063812"));
        }
        for (int i = 0; i < ClassicNightlyCopies; i++)
        {
            live.Add(ClassicSubmission("nightly", "20130815063812"));
        }
        // One aurora ping: the channel the ETag and freshness tests add to.
        live.Add(UnifiedSubmission(rng, "aurora", AuroraVersion, AuroraBuild, Today));
        // and one of version 100, which sorts above 58 only when versions are compared as numbers
        live.Add(UnifiedSubmission(rng, "aurora", "100", AuroraBuild, Today));

        var statuses = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(live, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (s, _) =>
        {
            var r = await Silo.SubmitAsync(s.Path, s.Body);
            if (r.StatusCode != HttpStatusCode.OK)
            {
                statuses.Add($"{s.Path}: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
            }
        });
        Assert.True(statuses.IsEmpty, "submissions refused: " + string.Join("; ", statuses.Take(5)));
        Timings.Add($"{live.Count} live pings accepted at {sw.ElapsedMilliseconds} ms");
        foreach (var s in live)
        {
            Model.Add(s.Obs);
        }

        // 40 unified pings received on earlier days, through the raw-log import (submission date = record time).
        var imported = new List<(string Path, byte[] Body, List<AggObs> Obs, DateTimeOffset At)>();
        for (int i = 0; i < 40; i++)
        {
            string channel = i % 2 == 0 ? "nightly" : "release";
            string version = i % 3 == 0 ? "57" : "58";
            var dates = BuildDates[version];
            string subDate = ImportedDates[(i / 2) % ImportedDates.Length];
            var at = DateTimeOffset.ParseExact(subDate, "yyyyMMdd", null, System.Globalization.DateTimeStyles.AssumeUniversal).AddHours(12);
            var (path, body, obs) = UnifiedSubmission(rng, channel, version, dates[rng.Next(dates.Length)], subDate);
            imported.Add((path, body, obs, at));
        }
        var log = RawLogV1(imported.Select(i => (i.Path, i.At, i.Body)));
        var started = await SendAsync(HttpMethod.Post, "/api/import/raw-log", SiloHost.AdminToken, new ByteArrayContent(log));
        string startedBody = await started.Content.ReadAsStringAsync();
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, $"import: {(int)started.StatusCode} {startedBody}");
        string statusUrl = JsonDocument.Parse(startedBody).RootElement.GetProperty("statusUrl").GetString()!;
        JsonElement job = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await SendAsync(HttpMethod.Get, statusUrl, SiloHost.AdminToken);
            if (r.StatusCode != HttpStatusCode.OK) return false;
            job = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
            return job.GetProperty("state").GetString() != "running";
        }, TimeSpan.FromSeconds(20)), "import job did not finish");
        Assert.Equal("succeeded", job.GetProperty("state").GetString());
        Assert.True(job.GetProperty("counts").TryGetProperty("imported", out var importedCount) && importedCount.GetInt64() == imported.Count,
            "import counts: " + job.GetProperty("counts"));
        foreach (var i in imported)
        {
            Model.Add(i.Obs);
        }
        Timings.Add($"{imported.Count} pings imported at {sw.ElapsedMilliseconds} ms");
        PingsSent = live.Count + imported.Count;

        // Every ping has SIMPLE_MEASURES_UPTIME: wait until each submission-date aggregate has them all.
        var pending = Model.Keys().Where(k => k.Family == AggregatesModel.SubmissionDate).ToList();
        string last = "";
        bool all = await TestPaths.EventuallyAsync(async () =>
        {
            foreach (var k in pending.ToList())
            {
                var expected = Model.Expect(k.Family, k.Channel, k.Version, [k.Date], "SIMPLE_MEASURES_UPTIME", AggFilter.None).Single().Count;
                var r = await Silo.GetAsync($"/aggregates_by/{k.Family}/channels/{k.Channel}/?version={k.Version}&dates={k.Date}&metric=SIMPLE_MEASURES_UPTIME");
                long seen = 0;
                if (r.StatusCode == HttpStatusCode.OK)
                {
                    seen = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().Sum(e => e.GetProperty("count").GetInt64());
                }
                if (seen != expected)
                {
                    last = $"{k}: {seen} of {expected}";
                    return false;
                }
                pending.Remove(k);
            }
            return true;
        }, TimeSpan.FromSeconds(30));
        Assert.True(all, "population not aggregated within 30 s; last: " + last);
        PopulateTime = sw.Elapsed;
    }

    public (string Path, byte[] Body, List<AggObs> Obs) UnifiedSubmission(Random rng, string channel, string version, string buildDate, string subDate)
    {
        string docId = $"agg-{Interlocked.Increment(ref _docCounter):D5}-{Guid.NewGuid():N}";
        var (ping, obs) = AggregatesPopulation.Unified(rng, docId, channel, version, buildDate, subDate);
        string appVersion = ping["application"]!["version"]!.GetValue<string>();
        string buildId = ping["application"]!["buildId"]!.GetValue<string>();
        string app = ping["application"]!["name"]!.GetValue<string>();
        var body = SiloHost.Gzip(Encoding.UTF8.GetBytes(ping.ToJsonString()));
        return ($"{docId}/main/{app}/{appVersion}/{channel}/{buildId}", body, obs);
    }

    private (string Path, byte[] Body, List<AggObs> Obs) ClassicSubmission(string channel, string buildId)
    {
        string docId = $"agg-classic-{Interlocked.Increment(ref _docCounter):D5}-{Guid.NewGuid():N}";
        var node = JsonNode.Parse(ClassicPing.GetRawText())!.AsObject();
        node["info"]!["appUpdateChannel"] = channel;
        node["info"]!["appBuildID"] = buildId;
        var obs = AggregatesPopulation.Classic(ClassicPing, ReferenceHistograms, channel, "23", buildId[..8], Today);
        var body = SiloHost.Gzip(Encoding.UTF8.GetBytes(node.ToJsonString()));
        return ($"{docId}/idle-daily/Firefox/23.0.1/{channel}/{buildId}", body, obs);
    }

    /// <summary>Submits one more unified ping now and adds it to the model once accepted.</summary>
    public async Task SubmitLiveAsync(Random rng, string channel, string version, string buildDate)
    {
        var (path, body, obs) = UnifiedSubmission(rng, channel, version, buildDate, DateTime.UtcNow.ToString("yyyyMMdd"));
        var r = await Silo!.SubmitAsync(path, body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Model.Add(obs);
    }

    /// <summary>Waits until every partition's durable checkpoint covers every landed batch.</summary>
    public async Task<bool> WaitForCheckpointsAsync(TimeSpan timeout)
    {
        var maxByPartition = new Dictionary<int, long>();
        await using (var conn = new NpgsqlConnection(ConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT partition, max(batch_id) FROM landing GROUP BY partition", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                maxByPartition[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }
        return await TestPaths.EventuallyAsync(async () =>
        {
            foreach (var (partition, max) in maxByPartition)
            {
                var status = await Silo!.Grains.GetGrain<IPartitionGrain>(partition).GetStatus();
                if (status.Checkpoint < max)
                {
                    return false;
                }
            }
            return true;
        }, timeout);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, string? bearer, HttpContent? content = null, Action<HttpRequestMessage>? configure = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        configure?.Invoke(request);
        return await Silo!.Http.SendAsync(request);
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>A v1 raw log of the seed server: 0x1E, u16 path length, u32 data length, u64 ms, path, data.</summary>
    public static byte[] RawLogV1(IEnumerable<(string Path, DateTimeOffset At, byte[] Body)> records)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            foreach (var (path, at, body) in records)
            {
                var p = Encoding.UTF8.GetBytes(path);
                w.Write((byte)0x1E);
                w.Write((ushort)p.Length);
                w.Write((uint)body.Length);
                w.Write((ulong)at.ToUnixTimeMilliseconds());
                w.Write(p);
                w.Write(body);
            }
        }
        return ms.ToArray();
    }
}
