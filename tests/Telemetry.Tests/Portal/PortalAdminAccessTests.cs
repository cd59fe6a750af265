using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal;

/// <summary>
/// The real portal process, signed in by a mailed link: an administrator opens the admin pages with what the
/// silo holds, a signed-in non-administrator is told the page is for administrators (not bounced to sign-in),
/// and an anonymous visitor is sent to sign in.
/// </summary>
public sealed partial class PortalAdminAccessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task Admin_pages_open_for_administrators_and_say_why_they_do_not_for_others()
    {
        await using var smtp = await MaildevServer.StartAsync();
        int port = TestPaths.FreePort();
        string portalUrl = $"http://127.0.0.1:{port}";
        await using var silo = await SiloHost.StartAsync(null,
            [.. smtp.SiloArgs, "--Notifications:PollInterval=00:00:00.100", $"--Portal:BaseUrl={portalUrl}", "--Portal:AdminEmails:0=ada@example.org"]);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync("access-bad/main/Firefox/57.0/release/20171101000000", "nope"u8.ToArray())).StatusCode);

        using var portal = StartPortal(port, silo);
        try
        {
            using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(portalUrl), Timeout = TimeSpan.FromSeconds(20) };
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                try
                {
                    return (await anonymous.GetAsync("/")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, Wait), "the portal did not start");
            var redirect = await anonymous.GetAsync("/admin/rejects");
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal("/signin?return=%2Fadmin%2Frejects", redirect.Headers.Location!.PathAndQuery);

            using var ada = await SignedInAsync(portalUrl, silo, smtp, "ada@example.org");
            string rejects = "";
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                rejects = await ada.GetStringAsync("/admin/rejects");
                return rejects.Contains("access-bad/main/Firefox/57.0/release/20171101000000");
            }, Wait), "the rejects page never showed the rejected ping: " + Excerpt(rejects));
            Assert.Contains("bad_json", rejects);
            Assert.Contains("No failed mail", await ada.GetStringAsync("/admin/outbox"));
            Assert.Contains("href=\"/admin\"", await ada.GetStringAsync("/"));

            using var bob = await SignedInAsync(portalUrl, silo, smtp, "bob@example.org");
            var denied = await bob.GetAsync("/admin/outbox");
            Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
            string deniedHtml = await denied.Content.ReadAsStringAsync();
            Assert.Contains("This page is for administrators", deniedHtml);
            Assert.DoesNotContain("No failed mail", deniedHtml);
            Assert.DoesNotContain("href=\"/admin\"", await bob.GetStringAsync("/"));
        }
        finally
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
        }
    }

    /// <summary>Asks the silo for a link, reads it from the caught mail and opens it in the portal: a client carrying the session cookie.</summary>
    private static async Task<HttpClient> SignedInAsync(string portalUrl, SiloHost silo, MaildevServer smtp, string email)
    {
        int before = (await smtp.GetMailsAsync()).Count(m => m.To.Contains(email));
        Assert.Equal(HttpStatusCode.Accepted, (await silo.Http.PostAsJsonAsync("/api/auth/link", new { email })).StatusCode);
        CaughtMail? mail = null;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
            (mail = (await smtp.GetMailsAsync()).Where(m => m.To.Contains(email)).Skip(before).FirstOrDefault()) is not null, Wait), "no sign-in mail");
        var link = SignInLink().Match(mail!.Text);
        Assert.True(link.Success, mail.Text);
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri(portalUrl),
            Timeout = TimeSpan.FromSeconds(20),
        };
        var signedIn = await client.GetAsync("/signin?token=" + link.Groups[1].Value);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location!.OriginalString);
        return client;
    }

    private static Process StartPortal(int port, SiloHost silo)
    {
        var psi = PortalProcess.StartInfo($"http://127.0.0.1:{port}", silo, "--Portal:AdminEmails:0=ada@example.org");
        var portal = Process.Start(psi)!;
        portal.BeginOutputReadLine();
        portal.BeginErrorReadLine();
        return portal;
    }

    private static string Excerpt(string html) => html.Length > 2000 ? html[..2000] : html;

    [GeneratedRegex(@"signin\?token=([A-Za-z0-9_\-\.%]+)")]
    private static partial Regex SignInLink();
}
