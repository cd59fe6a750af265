using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Silo.Sentry;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Sentry;

/// <summary>One SQS emulator (fauxqs on loopback) for the tests of a class; each test uses its own queue.</summary>
public sealed class FauxqsFixture : IAsyncLifetime
{
    public FauxqsServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await FauxqsServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Sentry events through SQS, end to end: a real silo consuming a queue of fauxqs, the SQS emulator, over the
/// AWS SDK. The seed's scenarios hold; a bad message leaves the queue as a dead letter without holding up the
/// next; an outage of SQS is waited out and consumption resumes by itself.
/// </summary>
public sealed class SentrySqsTests(FauxqsFixture sqs) : IClassFixture<FauxqsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private static string Queue() => "sentry-" + Guid.NewGuid().ToString("N")[..10];

    private static async Task<JsonElement> IssueAsync(SiloHost silo, string project, string fingerprint, int days = 7)
    {
        var response = await silo.Http.GetAsync($"/api/sentry/issues/{project}/{Uri.EscapeDataString(fingerprint)}?days={days}");
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : default;
    }

    private static async Task<long> EventsAsync(SiloHost silo, string project, string fingerprint, int days = 7) =>
        await IssueAsync(silo, project, fingerprint, days) is { ValueKind: JsonValueKind.Object } issue ? issue.GetProperty("events").GetInt64() : -1;

