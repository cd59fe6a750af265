using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// A private, throw-away PostgreSQL server started from the machine's binaries
/// (no Docker). It listens on 127.0.0.1 only, on a free port, with its Unix
/// socket inside its own data directory, trust authentication, and fsync on.
/// When the current user is root the server runs as the <c>postgres</c> OS user
/// (PostgreSQL refuses to run as root).
/// </summary>
public sealed partial class PostgresServer : IAsyncDisposable
{
    private const string SuperUser = "postgres";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    // Servers still running; stopped on process exit if a test run is aborted
    // before DisposeAsync gets a chance.
    private static readonly ConcurrentDictionary<PostgresServer, byte> Running = new();
    private static int exitHookInstalled;

    private readonly string binDir;
    private readonly string rootDir;
    private readonly bool runAsPostgres;
    private int disposed;

    private PostgresServer(string binDir, string rootDir, int port, bool runAsPostgres)
    {
        this.binDir = binDir;
        this.rootDir = rootDir;
        this.runAsPostgres = runAsPostgres;
        Port = port;
        ConnectionString = BuildConnectionString("postgres");
    }

    /// <summary>TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Connection string for the <c>postgres</c> maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>The PostgreSQL data directory (also holds the Unix socket and server.log).</summary>
    public string DataDirectory => Path.Combine(rootDir, "data");

    private string LogFile => Path.Combine(rootDir, "data", "server.log");

    /// <summary>True when initdb and pg_ctl were found.</summary>
    public static bool BinariesAvailable => FindBinDir() is not null;

