namespace Telemetry.Tests.Infrastructure;

/// <summary>Where the repository and the shared real data are.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Telemetry.Orleans.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Telemetry.Orleans.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => Root.Value;

    /// <summary>A file of <c>../shared/data</c>, or its copy under TestData/shared when shared/ is absent.</summary>
    public static string SharedData(params string[] parts)
    {
        var shared = Path.Combine([Path.GetDirectoryName(RepoRoot)!, "shared", "data", .. parts]);
        if (File.Exists(shared))
        {
            return shared;
        }
        var copy = Path.Combine(RepoRoot, "tests", "Telemetry.Tests", "TestData", "shared", parts[^1]);
        return File.Exists(copy) ? copy : throw new FileNotFoundException("test data not found", shared);
    }

    public static string ProbeSeeds => Path.Combine(RepoRoot, "silo", "probes");

    public static int FreePort()
    {
        // Below the kernel's ephemeral range (32768+ here): a port handed out by the OS for port 0
        // can be taken by any outgoing connection (to PostgreSQL, between silos) before the test
        // binds it. These are never handed out to clients; each is given once per test run.
        lock (HandedOut)
        {
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                int port = Random.Shared.Next(20_000, 32_000);
                if (!HandedOut.Add(port))
                {
                    continue;
                }
                try
                {
                    var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                    listener.Start();
                    listener.Stop();
                    return port;
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // in use by something else: try another
                }
            }
        }
        throw new InvalidOperationException("no free port found in 20000-31999");
    }

    private static readonly HashSet<int> HandedOut = new();

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes; returns whether it held.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(100);
        }
    }
}