    /// <summary>This silo's consumer as an admin sees it (<c>GET /api/sentry/consumer</c>).</summary>
    internal static async Task<JsonElement> ConsumerAsync(SiloHost silo)
    {
        var response = await silo.GetAsync("/api/sentry/consumer", SiloHost.AdminToken);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task The_queue_is_created_if_missing_and_the_seed_scenarios_hold_through_SQS()
    {
        string queue = Queue();
        Assert.False(await sqs.Server.QueueExistsAsync(queue));
        await using var silo = await SiloHost.StartAsync(null, sqs.Server.SiloArgs(queue));
        Assert.True(await TestPaths.EventuallyAsync(() => sqs.Server.QueueExistsAsync(queue), Wait), "the consumer did not create its queue");

        var now = DateTimeOffset.UtcNow;
        var messages = new List<string>
        {
            // A resubmitted event is counted once.
            SentryMailTests.EventJson("dup-1", "resubmitted", "Error: twice", now),
            SentryMailTests.EventJson("dup-1", "resubmitted", "Error: twice", now),
            // Two events a day apart: 2 in total, 1 on the second day.
            SentryMailTests.EventJson("day-1", "two-days", "Error: daily", now.AddDays(-1)),
            SentryMailTests.EventJson("day-2", "two-days", "Error: daily", now),
            // A message whose fingerprints is not a list is dead-lettered; the next one is processed.
            """{"eventID":"bad-1","dateReceived":"2026-11-30T10:00:00Z","fingerprints":"not-a-list","message":"m","project":"seed"}""",
            SentryMailTests.EventJson("after-bad", "after-bad", "Error: next", now),
        };
        // Three issues with 10, 20 and 5 distinct events rank 20, 10, 5.
        foreach (var (fingerprint, count) in new[] { ("ten", 10), ("twenty", 20), ("five", 5) })
        {
            messages.AddRange(Enumerable.Range(0, count).Select(i => SentryMailTests.EventJson($"{fingerprint}-{i}", fingerprint, $"Error: {fingerprint}", now, project: "ranked")));
        }
        await sqs.Server.SendAsync(queue, [.. messages]);

        Assert.True(await TestPaths.EventuallyAsync(async () => await sqs.Server.CountAsync(queue) == 0, Wait), "messages stayed in the queue");
        Assert.True(await TestPaths.EventuallyAsync(async () => await EventsAsync(silo, "default", "after-bad") == 1, Wait), "the message after the bad one was not recorded");
        Assert.Equal(1, await EventsAsync(silo, "default", "resubmitted"));
        Assert.Equal(2, await EventsAsync(silo, "default", "two-days", days: 2));
        Assert.Equal(1, await EventsAsync(silo, "default", "two-days", days: 1));

        using var ranked = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/issues?project=ranked&sort=events&days=7"));
        Assert.Equal([("twenty", 20L), ("ten", 10L), ("five", 5L)],
            ranked.RootElement.GetProperty("issues").EnumerateArray().Select(i => (i.GetProperty("fingerprint").GetString()!, i.GetProperty("events").GetInt64())));

        using var letters = JsonDocument.Parse(await (await silo.GetAsync("/api/sentry/dead-letters", SiloHost.AdminToken)).Content.ReadAsStringAsync());
        var letter = Assert.Single(letters.RootElement.GetProperty("dead_letters").EnumerateArray());
        Assert.Equal(("bad_fingerprints", "sqs"), (letter.GetProperty("reason").GetString(), letter.GetProperty("source").GetString()));
        Assert.Contains("not-a-list", letter.GetProperty("body").GetString(), StringComparison.Ordinal);

        // The dead letter left the queue for good: some seconds later it has not come back.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, await sqs.Server.CountAsync(queue));
        // Every message left the queue: the duplicate and the dead letter too.
        var consumer = await ConsumerAsync(silo);
        Assert.Equal((messages.Count, 0L), (consumer.GetProperty("messages_deleted").GetInt64(), consumer.GetProperty("messages_kept").GetInt64()));
        Assert.Equal(queue, consumer.GetProperty("queue_name").GetString());
    }

    [Fact]
    public async Task An_SQS_outage_is_waited_out_and_consumption_resumes_without_a_restart()
    {
        await using var own = await FauxqsServer.StartAsync();
        string queue = Queue();
        await using var silo = await SiloHost.StartAsync(null, own.SiloArgs(queue));
        var consumer = silo.Services.GetRequiredService<SqsConsumer>();
        Assert.True(await TestPaths.EventuallyAsync(() => Task.FromResult(consumer.QueueUrl is not null), Wait));
        await own.SendAsync(queue, SentryMailTests.EventJson("before", "outage", "Error: outage", DateTimeOffset.UtcNow));
        Assert.True(await TestPaths.EventuallyAsync(async () => await EventsAsync(silo, "default", "outage") == 1, Wait));

        await own.StopAsync();
        Assert.True(await TestPaths.EventuallyAsync(async () => (await ConsumerAsync(silo)).GetProperty("failures_in_a_row").GetInt32() >= 2, Wait),
            "failed receives were not counted");
        Assert.StartsWith("receive: ", (await ConsumerAsync(silo)).GetProperty("last_error").GetString(), StringComparison.Ordinal);
        // The emulator comes back empty (its queues lived in memory): the consumer creates the queue again.
        await own.StartAgainAsync();
        Assert.True(await TestPaths.EventuallyAsync(() => own.QueueExistsAsync(queue), Wait), "the queue was not created again");
        await own.SendAsync(queue, SentryMailTests.EventJson("after", "outage", "Error: outage", DateTimeOffset.UtcNow));
        Assert.True(await TestPaths.EventuallyAsync(async () => await EventsAsync(silo, "default", "outage") == 2, Wait), "consumption did not resume");
        Assert.Equal(0, (await ConsumerAsync(silo)).GetProperty("failures_in_a_row").GetInt32());
    }
}

/// <summary>SQS into PostgreSQL: text PostgreSQL cannot hold (U+0000) does not keep a message in the queue forever.</summary>
[Collection("postgres")]
public sealed class SentrySqsPostgresTests(PostgresFixture fixture)
{
    [Fact]
    public async Task An_event_with_NUL_characters_is_recorded_and_deleted_and_a_bad_body_with_one_is_a_dead_letter()
    {
        await using var sqs = await FauxqsServer.StartAsync();
        string cs = await fixture.Server.CreateDatabaseAsync();
        string queue = "sentry-nul";
        await using var silo = await SiloHost.StartAsync(cs, sqs.SiloArgs(queue));
        Assert.True(await TestPaths.EventuallyAsync(() => sqs.QueueExistsAsync(queue), TimeSpan.FromSeconds(60)));
        var now = DateTimeOffset.UtcNow;
        // SQS itself refuses U+0000 in a body, but JSON may escape it ("\u0000"); the webhook may carry it raw.
        string escaped = SentryMailTests.EventJson("nul-1", "nul\u0000print", "Error: a\u0000b", now, user: "u\u00001");
        Assert.Contains("\\u0000", escaped, StringComparison.Ordinal);
        await sqs.SendAsync(queue, escaped, SentryMailTests.EventJson("plain", "plain", "Error: plain", now));
        var raw = await silo.Http.PostAsync("/api/sentry/events", new StringContent("not json \u0000 at all", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, raw.StatusCode);

        Assert.True(await TestPaths.EventuallyAsync(async () => await sqs.CountAsync(queue) == 0, TimeSpan.FromSeconds(60)), "a message stayed in the queue");
        using var list = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/issues?sort=events&days=1"));
        var messages = list.RootElement.GetProperty("issues").EnumerateArray().Select(i => i.GetProperty("message").GetString()).Order().ToList();
        Assert.Equal(["Error: a\uFFFDb", "Error: plain"], messages);
        using var letters = JsonDocument.Parse(await (await silo.GetAsync("/api/sentry/dead-letters", SiloHost.AdminToken)).Content.ReadAsStringAsync());
        Assert.Equal("not_json", Assert.Single(letters.RootElement.GetProperty("dead_letters").EnumerateArray()).GetProperty("reason").GetString());
    }
}
