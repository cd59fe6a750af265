using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace Telemetry.Bench;

/// <summary>
/// Sentry benchmark (docs/benchmarks.md, "Sentry errors"), driven by <c>scripts/bench-sentry.sh</c>:
/// <list type="bullet">
/// <item><c>sentry fill --sqs URL --queue Q [--events N] [--issues K]</c>: puts N events over K issues in the queue
/// (batches of 10, 8 senders) before any silo consumes it;</item>
/// <item><c>sentry drain --silo URL --events N</c>: from the first recorded event to the last, how fast the silo's
/// consumers record them (read off the silo's <c>telemetry_sentry_events_total</c>);</item>
/// <item><c>sentry latency --silo URL --sqs URL --queue Q --maildev URL [--runs R]</c>: signs in by the mailed link,
/// subscribes to <c>new-issue</c>, then per run sends one event of a new issue to the queue and times it to the
/// issue in the API and to the alert mail in the SMTP catcher.</item>
/// </list>
/// Every address must be on loopback.
/// </summary>
public static partial class SentryBench
{
    public const string Usage = "sentry fill --sqs URL --queue Q [--events N] [--issues K] | sentry drain --silo URL --events N | sentry latency --silo URL --sqs URL --queue Q --maildev URL [--runs R]";
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
        {
            throw new BenchException(Usage);
        }
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 2; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new BenchException($"option {args[i]} needs a value");
            }
            o[args[i]] = args[i + 1];
        }
        int Int(string key, int fallback, int min, int max)
        {
            int v = o.TryGetValue(key, out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : fallback;
            return v >= min && v <= max ? v : throw new BenchException($"{key} must be {min}..{max}");
        }
        Uri Url(string key) => o.TryGetValue(key, out var s) ? Loopback.Require(s) : throw new BenchException($"{key} is required ({Usage})");
        string queue = o.GetValueOrDefault("--queue", "sentry_errors");
        return args[1] switch
        {
            "fill" => await FillAsync(Url("--sqs"), queue, Int("--events", 20_000, 1, 1_000_000), Int("--issues", 500, 1, 100_000)),
            "drain" => await DrainAsync(Url("--silo"), Int("--events", 20_000, 1, 1_000_000)),
            "latency" => await LatencyAsync(Url("--silo"), Url("--sqs"), queue, Url("--maildev"), Int("--runs", 5, 1, 50)),
            _ => throw new BenchException(Usage),
        };
    }

    private static AmazonSQSClient Sqs(Uri endpoint) =>
        new(new BasicAWSCredentials("local", "local"), new AmazonSQSConfig { ServiceURL = endpoint.ToString(), AuthenticationRegion = "us-east-1" });

    private static string Event(string id, string project, string fingerprint, string message, DateTimeOffset at, string user) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["eventID"] = id,
            ["dateReceived"] = at.ToString("O", CultureInfo.InvariantCulture),
            ["groupID"] = fingerprint,
            ["fingerprints"] = new[] { fingerprint },
            ["message"] = message,
            ["project"] = project,
            ["release"] = "bench-1.0",
            ["user"] = new { id = user },
            ["entries"] = new object[]
            {
                new { type = "exception", data = new { values = new[] { new { module = "bench", stacktrace = new { frames = new[] { new { function = "run", module = "bench.js", lineNo = 1, colNo = 2 } } } } } } },
            },
        });

    private static async Task<string> QueueUrlAsync(AmazonSQSClient sqs, string queue) =>
        (await sqs.CreateQueueAsync(new CreateQueueRequest { QueueName = queue })).QueueUrl;

    private static async Task<int> FillAsync(Uri endpoint, string queue, int events, int issues)
    {
        using var sqs = Sqs(endpoint);
        string url = await QueueUrlAsync(sqs, queue);
        var now = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        int next = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (true)
            {
                int start = Interlocked.Add(ref next, 10) - 10;
                if (start >= events)
                {
                    return;
                }
                var entries = Enumerable.Range(start, Math.Min(10, events - start)).Select(i => new SendMessageBatchRequestEntry
                {
                    Id = (i - start).ToString(CultureInfo.InvariantCulture),
                    MessageBody = Event($"fill-{i}", "bench-throughput", $"issue-{i % issues}", $"Error: bench issue {i % issues}", now, $"user-{i % 997}"),
                }).ToList();
                var response = await sqs.SendMessageBatchAsync(new SendMessageBatchRequest { QueueUrl = url, Entries = entries });
                if ((response.Failed?.Count ?? 0) > 0)
                {
                    throw new BenchException($"the queue refused {response.Failed!.Count} messages: {response.Failed[0].Message}");
                }
            }
        }));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"queued {events:N0} events over {issues:N0} issues in {clock.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    [GeneratedRegex("""^telemetry_sentry_events_total\{(?<labels>[^}]*)\} (?<value>\S+)""", RegexOptions.Multiline)]
    private static partial Regex EventsLine();

    /// <summary>Events the silo's consumers took from SQS (recorded or recognised as repeated).</summary>
    private static async Task<long> ConsumedAsync(HttpClient http)
    {
        long total = 0;
        foreach (Match m in EventsLine().Matches(await http.GetStringAsync("/metrics")))
        {
            if (m.Groups["labels"].Value.Contains("source=\"sqs\"", StringComparison.Ordinal))
            {
                total += (long)double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return total;
    }

    private static async Task<int> DrainAsync(Uri silo, int events)
    {
        using var http = new HttpClient { BaseAddress = silo, Timeout = TimeSpan.FromSeconds(30) };
        var deadline = Stopwatch.StartNew();
        long first;
        while ((first = await ConsumedAsync(http)) == 0)
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new BenchException("no event was recorded within 2 minutes");
            }
            await Task.Delay(Poll);
        }
        var clock = Stopwatch.StartNew();
        long consumed = first;
        var samples = new List<(double Seconds, long Consumed)> { (0, first) };
        while (consumed < events)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(20))
            {
                throw new BenchException($"only {consumed:N0} of {events:N0} events were recorded in 20 minutes");
            }
            await Task.Delay(Poll);
            consumed = await ConsumedAsync(http);
            samples.Add((clock.Elapsed.TotalSeconds, consumed));
        }
        double seconds = clock.Elapsed.TotalSeconds;
        double rate = (consumed - first) / seconds;
        Console.WriteLine($"Sentry events from SQS to recorded ({events:N0} events queued before the silo started)");
        Console.WriteLine();
        Console.WriteLine("| measure | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| events recorded after the first | {consumed - first:N0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| seconds | {seconds:F1} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| **events per second, SQS → recorded** | **{rate:N0}** |"));
        return 0;
    }

    private static async Task<int> LatencyAsync(Uri silo, Uri sqsEndpoint, string queue, Uri maildev, int runs)
    {
        using var http = new HttpClient { BaseAddress = silo, Timeout = TimeSpan.FromSeconds(30) };
        using var mail = new HttpClient { BaseAddress = maildev, Timeout = TimeSpan.FromSeconds(30) };
        using var sqs = Sqs(sqsEndpoint);
        string url = await QueueUrlAsync(sqs, queue);
        string email = $"sentry-bench-{DateTime.UtcNow:HHmmss}@bench.example.org";
        string session = await SignInAsync(http, mail, email);
        var subscribe = new HttpRequestMessage(HttpMethod.Post, "/api/subscriptions")
        {
            Content = JsonContent.Create(new { kind = "sentry", @params = new { project = "bench-latency", rules = new[] { "new-issue" } }, delivery = "immediate" }),
        };
        subscribe.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        var created = await http.SendAsync(subscribe);
        if (!created.IsSuccessStatusCode)
        {
            throw new BenchException($"subscribing failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        var results = new List<(double Recorded, double Mailed)>();
        for (int r = 0; r < runs; r++)
        {
            string fingerprint = $"latency-{Guid.NewGuid():N}";
            string message = $"Error: latency run {r} {fingerprint[8..16]}";
            var clock = Stopwatch.StartNew();
            await sqs.SendMessageAsync(url, Event($"{fingerprint}-e", "bench-latency", fingerprint, message, DateTimeOffset.UtcNow, "u1"));
            double recorded = -1, mailed = -1;
            while (mailed < 0)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new BenchException($"run {r}: no alert mail within 5 minutes");
                }
                if (recorded < 0 && (await http.GetAsync($"/api/sentry/issues/bench-latency/{fingerprint}")).IsSuccessStatusCode)
                {
                    recorded = clock.Elapsed.TotalSeconds;
                }
                if (await MailedAsync(mail, email, message))
                {
                    mailed = clock.Elapsed.TotalSeconds;
                }
                await Task.Delay(Poll);
            }
            results.Add((recorded < 0 ? mailed : recorded, mailed));
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"run {r}: recorded {recorded:0.00} s, mailed {mailed:0.00} s"));
            // Start the next run at another point of the evaluation period.
            await Task.Delay(TimeSpan.FromSeconds(7 + r * 3));
        }
        DelayTable.Print($"Sentry alert delay: event sent to SQS → ({runs} runs, new-issue rule, default Sentry:EvaluationMinutes and notification poll)",
            ("issue readable in the API", results.Select(x => x.Recorded)),
            ("**alert mail in maildev**", results.Select(x => x.Mailed)));
        return 0;
    }

    /// <summary>The sign-in a person does: ask for a link, take it from the mail, exchange it for a session.</summary>
    private static async Task<string> SignInAsync(HttpClient http, HttpClient mail, string email)
    {
        var asked = await http.PostAsJsonAsync("/api/auth/link", new { email });
        if (!asked.IsSuccessStatusCode)
        {
            throw new BenchException($"asking for a sign-in link failed: {(int)asked.StatusCode}");
        }
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            using var doc = JsonDocument.Parse(await mail.GetStringAsync("/api/email"));
            foreach (var m in doc.RootElement.EnumerateArray())
            {
                if (m.GetProperty("to").EnumerateArray().Any(a => a.GetProperty("address").GetString() == email)
                    && m.TryGetProperty("text", out var text) && TokenInLink().Match(text.GetString() ?? "") is { Success: true } link)
                {
                    var exchanged = await http.PostAsJsonAsync("/api/auth/token", new { token = Uri.UnescapeDataString(link.Groups[1].Value) });
                    using var session = JsonDocument.Parse(await exchanged.Content.ReadAsStringAsync());
                    return session.RootElement.GetProperty("access_token").GetString()
                        ?? throw new BenchException("the sign-in answer had no access_token");
                }
            }
            await Task.Delay(Poll);
        }
        throw new BenchException("no sign-in mail within 2 minutes");
    }

    [GeneratedRegex(@"signin\?token=([^\s""<>]+)")]
    private static partial Regex TokenInLink();

    private static async Task<bool> MailedAsync(HttpClient mail, string to, string message)
    {
        using var doc = JsonDocument.Parse(await mail.GetStringAsync("/api/email"));
        return doc.RootElement.EnumerateArray().Any(m =>
            m.GetProperty("to").EnumerateArray().Any(a => a.GetProperty("address").GetString() == to)
            && (m.GetProperty("subject").GetString() ?? "").Contains(message, StringComparison.Ordinal));
    }
}