    /// <summary>
    /// The directory holding initdb/pg_ctl: the newest /usr/lib/postgresql/&lt;n&gt;/bin,
    /// otherwise the first PATH entry that has both.
    /// </summary>
    public static string? FindBinDir()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var candidates = Directory.GetDirectories(debianRoot)
                .Select(dir => (dir, version: ParseVersion(Path.GetFileName(dir))))
                .OrderByDescending(c => c.version)
                .Select(c => Path.Combine(c.dir, "bin"));
            foreach (var bin in candidates)
            {
                if (HasServerBinaries(bin))
                {
                    return bin;
                }
            }
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var entry in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (HasServerBinaries(entry))
            {
                return Path.GetFullPath(entry);
            }
        }

        return null;
    }

    /// <summary>Creates a data directory, runs initdb, starts the server and waits until it accepts connections.</summary>
    public static async Task<PostgresServer> StartAsync()
    {
        var binDir = FindBinDir()
            ?? throw new InvalidOperationException(
                "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH.");

        var runAsPostgres = Environment.UserName == "root" || IsRoot();
        var baseTemp = runAsPostgres ? "/tmp" : Path.GetTempPath();
        var rootDir = Path.Combine(baseTemp, "telemetry-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(rootDir);

        PostgresServer? server = null;
        try
        {
            if (runAsPostgres && !OperatingSystem.IsWindows())
            {
                // The postgres user must be able to enter the root dir and own the data dir.
                File.SetUnixFileMode(rootDir,
                    UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                    UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                    UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }

            var dataDir = Path.Combine(rootDir, "data");
            Directory.CreateDirectory(dataDir);
            if (runAsPostgres)
            {
                await RunAsync("chown", new[] { "-R", $"{SuperUser}:{SuperUser}", rootDir }, asPostgres: false, rootDir)
                    .ConfigureAwait(false);
            }

            await RunAsync(Path.Combine(binDir, "initdb"),
                new[]
                {
                    "-D", dataDir,
                    "-U", SuperUser,
                    "--auth-local=trust",
                    "--auth-host=trust",
                    "-E", "UTF8",
                    "--locale=C",
                },
                runAsPostgres, rootDir).ConfigureAwait(false);

            // A port can be taken between probing and binding: retry a few times.
            Exception? lastError = null;
            for (var attempt = 0; attempt < 5; attempt++)
            {
                var port = GetFreeLoopbackPort();
                var candidate = new PostgresServer(binDir, rootDir, port, runAsPostgres);
                try
                {
                    await candidate.StartServerAsync().ConfigureAwait(false);
                    server = candidate;
                    break;
                }
                catch (Exception ex)
                {
                    lastError = ex;
                    await candidate.StopServerAsync().ConfigureAwait(false);
                }
            }

            if (server is null)
            {
                throw new InvalidOperationException("Could not start PostgreSQL.", lastError);
            }

            Running.TryAdd(server, 0);
            InstallExitHook();
            await server.WaitUntilAcceptingAsync().ConfigureAwait(false);
            return server;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                TryDeleteDirectory(rootDir);
            }

            throw;
        }
    }

    /// <summary>Creates a new, empty database and returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= "t_" + Guid.NewGuid().ToString("N");
        if (!SafeIdentifier().IsMatch(name))
        {
            throw new ArgumentException($"Database name '{name}' must match {SafeIdentifier()}.", nameof(name));
        }

        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        string cs = BuildConnectionString(name);
        // Its silos' body store lives beside the server's data, and goes with it.
        BodyDirectories[name] = Path.Combine(rootDir, "bodies", name);
        return cs;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> BodyDirectories = new();

    /// <summary>The docIds stored in the landing log of the database <paramref name="connectionString"/> names.</summary>
    public static async Task<HashSet<string>> LandedDocIdsAsync(string connectionString)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync().ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand("SELECT doc_id FROM landing", conn);
        await using var reader = await cmd.ExecuteReaderAsync().ConfigureAwait(false);
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            stored.Add(reader.GetString(0));
        }
        return stored;
    }

    /// <summary>The filesystem body store directory for the silos of the database <paramref name="connectionString"/> names.</summary>
    public static string BodyDirectory(string connectionString)
    {
        string database = new NpgsqlConnectionStringBuilder(connectionString).Database ?? "postgres";
        return BodyDirectories.GetValueOrDefault(database) ?? Path.Combine(Path.GetTempPath(), "telemetry-test-bodies", database);
    }

    /// <summary>
    /// Stops the server, keeping its data directory and port for <see cref="StartAgainAsync"/>.
    /// Immediate mode ends every backend at once, the way a crash or a kill would; fast mode
    /// rolls back open transactions and checkpoints first, the way an administrator's restart does.
    /// </summary>
    public async Task StopAsync(bool immediate = true)
    {
        await RunAsync(Path.Combine(binDir, "pg_ctl"),
            new[] { "-D", DataDirectory, "-m", immediate ? "immediate" : "fast", "-w", "-t", "60", "stop" },
            runAsPostgres, rootDir).ConfigureAwait(false);
    }

    /// <summary>Starts a server stopped by <see cref="StopAsync"/> again on the same data directory and port.</summary>
    public async Task StartAgainAsync()
    {
        // The pooled connections of CreateDatabaseAsync died with the old server process.
        using (var pooled = new NpgsqlConnection(ConnectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }
        await StartServerAsync().ConfigureAwait(false);
        await WaitUntilAcceptingAsync().ConfigureAwait(false);
    }

    /// <summary>Returns the tail of the server log (diagnostics for failing tests).</summary>
    public string ReadLogTail(int maxChars = 8000)
    {
        try
        {
            var text = File.ReadAllText(LogFile);
            return text.Length <= maxChars ? text : text[^maxChars..];
        }
        catch (Exception ex)
        {
            return $"<log unavailable: {ex.Message}>";
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        Running.TryRemove(this, out _);
        NpgsqlConnection.ClearAllPools();
        await StopServerAsync().ConfigureAwait(false);
        TryDeleteDirectory(rootDir);
    }

    private string BuildConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = SuperUser,
        Database = database,
        Timeout = 15,
        CommandTimeout = 60,
    }.ConnectionString;

    private async Task StartServerAsync()
    {
        var options = string.Join(' ',
            "-c listen_addresses=127.0.0.1",
            $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
            $"-k {DataDirectory}",
            "-c fsync=on",
            "-c synchronous_commit=on",
            "-c full_page_writes=on",
            "-c unix_socket_permissions=0700",
            "-c max_connections=200",
            "-c shared_buffers=32MB");

        await RunAsync(Path.Combine(binDir, "pg_ctl"),
            new[] { "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-o", options, "start" },
            runAsPostgres, rootDir).ConfigureAwait(false);
    }

    private async Task StopServerAsync()
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            return;
        }

        try
        {
            await RunAsync(Path.Combine(binDir, "pg_ctl"),
                new[] { "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30", "stop" },
                runAsPostgres, rootDir).ConfigureAwait(false);
        }
        catch
        {
            // Best effort: the server may already be gone.
        }
    }

    private async Task WaitUntilAcceptingAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Timeout = 5 };
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync().ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException)
            {
                last = ex;
                await Task.Delay(200).ConfigureAwait(false);
            }
        }

        throw new TimeoutException("PostgreSQL did not accept connections in time. Log:\n" + ReadLogTail(), last);
    }

    private static async Task RunAsync(string fileName, IReadOnlyList<string> arguments, bool asPostgres, string workingDirectory)
    {
        var startInfo = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user must be able to stat its working directory.
            WorkingDirectory = workingDirectory,
        };

        if (asPostgres)
        {
            startInfo.FileName = "su";
            startInfo.ArgumentList.Add(SuperUser);
            startInfo.ArgumentList.Add("-s");
            startInfo.ArgumentList.Add("/bin/bash");
            startInfo.ArgumentList.Add("-c");
            startInfo.ArgumentList.Add(string.Join(' ', new[] { fileName }.Concat(arguments).Select(ShellQuote)));
        }
        else
        {
            startInfo.FileName = fileName;
            foreach (var argument in arguments)
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        using var process = new Process { StartInfo = startInfo };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // WaitForExit(timeout) does not wait for the pipes to close, so a daemon
        // child that inherited them (should not happen with pg_ctl -l) cannot hang us.
        var exited = await Task.Run(() => process.WaitForExit(CommandTimeout)).ConfigureAwait(false);
        if (!exited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw new TimeoutException($"'{Describe(fileName, arguments)}' timed out.\n{Snapshot(output)}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{Describe(fileName, arguments)}' exited with {process.ExitCode}.\n{Snapshot(output)}");
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    private static string Describe(string fileName, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { fileName }.Concat(arguments));

    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private static int GetFreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static bool HasServerBinaries(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

    private static Version ParseVersion(string name) =>
        Version.TryParse(name.Contains('.') ? name : name + ".0", out var v) ? v : new Version(0, 0);

    private static bool IsRoot()
    {
        try
        {
            // /proc/self/status: "Uid:\t<real>\t<effective>\t..."
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    var parts = line.Split('\t', StringSplitOptions.RemoveEmptyEntries);
                    return parts.Length > 2 && parts[2] == "0";
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return false;
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref exitHookInstalled, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in Running.Keys)
            {
                try
                {
                    server.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(20));
                }
                catch
                {
                    // Process is exiting; nothing else to do.
                }
            }
        };
    }

    private static void TryDeleteDirectory(string dir)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }

                return;
            }
            catch (IOException)
            {
                Thread.Sleep(200);
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex SafeIdentifier();
}
