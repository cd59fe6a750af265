using System.IO.Compression;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Silo;

namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// A real silo (Kestrel + Orleans) started in-process on free loopback ports, in the embedded mode
/// or against a PostgreSQL connection string. Tests talk to it over HTTP like any client.
/// </summary>
public sealed class SiloHost : IAsyncDisposable
{
    // At least 16 characters: shorter tokens stop the silo at start.
    public const string AdminToken = "test-admin-token";
    public const string ReadToken = "test-read-token-0";

    private readonly WebApplication _app;

    private SiloHost(WebApplication app, string baseUrl, int gatewayPort, string clusterId)
    {
        ClusterId = clusterId;
        _app = app;
        BaseUrl = baseUrl;
        GatewayPort = gatewayPort;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string BaseUrl { get; }
    public int GatewayPort { get; }
    public string ClusterId { get; }
    public HttpClient Http { get; }
    public IServiceProvider Services => _app.Services;
    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    public static async Task<SiloHost> StartAsync(string? connectionString = null, params string[] extraArgs)
    {
        // The machine is shared: a probed port can still be taken before Kestrel or Orleans binds it.
        for (int attempt = 1; ; attempt++)
        {
            int http = TestPaths.FreePort(), silo = TestPaths.FreePort(), gateway = TestPaths.FreePort();
            string clusterId = $"test-{Guid.NewGuid():N}";
            var args = new List<string>
            {
                "--urls", $"http://127.0.0.1:{http}",
                "--environment", "Development",
                $"--Orleans:SiloPort={silo}",
                $"--Orleans:GatewayPort={gateway}",
                $"--Orleans:ClusterId={clusterId}",
                $"--Admin:Tokens:0={AdminToken}",
                $"--Aggregates:ReadTokens:0={ReadToken}",
                $"--Probes:SeedDirectory={TestPaths.ProbeSeeds}",
                "--Ingest:CheckpointSeconds=1",
                "--Ingest:PersistSeconds=1",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Orleans=Error",
            };
            if (connectionString is not null)
            {
                args.Add($"--ConnectionStrings:Telemetry={connectionString}");
                args.Add($"--Ingest:BodyStore:Path={PostgresServer.BodyDirectory(connectionString)}");
            }
            args.AddRange(extraArgs);
            var app = await SiloApp.BuildAsync([.. args]);
            try
            {
                await app.StartAsync();
                return new SiloHost(app, $"http://127.0.0.1:{http}", gateway, clusterId);
            }
            catch (Exception e) when (attempt < 3 && IsAddressInUse(e))
            {
                try
                {
                    await app.StopAsync();
                }
                catch (Exception)
                {
                    // it did not start; disposing is what matters
                }
                await app.DisposeAsync();
            }
        }
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }
                || x.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return e is AggregateException a && a.InnerExceptions.Any(IsAddressInUse);
    }

    /// <summary>Posts a body to the submit endpoint.</summary>
    public Task<HttpResponseMessage> SubmitAsync(string path, byte[] body, string? contentEncoding = null, string method = "POST")
    {
        var request = new HttpRequestMessage(new HttpMethod(method), "/submit/telemetry/" + path) { Content = new ByteArrayContent(body) };
        if (contentEncoding is not null)
        {
            request.Content.Headers.ContentEncoding.Add(contentEncoding);
        }
        return Http.SendAsync(request);
    }

    /// <summary>GET with the read token (restricted channels).</summary>
    public Task<HttpResponseMessage> GetAsync(string url, string? bearer = ReadToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return Http.SendAsync(request);
    }

    /// <summary>Starts reprocessing a date range through the admin API (202) and waits for the job to end; returns its last status.</summary>
    public async Task<System.Text.Json.JsonElement> ReprocessAsync(string from, string to, TimeSpan timeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/reprocess") { Content = System.Net.Http.Json.JsonContent.Create(new { from, to }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var response = await Http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        string id = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("jobId").GetString()!;
        System.Text.Json.JsonElement status = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var r = await GetAsync($"/api/jobs/{id}", AdminToken);
            status = System.Text.Json.JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            return status.GetProperty("state").GetString() != "running";
        }, timeout), "reprocessing did not finish");
        return status;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest))
        {
            gz.Write(data);
        }
        return ms.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _app.StopAsync(cts.Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
