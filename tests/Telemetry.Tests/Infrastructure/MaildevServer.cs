using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Telemetry.Tests.Infrastructure;

/// <summary>A mail as maildev received it.</summary>
public sealed record CaughtMail(string Id, string Subject, string From, IReadOnlyList<string> To, string Text, string? Html);

/// <summary>
/// A private maildev 3 (SMTP catcher, from npm) on free loopback ports, with its mail directory in a
/// temp folder, so that a stop and a start again on the same ports keep the mail received so far.
/// Mail is read back through its HTTP API. The binary is <c>$MAILDEV_BIN</c>, <c>maildev</c> on the
/// PATH, or the package in <c>npm root -g</c>; <c>npm install -g maildev@3</c> installs it (.ci/run does).
/// </summary>
public sealed class MaildevServer : IAsyncDisposable
{
    private static readonly Lazy<(string File, string[] Prefix)?> Binary = new(FindBinary);

    private readonly string _directory;
    private readonly HelperProcess _process = new("maildev");

    private MaildevServer(int smtpPort, int webPort, string directory)
    {
        SmtpPort = smtpPort;
        WebPort = webPort;
        _directory = directory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int SmtpPort { get; }
    public int WebPort { get; }
    public HttpClient Http { get; }
    public bool IsRunning => _process.IsRunning;

    /// <summary>The silo's settings that send to this server.</summary>
    public string[] SiloArgs =>
    [
        "--Smtp:Host=127.0.0.1",
        $"--Smtp:Port={SmtpPort}",
        "--Smtp:From=Telemetry alerts <alerts@telemetry.test>",
        "--Smtp:StartTls=none",
    ];

    public static async Task<MaildevServer> StartAsync()
    {
        _ = BinaryOrThrow();
        for (int attempt = 1; ; attempt++)
        {
            var dir = Path.Combine(Path.GetTempPath(), "telemetry-maildev-" + Guid.NewGuid().ToString("N")[..12]);
            Directory.CreateDirectory(dir);
            var server = new MaildevServer(TestPaths.FreePort(), TestPaths.FreePort(), dir);
            try
            {
                await server.StartAgainAsync();
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                // a probed port was taken meanwhile: try others
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts the process (again) on the same ports and mail directory; waits until SMTP and HTTP answer.</summary>
    public async Task StartAgainAsync()
    {
        var (file, prefix) = BinaryOrThrow();
        var psi = new ProcessStartInfo(file);
        foreach (var a in prefix.Concat([
            "--ip", "127.0.0.1", "--web-ip", "127.0.0.1",
            "-s", SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-w", WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mail-directory", _directory,
        ]))
        {
            psi.ArgumentList.Add(a);
        }
        await _process.StartAsync(psi, AcceptsAsync, TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills the process: the SMTP port refuses connections until <see cref="StartAgainAsync"/>.</summary>
    public Task StopAsync() => _process.StopAsync();

    public string Output => _process.Output;

    /// <summary>Every mail received so far (also those received before a restart).</summary>
    public async Task<IReadOnlyList<CaughtMail>> GetMailsAsync()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/api/email"));
        var mails = new List<CaughtMail>();
        foreach (var m in doc.RootElement.EnumerateArray())
        {
            mails.Add(new CaughtMail(
                m.GetProperty("id").GetString()!,
                m.GetProperty("subject").GetString() ?? "",
                m.GetProperty("from").EnumerateArray().Select(a => a.GetProperty("address").GetString()!).FirstOrDefault() ?? "",
                m.GetProperty("to").EnumerateArray().Select(a => a.GetProperty("address").GetString()!).ToList(),
                m.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : "",
                m.TryGetProperty("html", out var html) && html.ValueKind == JsonValueKind.String ? html.GetString() : null));
        }
        return mails;
    }

    /// <summary>The raw message as received (headers and body).</summary>
    public Task<string> GetSourceAsync(string id) => Http.GetStringAsync($"/api/email/{id}/source");

    /// <summary>Waits until at least <paramref name="count"/> mails arrived; returns all of them.</summary>
    public async Task<IReadOnlyList<CaughtMail>> WaitForMailsAsync(int count, TimeSpan timeout)
    {
        IReadOnlyList<CaughtMail> mails = [];
        bool arrived = await TestPaths.EventuallyAsync(async () => (mails = await GetMailsAsync()).Count >= count, timeout);
        Assert.True(arrived, $"expected {count} mails in maildev, found {mails.Count} after {timeout}");
        return mails;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // left in the temp folder; harmless
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using (var tcp = new TcpClient())
            {
                await tcp.ConnectAsync("127.0.0.1", SmtpPort);
            }
            return (await Http.GetAsync("/api/email")).IsSuccessStatusCode;
        }
        catch (Exception e) when (e is SocketException or HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static (string File, string[] Prefix) BinaryOrThrow() =>
        Binary.Value ?? throw new InvalidOperationException(
            "maildev 3 was not found ($MAILDEV_BIN, 'maildev' on the PATH, or in `npm root -g`). " +
            "Install it with `npm install -g maildev@3` (Node >= 20); .ci/run does this on a fresh machine.");

    private static (string File, string[] Prefix)? FindBinary()
    {
        if (Environment.GetEnvironmentVariable("MAILDEV_BIN") is { Length: > 0 } env && File.Exists(env))
        {
            return env.EndsWith(".js", StringComparison.Ordinal) ? ("node", [env]) : (env, []);
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "maildev");
            if (File.Exists(candidate))
            {
                return (candidate, []);
            }
        }
        try
        {
            using var npm = Process.Start(new ProcessStartInfo("npm", ["root", "-g"]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (npm is not null)
            {
                string root = npm.StandardOutput.ReadToEnd().Trim();
                npm.WaitForExit(15_000);
                var js = Path.Combine(root, "maildev", "dist", "bin", "maildev.js");
                if (File.Exists(js))
                {
                    return ("node", [js]);
                }
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // npm is not installed
        }
        return null;
    }
}
