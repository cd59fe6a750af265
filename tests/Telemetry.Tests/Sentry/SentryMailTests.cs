using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Grains.Alerts;
using Telemetry.Silo.Alerts;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Sentry;

/// <summary>
/// End to end through a real silo: events posted to the webhook, a rule that fires mailed over SMTP (maildev on
/// loopback) with the mail content of docs/sentry.md; a dry run sends and records nothing; a muted issue notifies
/// no one; in PostgreSQL mode counts, redelivery checks and who was told survive a restart.
/// </summary>
[Collection("postgres")]
public sealed class SentryMailTests(PostgresFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    internal static string EventJson(string id, string fingerprint, string message, DateTimeOffset at, string? groupId = null, string? user = null, string project = "default") =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["eventID"] = id,
            ["dateReceived"] = at.ToString("O"),
            ["groupID"] = groupId,
            ["fingerprints"] = fingerprint.Split(':'),
            ["message"] = message,
            ["project"] = project,
            ["user"] = user is null ? null : new { id = user },
            ["entries"] = new object[]
            {
                new { type = "breadcrumbs", data = new { values = Array.Empty<object>() } },
                new
                {
                    type = "exception",
                    data = new
                    {
                        values = new[]
                        {
                            new
                            {
                                module = "app",
                                stacktrace = new { frames = new[] { new { function = "outer", module = "app.js", lineNo = 10, colNo = 1 }, new { function = "inner", module = "lib.js", lineNo = 20, colNo = 2 } } },
                            },
                        },
                    },
                },
            },
        });

    internal static async Task<JsonElement> PostEventAsync(SiloHost silo, string json, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await silo.Http.PostAsync("/api/sentry/events", new StringContent(json, Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> AdminPostAsync(SiloHost silo, string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        var response = await silo.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<string> SessionAsync(SiloHost silo, string email)
    {
        var signer = await silo.Services.GetRequiredService<SigningKey>().GetAsync();
        return PersonAuth.IssueSession(signer, email, DateTimeOffset.UtcNow.AddHours(1));
    }

    private static async Task SubscribeAsync(SiloHost silo, string email, object parameters)
    {
        // Through the API, as a person would.
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/subscriptions")
        {
            Content = JsonContent.Create(new { kind = "sentry", @params = parameters, delivery = "immediate" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await SessionAsync(silo, email));
        var response = await silo.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_new_issue_is_mailed_once_with_stack_counts_and_links_a_dry_run_sends_nothing_and_a_muted_issue_nobody()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await SiloHost.StartAsync(null,
        [
            .. smtp.SiloArgs,
            "--Notifications:Mode=smtp",
            "--Notifications:PollInterval=00:00:00.100",
            "--Portal:BaseUrl=https://portal.test",
            "--Sentry:IssueUrlTemplate=https://sentry.test/org/proj/issues/{groupId}/",
            "--Sentry:EvaluationMinutes=600",
        ]);
        await SubscribeAsync(silo, "ann@example.org", new { project = "default", rules = new[] { "new-issue" } });
        await SubscribeAsync(silo, "bob@example.org", new { project = "other", rules = new[] { "new-issue" } });
        var now = DateTimeOffset.UtcNow;
        Assert.True((await PostEventAsync(silo, EventJson("e1", "login:TypeError", "TypeError: user is undefined", now, groupId: "77", user: "u1"))).GetProperty("recorded").GetBoolean());
        Assert.False((await PostEventAsync(silo, EventJson("e1", "login:TypeError", "TypeError: user is undefined", now, groupId: "77", user: "u1"))).GetProperty("recorded").GetBoolean());
        await PostEventAsync(silo, EventJson("e2", "login:TypeError", "TypeError: user is undefined", now, groupId: "77", user: "u2"));
        await PostEventAsync(silo, EventJson("m1", "noise", "ResizeObserver loop limit exceeded", now));

        // Someone mutes the noisy issue through the API; it is recorded with who and when.
        var mute = new HttpRequestMessage(HttpMethod.Post, "/api/sentry/issues/default/noise/actions") { Content = JsonContent.Create(new { action = "mute", comment = "browser noise" }) };
        mute.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await SessionAsync(silo, "carl@example.org"));
        var muted = await silo.Http.SendAsync(mute);
        Assert.Equal(HttpStatusCode.OK, muted.StatusCode);
        var mutedIssue = JsonDocument.Parse(await muted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("muted", mutedIssue.GetProperty("state").GetString());
        Assert.Equal("carl@example.org", mutedIssue.GetProperty("history")[0].GetProperty("by").GetString());

        // A dry run shows what would be sent, and records and sends nothing.
        var dry = await AdminPostAsync(silo, "/api/sentry/evaluate?dry_run=true");
        Assert.True(dry.GetProperty("dry_run").GetBoolean());
        var wouldSend = Assert.Single(dry.GetProperty("alerts").EnumerateArray());
        Assert.Equal(("new-issue", "login:TypeError", "ann@example.org"),
            (wouldSend.GetProperty("rule").GetString(), wouldSend.GetProperty("fingerprint").GetString(), wouldSend.GetProperty("recipients")[0].GetString()));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Empty(await smtp.GetMailsAsync());
        Assert.Empty(await silo.Services.GetRequiredService<IAlertReader>().ListAsync(new AlertQuery(Kind: AlertKinds.Sentry), default));

        var real = await AdminPostAsync(silo, "/api/sentry/evaluate?dry_run=false");
        Assert.Single(real.GetProperty("alerts").EnumerateArray());
        var mail = Assert.Single(await smtp.WaitForMailsAsync(1, Wait));
        Assert.Equal(["ann@example.org"], mail.To);
        Assert.Equal("[Errors] New issue: TypeError: user is undefined", mail.Subject);
        Assert.Contains("    at inner(lib.js:20:2)\n    at outer(app.js:10:1)", mail.Text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("Events: 2 today, 2 in the last 7 days", mail.Text, StringComparison.Ordinal);
        Assert.Contains("Users: 2 today, 2 in the last 7 days", mail.Text, StringComparison.Ordinal);
        Assert.Contains("https://portal.test/errors/default/login%3ATypeError", mail.Text, StringComparison.Ordinal);
        Assert.Contains("https://sentry.test/org/proj/issues/77/", mail.Text, StringComparison.Ordinal);

        // Another round and another event: nobody is told twice about a new issue.
        await PostEventAsync(silo, EventJson("e3", "login:TypeError", "TypeError: user is undefined", now));
        Assert.Empty((await AdminPostAsync(silo, "/api/sentry/evaluate")).GetProperty("alerts").EnumerateArray());
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(await smtp.GetMailsAsync());

        using var issue = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/issues/default/login%3ATypeError"));
        var alert = Assert.Single(issue.RootElement.GetProperty("alerts").EnumerateArray());
        Assert.Equal(("new-issue", "ann@example.org"), (alert.GetProperty("rule").GetString(), alert.GetProperty("recipients")[0].GetString()));
        Assert.Equal(3, issue.RootElement.GetProperty("events").GetInt64());
        Assert.Equal("77", issue.RootElement.GetProperty("group_id").GetString());
        using var status = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/sentry/evaluator"));
        Assert.False(status.RootElement.GetProperty("stalled").GetBoolean());
        Assert.Contains("alerts_evaluations_total", await silo.Http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_event_is_a_400_with_its_reason_kept_for_admins_and_the_next_event_is_recorded()
    {
        await using var silo = await SiloHost.StartAsync();
        var bad = await PostEventAsync(silo, "{\"eventID\":\"x\",\"dateReceived\":\"2026-11-30T10:00:00Z\",\"fingerprints\":\"not-a-list\",\"message\":\"m\"}", HttpStatusCode.BadRequest);
        Assert.Equal("bad_fingerprints", bad.GetProperty("reason").GetString());
        await PostEventAsync(silo, "not json at all", HttpStatusCode.BadRequest);
        Assert.True((await PostEventAsync(silo, EventJson("ok", "fine", "Error: fine", DateTimeOffset.UtcNow))).GetProperty("recorded").GetBoolean());

        var unauthorised = await silo.Http.GetAsync("/api/sentry/dead-letters");
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorised.StatusCode);
        using var letters = JsonDocument.Parse(await (await silo.GetAsync("/api/sentry/dead-letters", SiloHost.AdminToken)).Content.ReadAsStringAsync());
        Assert.Equal(["not_json", "bad_fingerprints"], letters.RootElement.GetProperty("dead_letters").EnumerateArray().Select(l => l.GetProperty("reason").GetString()));
        Assert.All(letters.RootElement.GetProperty("dead_letters").EnumerateArray(), l => Assert.Equal("http", l.GetProperty("source").GetString()));
        Assert.Equal("not json at all", letters.RootElement.GetProperty("dead_letters")[0].GetProperty("body").GetString());
        Assert.Equal(1, letters.RootElement.GetProperty("counts").GetProperty("bad_fingerprints").GetInt64());
    }

    [Fact]
    public async Task In_PostgreSQL_mode_counts_redelivery_checks_and_who_was_told_survive_a_restart()
    {
        string cs = await fixture.Server.CreateDatabaseAsync();
        string[] args = ["--Sentry:Console=true", "--Sentry:EvaluationMinutes=600"];
        var now = DateTimeOffset.UtcNow;
        await using (var first = await SiloHost.StartAsync(cs, args))
        {
            await SubscribeAsync(first, "ann@example.org", new { project = "*", rules = new[] { "new-issue", "top-issue" }, top_min_events = 2 });
            for (int i = 0; i < 3; i++)
            {
                await PostEventAsync(first, EventJson($"e{i}", "checkout", "Error: payment failed", now.AddDays(-1), user: $"u{i}"));
            }
            await PostEventAsync(first, EventJson("today", "checkout", "Error: payment failed", now, user: "u0"));
            var fired = (await AdminPostAsync(first, "/api/sentry/evaluate")).GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("rule").GetString()).Order().ToList();
            Assert.Equal(["new-issue", "top-issue"], fired);
        }
        await using var second = await SiloHost.StartAsync(cs, args);
        Assert.False((await PostEventAsync(second, EventJson("e1", "checkout", "Error: payment failed", now.AddDays(-1)))).GetProperty("recorded").GetBoolean());
        await PostEventAsync(second, EventJson("later", "checkout", "Error: payment failed", now, user: "u9"));
        using var issue = JsonDocument.Parse(await second.Http.GetStringAsync("/api/sentry/issues/default/checkout?days=2"));
        var root = issue.RootElement;
        Assert.Equal((5L, 4L), (root.GetProperty("events").GetInt64(), root.GetProperty("users").GetInt64()));
        Assert.Equal([3L, 2L], root.GetProperty("days").EnumerateArray().Select(d => d.GetProperty("events").GetInt64()));
        Assert.Equal(2, root.GetProperty("alerts").GetArrayLength());
        // The issue changed again; both rules were told already: nothing new.
        Assert.Empty((await AdminPostAsync(second, "/api/sentry/evaluate")).GetProperty("alerts").EnumerateArray());
        var alerts = await second.Services.GetRequiredService<IAlertReader>().ListAsync(new AlertQuery(Kind: AlertKinds.Sentry), default);
        Assert.Equal(2, alerts.Count);
        Assert.All(alerts, a => Assert.False(a.Notify)); // Sentry:Console: recorded and logged, not mailed
    }
}
