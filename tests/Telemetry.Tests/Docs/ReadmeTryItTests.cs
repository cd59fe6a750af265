using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Docs;

/// <summary>
/// The README's "Try it" section, run as a newcomer would: <c>scripts/start.sh</c> (build included) on the
/// embedded default, then every shell block of the section in one shell, each output compared with the
/// one the README shows, and the portal checked for what the README says it shows.
/// </summary>
public sealed partial class ReadmeTryItTests
{
    private const string ReadmeSiloUrl = "http://127.0.0.1:8080";
    private const string ReadmePortalUrl = "http://127.0.0.1:5080";

    private static string TryItSection() =>
        ReadmeExamples.Section(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md")), "Try it");

    [Fact]
    public void Try_it_shows_the_output_of_every_block_it_asks_to_run()
    {
        var examples = ReadmeExamples.Parse(TryItSection());

        Assert.True(examples.Count >= 3, $"expected the submit, query and rejection blocks, found {examples.Count}");
        Assert.All(examples, e => Assert.NotNull(e.Output));
        Assert.DoesNotContain(examples, e => e.Shell.Contains("uuidgen", StringComparison.Ordinal));
        Assert.DoesNotContain(examples, e => e.Shell.Contains("../shared", StringComparison.Ordinal));
        Assert.Matches(PortalSentence(), TryItSection());
    }

    [Fact]
    public async Task Try_it_works_verbatim_against_the_system_that_start_sh_starts()
    {
        var examples = ReadmeExamples.Parse(TryItSection());
        string runDir = Directory.CreateTempSubdirectory("readme-run-").FullName;
        string siloUrl = $"http://127.0.0.1:{TestPaths.FreePort()}";
        string portalUrl = $"http://127.0.0.1:{TestPaths.FreePort()}";
        string startOutput = Path.Combine(runDir, "start.out");

        var psi = new ProcessStartInfo("bash", ["-c", $"exec scripts/start.sh > '{startOutput}' 2>&1"])
        {
            WorkingDirectory = TestPaths.RepoRoot,
        };
        psi.Environment["SILO_URL"] = siloUrl;
        psi.Environment["PORTAL_URL"] = portalUrl;
        psi.Environment["SILO_PORT"] = TestPaths.FreePort().ToString();
        psi.Environment["GATEWAY_PORT"] = TestPaths.FreePort().ToString();
        psi.Environment["RUN_DIR"] = runDir;
        // The defaults a newcomer gets: no database, no tokens configured.
        foreach (var name in new[] { "ConnectionStrings__Telemetry", "Admin__Tokens__0", "Aggregates__ReadTokens__0" })
        {
            psi.Environment.Remove(name);
        }

        using var start = Process.Start(psi)!;
        try
        {
            // start.sh builds the solution (Release) first: minutes on a cold, busy machine.
            bool running = await TestPaths.EventuallyAsync(
                () => Task.FromResult(start.HasExited || ReadShared(startOutput).Contains("Telemetry.Orleans is running")),
                TimeSpan.FromMinutes(10));
            string summary = ReadShared(startOutput);
            Assert.True(running && !start.HasExited, "scripts/start.sh did not report a running system:\n" + Tail(summary));

            // The summary names both tokens a reader of the README needs, and they are the ones in the tokens file.
            string adminToken = SummaryValue(summary, "Admin token");
            string readToken = SummaryValue(summary, "Read token");
            Assert.Equal($"ADMIN_TOKEN={adminToken}\nREAD_TOKEN={readToken}\n", await File.ReadAllTextAsync(Path.Combine(runDir, "tokens")));

            await using (var shell = new ShellSession(TestPaths.RepoRoot))
            {
                foreach (var example in examples)
                {
                    string script = example.Shell
                        .Replace(ReadmeSiloUrl, siloUrl, StringComparison.Ordinal)
                        .Replace(ReadmePortalUrl, portalUrl, StringComparison.Ordinal)
                        .Replace(".run/", runDir + "/", StringComparison.Ordinal);
                    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                    while (true)
                    {
                        var (output, status) = await shell.RunAsync(script, TimeSpan.FromSeconds(60));
                        bool shown = status == 0 && Shows(example, output);
                        if (shown)
                        {
                            break;
                        }
                        // Like a reader told to run a query again while aggregation catches up; a submission is never repeated.
                        Assert.True(example.IsRepeatable && DateTime.UtcNow < deadline,
                            $"README block\n{example.Shell}\nexited {status} and printed\n{output}\ninstead of\n{example.Output}");
                        await Task.Delay(500);
                    }
                }
            }

            await AssertPortalShowsWhatTheReadmeSaysAsync(portalUrl);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
            Assert.Contains("service_name=\"telemetry-silo\"", await http.GetStringAsync(siloUrl + "/metrics"));
            Assert.Contains("service_name=\"telemetry-portal\"", await http.GetStringAsync(portalUrl + "/metrics"));

            // A readable console: the requests above left no per-request or per-grain-call lines.
            string console = ReadShared(startOutput) + ReadShared(Path.Combine(runDir, "portal.log"));
            var frameworkInfo = console.Split('\n').Where(l => FrameworkInfoLine().IsMatch(l)).ToList();
            Assert.True(frameworkInfo.Count == 0, "framework Information lines on the console:\n" + string.Join("\n", frameworkInfo.Take(10)));
            Assert.Contains("Probe registry version", console);
        }
        finally
        {
            await StopAsync(start);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            await Assert.ThrowsAnyAsync<Exception>(() => http.GetAsync(siloUrl + "/health/live"));
            try
            {
                Directory.Delete(runDir, recursive: true);
            }
            catch (IOException)
            {
                // a log still being closed; the temp directory is cleaned up by the system
            }
        }
    }

    private static bool Shows(ReadmeExample example, string output)
    {
        if (example.OutputLanguage == "json")
        {
            try
            {
                return JsonNode.DeepEquals(JsonNode.Parse(output), JsonNode.Parse(example.Output!));
            }
            catch (System.Text.Json.JsonException)
            {
                return false;
            }
        }
        static string Normalize(string s) => string.Join("\n", s.Trim().Split('\n').Select(l => l.TrimEnd()));
        return Normalize(output) == Normalize(example.Output!);
    }

    private static async Task AssertPortalShowsWhatTheReadmeSaysAsync(string portalUrl)
    {
        var said = PortalSentence().Match(TryItSection());
        Assert.True(said.Success, "the README no longer says what the portal shows");
        string accepted = said.Groups["accepted"].Value, rejected = said.Groups["rejected"].Value;
        string reason = said.Groups["reason"].Value, channel = said.Groups["channel"].Value, version = said.Groups["version"].Value;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var parser = new HtmlParser();
        string seen = "";
        bool shows = await TestPaths.EventuallyAsync(async () =>
        {
            // The overview is prerendered: the first response already carries the figures.
            var page = parser.ParseDocument(await http.GetStringAsync(portalUrl + "/"));
            string? Text(string testId) => page.QuerySelector($"[data-testid={testId}]")?.TextContent.Trim();
            var channelRow = page.QuerySelector($"[data-testid=channel][data-channel={channel}]");
            var versions = channelRow?.QuerySelectorAll("[data-testid=channel-version]").Select(v => v.TextContent.Trim()).ToList() ?? [];
            seen = $"accepted {Text("accepted-value")}, rejected {Text("rejected-value")}, reasons " +
                string.Join(",", page.QuerySelectorAll("[data-testid=rejected-reason]").Select(r => r.GetAttribute("data-reason"))) +
                $", {channel} versions {string.Join(",", versions)}";
            return Text("accepted-value") == accepted && Text("rejected-value") == rejected
                && page.QuerySelector($"[data-testid=rejected-reason][data-reason={reason}]") is not null
                && versions.Contains(version);
        }, TimeSpan.FromSeconds(30));
        Assert.True(shows, $"the portal showed {seen}; the README says accepted {accepted}, rejected {rejected} ({reason}), {channel} {version}");
    }

    private static async Task StopAsync(Process start)
    {
        if (!start.HasExited)
        {
            // What Ctrl-C does: start.sh's trap stops the silo and the portal.
            using (var kill = Process.Start("kill", ["-TERM", start.Id.ToString()]))
            {
                await kill.WaitForExitAsync();
            }
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
            try
            {
                await start.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                start.Kill(entireProcessTree: true);
                Assert.Fail("scripts/start.sh did not stop within 40 s of SIGTERM");
            }
        }
    }

    private static string SummaryValue(string summary, string label)
    {
        var match = Regex.Match(summary, $@"^\s+{label}\s+(?<value>[0-9a-f]{{16,}})", RegexOptions.Multiline);
        Assert.True(match.Success, $"the start summary has no '{label}' line:\n{Tail(summary)}");
        return match.Groups["value"].Value;
    }

    private static string ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    private static string Tail(string text) => text.Length > 4000 ? text[^4000..] : text;

    [GeneratedRegex(@"the overview shows \*\*(?<accepted>\d+)\*\* ping accepted and \*\*(?<rejected>\d+)\*\*\s+rejected \(`(?<reason>\w+)`\), and the channel \*\*(?<channel>\w+)\*\* with version \*\*(?<version>\d+)\*\*")]
    private static partial Regex PortalSentence();

    [GeneratedRegex(@"^info: (Microsoft|System|Orleans|Polly)")]
    private static partial Regex FrameworkInfoLine();
}
