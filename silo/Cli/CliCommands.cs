using System.Net.Http.Headers;
using System.Net.Http.Json;
using Telemetry.Contracts.Jobs;

namespace Telemetry.Silo.Cli;

/// <summary>
/// Command-line operations against a running silo's admin API:
/// <c>import-raw-log FILE [--url URL] [--token TOKEN]</c> and
/// <c>reprocess --from YYYY-MM-DD --to YYYY-MM-DD [--url URL] [--token TOKEN]</c>.
/// Both follow their job to its end and exit 0 only when it succeeded (1 when it failed, for an
/// import also when records were not landed).
/// </summary>
public static class CliCommands
{
    public static bool IsCommand(string arg) => arg is "import-raw-log" or "reprocess";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args[0] == "reprocess")
        {
            return await ReprocessAsync(args);
        }
        string? file = args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : null;
        if (file is null || !File.Exists(file))
        {
            Console.Error.WriteLine("usage: silo import-raw-log FILE [--url http://127.0.0.1:8080] [--token ADMIN_TOKEN]");
            return 2;
        }
        using var http = Client(args);
        await using var stream = File.OpenRead(file);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var response = await http.PostAsync("/api/import/raw-log", content);
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"import refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return 1;
        }
        var started = await response.Content.ReadFromJsonAsync<StartedBody>();
        Console.WriteLine($"job {started!.JobId} ({started.StatusUrl})");
        return await FollowAsync(http, started.JobId);
    }

    private static async Task<int> ReprocessAsync(string[] args)
    {
        string? from = Option(args, "--from"), to = Option(args, "--to") ?? from;
        if (from is null)
        {
            Console.Error.WriteLine("usage: silo reprocess --from YYYY-MM-DD [--to YYYY-MM-DD] [--url http://127.0.0.1:8080] [--token ADMIN_TOKEN]");
            return 2;
        }
        using var http = Client(args);
        var response = await http.PostAsJsonAsync("/api/reprocess", new { from, to });
        if (!response.IsSuccessStatusCode)
        {
            Console.Error.WriteLine($"reprocess refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return 1;
        }
        var started = await response.Content.ReadFromJsonAsync<StartedBody>();
        return await FollowAsync(http, started!.JobId);
    }

    private static HttpClient Client(string[] args)
    {
        string url = Option(args, "--url") ?? Environment.GetEnvironmentVariable("TELEMETRY_URL") ?? "http://127.0.0.1:8080";
        string? token = Option(args, "--token") ?? Environment.GetEnvironmentVariable("TELEMETRY_ADMIN_TOKEN");
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromHours(2) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        return http;
    }

    private static async Task<int> FollowAsync(HttpClient http, string jobId)
    {
        while (true)
        {
            await Task.Delay(500);
            var status = await http.GetFromJsonAsync<JobStatus>($"/api/jobs/{jobId}");
            if (status is null)
            {
                continue;
            }
            DrawProgress(status);
            if (status.State != "running")
            {
                Console.WriteLine();
                foreach (var (k, v) in status.Counts.OrderBy(kv => kv.Key))
                {
                    Console.WriteLine($"  {k,-24} {v}");
                }
                if (status.Error is not null)
                {
                    Console.Error.WriteLine("error: " + status.Error);
                }
                return status.State == "succeeded" ? 0 : 1;
            }
        }
    }

    private sealed record StartedBody(string JobId, string StatusUrl);

    private static void DrawProgress(JobStatus status)
    {
        const int width = 40;
        int filled = (int)Math.Round(status.Progress * width);
        if (status.Kind == "reprocess")
        {
            Console.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {status.Progress * 100:0}% {status.Detail}   ");
            return;
        }
        var counts = status.Counts;
        long rejected = counts.Where(kv => kv.Key.StartsWith("rejected_", StringComparison.Ordinal)).Sum(kv => kv.Value);
        Console.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {status.Progress * 100:0}% read {counts.GetValueOrDefault("read")} imported {counts.GetValueOrDefault("imported")} duplicates {counts.GetValueOrDefault("duplicate")} rejected {rejected} not landed {counts.GetValueOrDefault("not_landed")}{(status.Detail is { } detail ? " (" + detail + ")" : "")}   ");
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
