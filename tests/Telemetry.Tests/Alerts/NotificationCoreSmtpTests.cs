using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Grains.Alerts;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Notifications;

namespace Telemetry.Tests.Alerts;

/// <summary>
/// The notification core through a real silo and a real SMTP catcher (maildev on loopback): sign-in by
/// mailed link, per-person subscriptions, an alert mailed to its owners and matching subscribers only,
/// the one-click unsubscribe of a mail, and the lifecycle actions of signed-in people.
/// </summary>
public sealed partial class NotificationCoreSmtpTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<SiloHost> StartSiloAsync(MaildevServer smtp, params string[] more) =>
        SiloHost.StartAsync(null, [.. smtp.SiloArgs, "--Notifications:PollInterval=00:00:00.100", "--Portal:BaseUrl=https://portal.test", .. more]);

    /// <summary>Asks for a sign-in link, reads it from the mail, exchanges it: the session token.</summary>
    private static async Task<string> SignInAsync(SiloHost silo, MaildevServer smtp, string email)
    {
        string token = await RequestLinkAsync(silo, smtp, email);
        var response = await silo.Http.PostAsJsonAsync("/api/auth/token", new { token });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(email.ToLowerInvariant(), doc.RootElement.GetProperty("email").GetString());
        return doc.RootElement.GetProperty("access_token").GetString()!;
    }

    private static async Task<string> RequestLinkAsync(SiloHost silo, MaildevServer smtp, string email)
    {
        int before = (await smtp.GetMailsAsync()).Count(m => m.To.Contains(email.ToLowerInvariant()));
        var response = await silo.Http.PostAsJsonAsync("/api/auth/link", new { email });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        CaughtMail? mail = null;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
            (mail = (await smtp.GetMailsAsync()).Where(m => m.To.Contains(email.ToLowerInvariant()) && m.Subject == "Your Telemetry sign-in link").Skip(before).FirstOrDefault()) is not null, Wait));
        var match = SignInLink().Match(mail!.Text);
        Assert.True(match.Success, mail.Text);
        return Uri.UnescapeDataString(match.Groups[1].Value);
    }

    private static HttpRequestMessage As(string session, HttpMethod method, string url, object? body = null)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", session);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }
        return request;
    }

    [Fact]
    public async Task A_mailed_sign_in_link_works_once_and_gives_an_API_session()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await StartSiloAsync(smtp, "--Auth:LinksPerAddressPerHour=2");

        string link = await RequestLinkAsync(silo, smtp, "Ann@Example.org");
        var first = await silo.Http.PostAsJsonAsync("/api/auth/token", new { token = link });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        string session = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsJsonAsync("/api/auth/token", new { token = link })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsJsonAsync("/api/auth/token", new { token = link[..^2] + "xx" })).StatusCode);
        // The session is not a link token, and the link token is not a session.
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsJsonAsync("/api/auth/token", new { token = session })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.SendAsync(As(link, HttpMethod.Get, "/api/subscriptions"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.SendAsync(As(session, HttpMethod.Get, "/api/subscriptions"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.PostAsJsonAsync("/api/auth/link", new { email = "not an address" })).StatusCode);

        // Rate limit: the answer stays 202, the third link in the hour is not mailed.
        await RequestLinkAsync(silo, smtp, "ann@example.org");
        Assert.Equal(HttpStatusCode.Accepted, (await silo.Http.PostAsJsonAsync("/api/auth/link", new { email = "ann@example.org" })).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await smtp.GetMailsAsync()).Count(m => m.To.Contains("ann@example.org")));
    }

    [Fact]
    public async Task A_signed_in_administrator_may_use_the_admin_API_and_nobody_else_may()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await StartSiloAsync(smtp, "--Portal:AdminEmails:0=Boss@Example.org");
        string boss = await SignInAsync(silo, smtp, "boss@example.org");
        string ann = await SignInAsync(silo, smtp, "ann@example.org");
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.SendAsync(As(boss, HttpMethod.Get, "/api/outbox?state=sent"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await silo.Http.SendAsync(As(ann, HttpMethod.Get, "/api/outbox?state=sent"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.GetAsync("/api/outbox")).StatusCode);
    }

    [Fact]
    public async Task A_user_cannot_read_or_change_another_users_subscriptions()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await StartSiloAsync(smtp);
        string ann = await SignInAsync(silo, smtp, "ann@example.org");
        string bob = await SignInAsync(silo, smtp, "bob@example.org");

        var created = await silo.Http.SendAsync(As(ann, HttpMethod.Post, "/api/subscriptions",
            new { kind = "regression", @params = new { channel = "nightly", metric = "GC_*", min_score = 0.2 }, delivery = "digest", digest_hour = 7 }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var s = await created.Content.ReadFromJsonAsync<JsonElement>();
        long id = s.GetProperty("id").GetInt64();
        Assert.Equal(("regression", "GC_*", "digest", 7, false), (s.GetProperty("kind").GetString(), s.GetProperty("params").GetProperty("metric").GetString(),
            s.GetProperty("delivery").GetString(), s.GetProperty("digest_hour").GetInt32(), s.GetProperty("paused").GetBoolean()));

        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.SendAsync(As(bob, HttpMethod.Get, $"/api/subscriptions/{id}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.SendAsync(As(bob, HttpMethod.Put, $"/api/subscriptions/{id}",
            new { kind = "regression", @params = new { channel = "nightly", metric = "*" }, paused = true }))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.SendAsync(As(bob, HttpMethod.Delete, $"/api/subscriptions/{id}"))).StatusCode);
        var bobs = await (await silo.Http.SendAsync(As(bob, HttpMethod.Get, "/api/subscriptions"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, bobs.GetProperty("subscriptions").GetArrayLength());
        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.GetAsync("/api/subscriptions")).StatusCode);

        // Ann's is untouched, and she can change and delete it.
        var anns = await (await silo.Http.SendAsync(As(ann, HttpMethod.Get, "/api/subscriptions"))).Content.ReadFromJsonAsync<JsonElement>();
        var only = Assert.Single(anns.GetProperty("subscriptions").EnumerateArray());
        Assert.Equal("GC_*", only.GetProperty("params").GetProperty("metric").GetString());
        Assert.False(only.GetProperty("paused").GetBoolean());
        var put = await silo.Http.SendAsync(As(ann, HttpMethod.Put, $"/api/subscriptions/{id}",
            new { kind = "regression", @params = new { channel = "nightly", metric = "CC_*" }, delivery = "immediate" }));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("CC_*", (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("params").GetProperty("metric").GetString());

        var bad = await silo.Http.SendAsync(As(ann, HttpMethod.Post, "/api/subscriptions", new { kind = "crash_rate", @params = new { channel = "release" } }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("threshold", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await silo.Http.SendAsync(As(ann, HttpMethod.Delete, $"/api/subscriptions/{id}"))).StatusCode);
    }

    [Fact]
    public async Task An_alert_is_mailed_to_its_owners_and_matching_subscribers_only_and_unsubscribe_stops_the_next()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await StartSiloAsync(smtp);
        string fan = await SignInAsync(silo, smtp, "fan@example.org");
        string other = await SignInAsync(silo, smtp, "other@example.org");
        await silo.Http.SendAsync(As(fan, HttpMethod.Post, "/api/subscriptions", new { kind = "regression", @params = new { channel = "nightly", metric = "GC_*" } }));
        await silo.Http.SendAsync(As(other, HttpMethod.Post, "/api/subscriptions", new { kind = "regression", @params = new { channel = "beta", metric = "GC_*" } }));
        int signInMails = (await smtp.GetMailsAsync()).Count;

        var publisher = silo.Services.GetRequiredService<IAlertPublisher>();
        var result = await publisher.PublishAsync(Draft("GC_MS"), default);
        Assert.True(result.Created);
        var mails = (await smtp.WaitForMailsAsync(signInMails + 2, Wait)).Skip(signInMails).ToList();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(signInMails + 2, (await smtp.GetMailsAsync()).Count);
        Assert.Equal(["fan@example.org", "gc-owner@example.org"], mails.SelectMany(m => m.To).Order());
        Assert.All(mails, m => Assert.Equal("GC_MS regressed on nightly 20261120", m.Subject));
        Assert.All(mails, m => Assert.Contains($"https://portal.test/alerts/{result.Alert.Id}", m.Text, StringComparison.Ordinal));

        // The fan's mail unsubscribes from the subscription, in the header and in the text alike.
        var fanMail = mails.Single(m => m.To.Contains("fan@example.org"));
        string header = OutboxSmtpTests.Headers(await smtp.GetSourceAsync(fanMail.Id))["List-Unsubscribe"];
        string link = header.Trim('<', '>');
        Assert.Contains(link, fanMail.Text.Replace("=\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.StartsWith(silo.BaseUrl + "/unsubscribe?token=", link, StringComparison.Ordinal);
        var page = await silo.Http.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("paused", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var subs = await (await silo.Http.SendAsync(As(fan, HttpMethod.Get, "/api/subscriptions"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(subs.GetProperty("subscriptions")[0].GetProperty("paused").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync(link[..^3] + "abc")).StatusCode);

        // The owner opts out of mail about GC_MS with the link of their mail (the one-click POST of mail clients).
        var ownerMail = mails.Single(m => m.To.Contains("gc-owner@example.org"));
        string ownerLink = OutboxSmtpTests.Headers(await smtp.GetSourceAsync(ownerMail.Id))["List-Unsubscribe"].Trim('<', '>');
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.PostAsync(ownerLink, new StringContent("List-Unsubscribe=One-Click"))).StatusCode);

        await publisher.PublishAsync(Draft("GC_MS", "20261121"), default);
        var third = await publisher.PublishAsync(Draft("GC_OTHER", "20261121"), default);
        // GC_OTHER still reaches its owner (the opt-out was for GC_MS); nobody else hears of either.
        var after = (await smtp.WaitForMailsAsync(signInMails + 3, Wait)).Skip(signInMails + 2).ToList();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(signInMails + 3, (await smtp.GetMailsAsync()).Count);
        Assert.Equal("GC_OTHER regressed on nightly 20261121", Assert.Single(after).Subject);
        Assert.Equal(2, third.Alert.Id - result.Alert.Id);
    }

    [Fact]
    public async Task Signed_in_people_act_on_alerts_and_a_resolved_alert_that_fires_again_is_mailed_as_regressed()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await StartSiloAsync(smtp);
        string ann = await SignInAsync(silo, smtp, "ann@example.org");
        var publisher = silo.Services.GetRequiredService<IAlertPublisher>();
        var alert = (await publisher.PublishAsync(Draft("GC_MS"), default)).Alert;
        await smtp.WaitForMailsAsync(2, Wait);

        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsJsonAsync($"/api/alerts/{alert.Id}/actions", new { action = "acknowledge" })).StatusCode);
        var ack = await silo.Http.SendAsync(As(ann, HttpMethod.Post, $"/api/alerts/{alert.Id}/actions", new { action = "acknowledge", comment = "looking into it" }));
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);
        Assert.Equal("acknowledged", (await ack.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await silo.Http.SendAsync(As(ann, HttpMethod.Post, $"/api/alerts/{alert.Id}/actions", new { action = "acknowledge" }))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.SendAsync(As(ann, HttpMethod.Post, $"/api/alerts/{alert.Id}/actions", new { action = "snooze" }))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await silo.Http.SendAsync(As(ann, HttpMethod.Post, "/api/alerts/999999/actions", new { action = "resolve" }))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await silo.Http.SendAsync(As(ann, HttpMethod.Post, $"/api/alerts/{alert.Id}/actions",
            new { action = "resolve", comment = "fixed by the GC patch", bug = "https://bugzilla.mozilla.org/1234" }))).StatusCode);

        var detail = await silo.Http.GetFromJsonAsync<JsonElement>($"/api/alerts/{alert.Id}");
        Assert.Equal("resolved", detail.GetProperty("state").GetString());
        var history = detail.GetProperty("history").EnumerateArray().Select(h => (h.GetProperty("action").GetString(), h.GetProperty("by").GetString())).ToList();
        Assert.Equal([("created", "system"), ("acknowledge", "ann@example.org"), ("resolve", "ann@example.org")], history);
        Assert.Equal("https://bugzilla.mozilla.org/1234", detail.GetProperty("history")[2].GetProperty("bug").GetString());
        Assert.Equal("higher", detail.GetProperty("details").GetProperty("direction").GetString());
        var listed = await silo.Http.GetFromJsonAsync<JsonElement>("/api/alerts?kind=regression&state=resolved");
        Assert.Equal(alert.Id, Assert.Single(listed.GetProperty("alerts").EnumerateArray()).GetProperty("id").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync("/api/alerts?state=closed")).StatusCode);

        var again = await publisher.PublishAsync(Draft("GC_MS"), default);
        Assert.True(again.Reopened);
        var mails = await smtp.WaitForMailsAsync(3, Wait);
        Assert.Equal("[regressed] GC_MS regressed on nightly 20261120", mails.Last(m => m.To.Contains("gc-owner@example.org")).Subject);
    }

    private static AlertDraft Draft(string metric, string buildDate = "20261120") =>
        new(AlertKinds.Regression, $"regression:nightly:{metric}:{buildDate}:default", $"{metric} regressed on nightly {buildDate}",
            $"{metric} moved to higher values.",
            new AlertTarget("nightly", metric, "default", DateOnly.ParseExact(buildDate, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture), 0.4),
            [metric == "GC_MS" ? "gc-owner@example.org" : "other-owner@example.org"], """{"direction":"higher"}""");

    [GeneratedRegex(@"signin\?token=([A-Za-z0-9_\-\.%]+)")]
    private static partial Regex SignInLink();
}
