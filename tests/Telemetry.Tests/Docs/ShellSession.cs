using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace Telemetry.Tests.Docs;

/// <summary>
/// One long-lived bash, like a person's terminal: blocks run one after another in the same shell, so
/// variables set by one block are there for the next.
/// </summary>
public sealed class ShellSession : IAsyncDisposable
{
    private const string EndMarker = "@@README-BLOCK-END@@";
    private readonly Process _bash;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public ShellSession(string workingDirectory)
    {
        var psi = new ProcessStartInfo("bash", ["--noprofile", "--norc"])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _bash = Process.Start(psi)!;
        _bash.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _bash.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _bash.BeginOutputReadLine();
        _bash.BeginErrorReadLine();
    }

    /// <summary>Runs <paramref name="script"/> and returns what it printed (stdout and stderr) and its exit status.</summary>
    public async Task<(string Output, int Status)> RunAsync(string script, TimeSpan timeout)
    {
        await _bash.StandardInput.WriteAsync(script.TrimEnd() + $"\nprintf '\\n{EndMarker} %s\\n' \"$?\"\n");
        await _bash.StandardInput.FlushAsync();
        var output = new StringBuilder();
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            string line;
            try
            {
                line = await _lines.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"the block did not finish within {timeout}; it printed:\n{output}");
            }
            if (line.StartsWith(EndMarker, StringComparison.Ordinal))
            {
                return (output.ToString().TrimEnd('\n'), int.Parse(line[(EndMarker.Length + 1)..]));
            }
            output.Append(line).Append('\n');
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _bash.StandardInput.WriteLineAsync("exit");
            await _bash.StandardInput.FlushAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _bash.WaitForExitAsync(cts.Token);
        }
        catch (Exception)
        {
            _bash.Kill(entireProcessTree: true);
        }
        _bash.Dispose();
    }
}
