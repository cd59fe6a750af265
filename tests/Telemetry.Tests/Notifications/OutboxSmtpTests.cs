using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Notifications.OutboxTestKit;

namespace Telemetry.Tests.Notifications;

/// <summary>
/// Mail through a real SMTP server (maildev on loopback), read back from its HTTP API: what a mail
/// carries, an SMTP outage, giving up and an admin's retry, flood control.
/// </summary>
// OpenTelemetry listens to every meter of a name in the process, so /metrics of one in-process silo also counts
// mail sent by other silos of the test run (portal and alert tests run in other collections at the same time):
// exact outcomes are read from this silo's outbox listing, /metrics only for the series being there.
[Collection("postgres")]
public sealed partial class OutboxSmtpTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_queued_mail_arrives_with_subject_body_sender_recipient_and_unsubscribe_headers()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await SiloHost.StartAsync(null, [.. smtp.SiloArgs, "--Notifications:PollInterval=00:00:00.100"]);
        var store = silo.Services.GetRequiredService<IOutboxStore>();

        var queued = await store.EnqueueAsync(new OutboxMail(
            "regression:101", "Carol@Example.org", MailKinds.Regression, "GC_MS regressed on nightly 148",
            "GC_MS moved to higher values.\nhttps://telemetry.example.org/alerts/101",
            UnsubscribeUrl: "https://telemetry.example.org/unsubscribe?token=t101"), default);

        var mail = Assert.Single(await smtp.WaitForMailsAsync(1, Wait));
        Assert.Equal("GC_MS regressed on nightly 148", mail.Subject);
        Assert.Equal("alerts@telemetry.test", mail.From);
        Assert.Equal(["carol@example.org"], mail.To);
        Assert.Contains("GC_MS moved to higher values.", mail.Text, StringComparison.Ordinal);
        var headers = Headers(await smtp.GetSourceAsync(mail.Id));
        Assert.Equal("<https://telemetry.example.org/unsubscribe?token=t101>", headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", headers["List-Unsubscribe-Post"]);

        // The admin listing shows it sent.
        JsonElement item = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
            (item = (await ListAsync(silo, "sent")).FirstOrDefault(i => i.GetProperty("id").GetInt64() == queued.Id)).ValueKind == JsonValueKind.Object, Wait));
        Assert.Equal("regression:101", item.GetProperty("alert_key").GetString());
        Assert.Equal("carol@example.org", item.GetProperty("recipient").GetString());
        Assert.Equal(1, item.GetProperty("attempts").GetInt32());
        Assert.True(item.GetProperty("has_unsubscribe").GetBoolean());

        // /metrics shows the mail counted. Only "at least": OpenTelemetry listens to meters by name, process-wide,
        // so in this test process the series also sums the mail of other test silos running at the same time
        // (one silo per process in production). This silo's exact outcome is the listing above.
        string metrics = await silo.Http.GetStringAsync("/metrics");
        Assert.Matches(@"(?m)^telemetry_mail_sent_total\{[^}]*\} [1-9][0-9]*$", metrics);
        Assert.Matches(@"(?m)^telemetry_outbox_pending\{[^}]*\} [0-9]+$", metrics);
        Assert.Matches(@"(?m)^telemetry_outbox_failed\{[^}]*\} [0-9]+$", metrics);
    }

    [Fact]
    public async Task Mail_queued_while_the_SMTP_server_is_down_is_delivered_exactly_once_when_it_returns()
    {
        await using var smtp = await MaildevServer.StartAsync();
        var store = new MemoryOutboxStore(TimeProvider.System);
        var (options, smtpOptions) = Fast("127.0.0.1", smtp.SmtpPort, batchSize: 3);
        var dispatcher = Dispatcher(store, new SmtpMailSender(smtpOptions, NullLogger<SmtpMailSender>.Instance), TimeProvider.System, options, smtpOptions);
        await dispatcher.StartAsync(default);
        try
        {
            await store.EnqueueAsync(Mail("regression:200", "before@example.org"), default);
            await smtp.WaitForMailsAsync(1, Wait);

            await smtp.StopAsync();
            var ids = new List<long>();
            for (int i = 0; i < 7; i++)
            {
                ids.Add((await store.EnqueueAsync(Mail($"regression:{201 + i}", $"p{i % 3}@example.org"), default)).Id);
            }
            // Several retry periods (100 ms doubling to 400 ms) pass with every attempt refused.
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                var rows = await Task.WhenAll(ids.Select(id => store.GetAsync(id, default)));
                return rows.All(r => r!.Attempts >= 3);
            }, Wait), "rows were not retried while the server was down");
            Assert.All(await Task.WhenAll(ids.Select(id => store.GetAsync(id, default))), r =>
            {
                Assert.NotEqual(OutboxState.Sent, r!.State);
                Assert.NotNull(r.LastError);
            });

            await smtp.StartAgainAsync();
            var mails = await smtp.WaitForMailsAsync(8, Wait);
            Assert.True(await TestPaths.EventuallyAsync(async () => (await store.CountAsync(default)).Pending == 0, Wait));
            await Task.Delay(options.PollInterval * 10); // room for a duplicate to show up
            mails = await smtp.GetMailsAsync();

            Assert.Equal(8, mails.Count);
            Assert.All(mails.GroupBy(m => (To: string.Join(",", m.To), m.Subject)), g => Assert.Single(g));
            Assert.All(await Task.WhenAll(ids.Select(id => store.GetAsync(id, default))), r => Assert.Equal(OutboxState.Sent, r!.State));
        }
        finally
        {
            await dispatcher.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_mail_failing_past_MaxAttempts_is_listed_failed_and_an_admin_retry_sends_it_once_SMTP_works()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await smtp.StopAsync();
        await using var silo = await SiloHost.StartAsync(null,
        [
            .. smtp.SiloArgs,
            "--Smtp:MaxAttempts=2",
            "--Smtp:RetryBase=00:00:00.100",
            "--Smtp:RetryMax=00:00:00.200",
            "--Smtp:Timeout=00:00:05",
            "--Notifications:PollInterval=00:00:00.100",
        ]);
        var store = silo.Services.GetRequiredService<IOutboxStore>();
        long id = (await store.EnqueueAsync(Mail("expiry:GC_MS", "owner@example.org", MailKinds.Expiry), default)).Id;

        JsonElement failed = default;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
            (failed = (await ListAsync(silo, "failed")).FirstOrDefault(i => i.GetProperty("id").GetInt64() == id)).ValueKind == JsonValueKind.Object, Wait),
            "the row was not listed as failed");
        Assert.Equal(2, failed.GetProperty("attempts").GetInt32());
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("last_error").GetString()));

        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsync($"/api/outbox/{id}/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await PostAdminAsync(silo, $"/api/outbox/{id + 1000}/retry")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await GetAdminAsync(silo, "/api/outbox?state=lost")).StatusCode);

        await smtp.StartAgainAsync();
        await Task.Delay(500);
        Assert.Empty(await smtp.GetMailsAsync()); // a failed row waits for an admin
        var retried = await PostAdminAsync(silo, $"/api/outbox/{id}/retry");
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        var body = JsonDocument.Parse(await retried.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains(body.GetProperty("state").GetString(), new[] { "pending", "sending", "sent" });

        var mail = Assert.Single(await smtp.WaitForMailsAsync(1, Wait));
        Assert.Equal(["owner@example.org"], mail.To);
        Assert.True(await TestPaths.EventuallyAsync(async () => (await ListAsync(silo, "sent")).Any(i => i.GetProperty("id").GetInt64() == id), Wait));
        Assert.Equal(HttpStatusCode.Conflict, (await PostAdminAsync(silo, $"/api/outbox/{id}/retry")).StatusCode);
        await Task.Delay(500);
        Assert.Single(await smtp.GetMailsAsync());
    }

    [Fact]
    public async Task Flood_control_mails_the_first_alerts_of_the_hour_and_folds_the_rest()
    {
        await using var smtp = await MaildevServer.StartAsync();
        var store = new MemoryOutboxStore(TimeProvider.System);
        var (options, smtpOptions) = Fast("127.0.0.1", smtp.SmtpPort, maxPerHour: 3, batchSize: 4);
        for (int i = 0; i < 6; i++)
        {
            await store.EnqueueAsync(Mail($"sentry:{i}", "alice@example.org", MailKinds.Sentry), default);
        }
        await store.EnqueueAsync(Mail("sentry:0", "bob@example.org", MailKinds.Sentry), default);
        await store.EnqueueAsync(Mail("digest:2026-11-30", "alice@example.org", MailKinds.Digest), default);
        var dispatcher = Dispatcher(store, new SmtpMailSender(smtpOptions, NullLogger<SmtpMailSender>.Instance), TimeProvider.System, options, smtpOptions);
        await dispatcher.StartAsync(default);
        try
        {
            Assert.True(await TestPaths.EventuallyAsync(async () => (await store.CountAsync(default)).Pending == 0, Wait));
        }
        finally
        {
            await dispatcher.StopAsync(default);
        }

        var mails = await smtp.GetMailsAsync();
        Assert.Equal(
            ["Alert digest:2026-11-30 for alice@example.org", "Alert sentry:0 for alice@example.org", "Alert sentry:1 for alice@example.org", "Alert sentry:2 for alice@example.org"],
            mails.Where(m => m.To.SequenceEqual(["alice@example.org"])).Select(m => m.Subject).Order(StringComparer.Ordinal));
        Assert.Single(mails, m => m.To.SequenceEqual(["bob@example.org"]));
        var folded = await store.ListFoldedAsync("alice@example.org", 10, default);
        Assert.Equal(["sentry:3", "sentry:4", "sentry:5"], folded.Select(r => r.AlertKey));
        Assert.Equal(3, (await store.ListAsync(OutboxState.Folded, 10, null, default)).Rows.Count);
    }

    internal static Dictionary<string, string> Headers(string source)
    {
        // Header block only, with folded lines joined (RFC 5322 section 2.2.3).
        string block = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", 2)[0];
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in Folding().Replace(block, " ").Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon]] = line[(colon + 1)..].Trim();
            }
        }
        return headers;
    }

    [GeneratedRegex(@"\n[ \t]+")]
    private static partial Regex Folding();

    private static async Task<List<JsonElement>> ListAsync(SiloHost silo, string state)
    {
        var response = await GetAdminAsync(silo, $"/api/outbox?state={state}&limit=500");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. root.GetProperty("items").EnumerateArray()];
    }

    private static Task<HttpResponseMessage> GetAdminAsync(SiloHost silo, string url) => silo.GetAsync(url, SiloHost.AdminToken);

    private static Task<HttpResponseMessage> PostAdminAsync(SiloHost silo, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        return silo.Http.SendAsync(request);
    }
}
