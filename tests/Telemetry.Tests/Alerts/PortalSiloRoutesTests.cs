using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Sentry;

namespace Telemetry.Tests.Alerts;

/// <summary>
/// The silo routes the portal's errors, subscriptions and alert pages read, through a real silo over HTTP:
/// a person's subscriptions and sent mail are theirs alone, the issue list carries events per day, and an
/// issue takes a comment without changing state. <see cref="IOutboxStore.ListForRecipientAsync"/> is checked
/// on both stores.
/// </summary>
[Collection("postgres")]
public sealed class PortalSiloRoutesTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static async Task<string> SessionAsync(SiloHost silo, string email)
    {
        var signer = await silo.Services.GetRequiredService<SigningKey>().GetAsync();
        return PersonAuth.IssueSession(signer, email, DateTimeOffset.UtcNow.AddHours(1));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(SiloHost silo, HttpMethod method, string url, string? session, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        if (session is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        }
        var response = await silo.Http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task A_second_person_can_neither_see_nor_change_the_first_ones_subscription_nor_see_their_sent_mail()
    {
        await using var silo = await SiloHost.StartAsync(null, "--Portal:BaseUrl=https://portal.test");
        string ann = await SessionAsync(silo, "ann@example.org");
        string bob = await SessionAsync(silo, "bob@example.org");

        var (created, sub) = await SendAsync(silo, HttpMethod.Post, "/api/subscriptions", ann,
            new { kind = "regression", @params = new { channel = "nightly", metric = "GC_*" }, delivery = "immediate" });
        Assert.Equal(HttpStatusCode.Created, created);
        long id = sub.GetProperty("id").GetInt64();

        // Bob: someone else's id is exactly like an unknown one.
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(silo, HttpMethod.Get, $"/api/subscriptions/{id}", bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(silo, HttpMethod.Put, $"/api/subscriptions/{id}", bob,
            new { kind = "regression", @params = new { channel = "nightly", metric = "*" }, paused = true })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(silo, HttpMethod.Delete, $"/api/subscriptions/{id}", bob)).Status);
        Assert.Empty((await SendAsync(silo, HttpMethod.Get, "/api/subscriptions", bob)).Body.GetProperty("subscriptions").EnumerateArray());

        // Ann's subscription is as she made it.
        var (_, mine) = await SendAsync(silo, HttpMethod.Get, $"/api/subscriptions/{id}", ann);
        Assert.Equal("GC_*", mine.GetProperty("params").GetProperty("metric").GetString());
        Assert.False(mine.GetProperty("paused").GetBoolean());

        // An alert her subscription matches is mailed to her; a probe owner's alert is mailed to Bob.
        var publisher = silo.Services.GetRequiredService<IAlertPublisher>();
        var forAnn = await publisher.PublishAsync(new AlertDraft(AlertKinds.Regression, "regression:nightly:GC_MS:20261120:default",
            "GC_MS regressed on nightly", "Median up 40%", new AlertTarget("nightly", "GC_MS", "default", new DateOnly(2026, 11, 20), 3.5), []), default);
        var forBob = await publisher.PublishAsync(new AlertDraft(AlertKinds.Expiry, "expiry:TAB_COUNT:2026-12-01",
            "TAB_COUNT expires soon", "In 6 weeks", new AlertTarget(Subject: "TAB_COUNT"), ["bob@example.org"]), default);
        Assert.Equal(1, forAnn.MailsQueued);
        Assert.Equal(1, forBob.MailsQueued);

        var (annStatus, annSent) = await SendAsync(silo, HttpMethod.Get, "/api/subscriptions/sent", ann);
        Assert.Equal(HttpStatusCode.OK, annStatus);
        var message = Assert.Single(annSent.GetProperty("messages").EnumerateArray());
        Assert.Equal("GC_MS regressed on nightly", message.GetProperty("subject").GetString());
        Assert.Equal("regression", message.GetProperty("kind").GetString());
        Assert.Equal(forAnn.Alert.Id, message.GetProperty("alert_id").GetInt64());
        Assert.Equal($"https://portal.test/alerts/{forAnn.Alert.Id}", message.GetProperty("alert_url").GetString());

        var (_, bobSent) = await SendAsync(silo, HttpMethod.Get, "/api/subscriptions/sent", bob);
        var bobs = Assert.Single(bobSent.GetProperty("messages").EnumerateArray());
        Assert.Equal(forBob.Alert.Id, bobs.GetProperty("alert_id").GetInt64());
        Assert.DoesNotContain(bobSent.GetProperty("messages").EnumerateArray(), m => m.GetProperty("subject").GetString()!.Contains("GC_MS", StringComparison.Ordinal));

        // Console mode sends it: the state and the send time follow.
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var (_, again) = await SendAsync(silo, HttpMethod.Get, "/api/subscriptions/sent", ann);
            var m = again.GetProperty("messages")[0];
            return m.GetProperty("state").GetString() == "sent" && m.GetProperty("sent_at").ValueKind == JsonValueKind.String;
        }, Wait), "ann's mail was not sent");

        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(silo, HttpMethod.Get, "/api/subscriptions/sent", session: null)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(silo, HttpMethod.Get, "/api/subscriptions/sent?limit=0", ann)).Status);
    }

    [Fact]
    public async Task The_issue_list_has_events_per_day_oldest_first_and_a_comment_keeps_the_state()
    {
        await using var silo = await SiloHost.StartAsync();
        var now = DateTimeOffset.UtcNow;
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("a1", "checkout:TypeError", "TypeError: cart", now.AddDays(-2)));
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("a2", "checkout:TypeError", "TypeError: cart", now));
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("a3", "checkout:TypeError", "TypeError: cart", now));
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("b1", "search:RangeError", "RangeError", now.AddDays(-6)));

        using var list = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/issues?days=7"));
        var issues = list.RootElement.GetProperty("issues").EnumerateArray().ToList();
        Assert.Equal(["checkout:TypeError", "search:RangeError"], issues.Select(i => i.GetProperty("fingerprint").GetString()));
        Assert.Equal([0L, 0, 0, 0, 1, 0, 2], issues[0].GetProperty("daily_events").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([1L, 0, 0, 0, 0, 0, 0], issues[1].GetProperty("daily_events").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(3, issues[0].GetProperty("events").GetInt64());
        Assert.Equal(14, JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/issues?days=14")).RootElement
            .GetProperty("issues")[0].GetProperty("daily_events").GetArrayLength());

        string carl = await SessionAsync(silo, "carl@example.org");
        var (empty, _) = await SendAsync(silo, HttpMethod.Post, "/api/sentry/issues/default/checkout%3ATypeError/actions", carl, new { action = "comment", comment = " " });
        Assert.Equal(HttpStatusCode.BadRequest, empty);
        var (ok, issue) = await SendAsync(silo, HttpMethod.Post, "/api/sentry/issues/default/checkout%3ATypeError/actions", carl, new { action = "comment", comment = "bug 1890001" });
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("unresolved", issue.GetProperty("state").GetString());
        var entry = Assert.Single(issue.GetProperty("history").EnumerateArray());
        Assert.Equal(("comment", "carl@example.org", "bug 1890001"),
            (entry.GetProperty("action").GetString(), entry.GetProperty("by").GetString(), entry.GetProperty("comment").GetString()));
    }

    [Fact]
    public async Task ListForRecipientAsync_gives_one_persons_rows_newest_first_in_memory_and_in_PostgreSQL()
    {
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        await using var postgres = new PostgresOutboxStore(cs, TimeProvider.System);
        await CheckListForRecipientAsync(postgres);
        await CheckListForRecipientAsync(new MemoryOutboxStore(TimeProvider.System));
    }

    private static async Task CheckListForRecipientAsync(IOutboxStore store)
    {
        var mails = new[]
        {
            Mail("alert:1", "ann@example.org"),
            Mail("alert:2", "bob@example.org"),
            Mail("alert:3", "Ann@Example.org"),
            Mail("digest:2026-12-01T08:3", "ann@example.org", forDigest: true),
            Mail("alert:4", "bob@example.org"),
        };
        await store.EnqueueAsync(mails, default);

        var ann = await store.ListForRecipientAsync("ANN@example.org", 10, default);
        Assert.Equal(["digest:2026-12-01T08:3", "alert:3", "alert:1"], ann.Select(r => r.AlertKey));
        Assert.All(ann, r => Assert.Equal("ann@example.org", r.Recipient));
        Assert.Equal([OutboxState.Folded, OutboxState.Pending, OutboxState.Pending], ann.Select(r => r.State));
        Assert.Equal(["digest:2026-12-01T08:3", "alert:3"], (await store.ListForRecipientAsync("ann@example.org", 2, default)).Select(r => r.AlertKey));
        Assert.Equal(["alert:4", "alert:2"], (await store.ListForRecipientAsync("bob@example.org", 10, default)).Select(r => r.AlertKey));
        Assert.Empty(await store.ListForRecipientAsync("carl@example.org", 10, default));
    }

    private static OutboxMail Mail(string key, string recipient, bool forDigest = false) =>
        new(key, recipient, MailKinds.Regression, $"Subject of {key}", "Body", ForDigest: forDigest);
}
