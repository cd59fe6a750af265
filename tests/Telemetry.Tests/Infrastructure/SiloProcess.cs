using System.Diagnostics;
using System.Net;

namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// The silo as a real process (the build output of <c>silo/</c>) in PostgreSQL mode, for tests that
/// kill or signal it. Its console goes to a log file in the temp directory.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private static readonly Lock LogLock = new();
    private readonly Process _process;

    private SiloProcess(Process process, string logFile)
    {
        _process = process;
        LogFile = logFile;
    }

    public string LogFile { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    public static SiloProcess Start(string connectionString, int httpPort, int siloPort, int gatewayPort, string logName, params string[] extraArgs)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dir = Path.Combine(TestPaths.RepoRoot, "silo", "bin", configuration, "net10.0");
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            Path.Combine(dir, "Telemetry.Silo.dll"),
            "--urls", $"http://127.0.0.1:{httpPort}",
            $"--ConnectionStrings:Telemetry={connectionString}",
            $"--Ingest:BodyStore:Path={PostgresServer.BodyDirectory(connectionString)}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            $"--Admin:Tokens:0={SiloHost.AdminToken}",
            "--Aggregates:RestrictedChannels:0=",
            "--Logging:LogLevel:Default=Warning",
        }.Concat(extraArgs))
        {
            psi.ArgumentList.Add(arg);
        }
        var process = Process.Start(psi)!;
        var log = Path.Combine(Path.GetTempPath(), $"{logName}-silo-{httpPort}.log");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (LogLock) { File.AppendAllText(log, e.Data + "\n"); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (LogLock) { File.AppendAllText(log, e.Data + "\n"); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, log);
    }

    /// <summary>SIGKILL: no shutdown, no flush.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, what a container platform sends first (<see cref="Process.Kill()"/> is SIGKILL).</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))!;
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits for the process to end; false when it is still running after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public static Task<bool> WaitReadyAsync(HttpClient http, TimeSpan timeout) =>
        TestPaths.EventuallyAsync(async () =>
        {
            try
            {
                return (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, timeout);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
