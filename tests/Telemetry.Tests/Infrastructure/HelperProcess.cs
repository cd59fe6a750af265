using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// A server process a test starts on loopback (maildev, fauxqs, ...): its output kept (the first 64 KB) for
/// failure messages, a wait until it answers, a kill of its whole tree, and a kill of every one still running
/// when the test process exits, so no server outlives the test run.
/// </summary>
public sealed class HelperProcess
{
    private static readonly ConcurrentDictionary<HelperProcess, byte> Running = new();
    private static int exitHookInstalled;

    private readonly string _name;
    private readonly StringBuilder _output = new();
    private Process? _process;

    public HelperProcess(string name) => _name = name;

    public bool IsRunning => _process is { HasExited: false };

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="psi"/> (output redirected here) and waits until <paramref name="answers"/> is true.</summary>
    public async Task StartAsync(ProcessStartInfo psi, Func<Task<bool>> answers, TimeSpan timeout)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Running.TryAdd(this, 0);
        InstallExitHook();

        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{_name} exited with {process.ExitCode}:\n{Output}");
            }
            if (await answers())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{_name} did not answer within {timeout.TotalSeconds:0} s:\n{Output}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Kills the process tree and waits for it to end.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
                await p.WaitForExitAsync();
            }
            p.Dispose();
            _process = null;
        }
        Running.TryRemove(this, out _);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref exitHookInstalled, 1) == 0)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var helper in Running.Keys)
                {
                    try
                    {
                        helper._process?.Kill(entireProcessTree: true);
                    }
                    catch (InvalidOperationException)
                    {
                        // already gone
                    }
                }
            };
        }
    }
}
