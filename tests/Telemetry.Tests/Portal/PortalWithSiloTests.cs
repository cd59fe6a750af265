using System.Diagnostics;
using System.Net;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal;

/// <summary>The real portal process joined to a real silo: the overview shows what was ingested.</summary>
public sealed class PortalWithSiloTests
{
    [Fact]
    public async Task Overview_shows_accepted_and_rejected_pings_and_the_channel_from_the_cluster()
    {
        await using var silo = await SiloHost.StartAsync();
        var body = SiloHost.Gzip(await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json")));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await silo.SubmitAsync($"portal-{i}/idle-daily/Firefox/23.0.1/release/20130814063812", body)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync("portal-bad/idle-daily/Firefox/23.0.1/release/20130814063812", "not json"u8.ToArray())).StatusCode);

        int port = TestPaths.FreePort();
        var psi = PortalProcess.StartInfo($"http://127.0.0.1:{port}", silo);
        using var portal = Process.Start(psi)!;
        portal.BeginOutputReadLine();
        portal.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(15) };
            string html = "";
            bool shown = await TestPaths.EventuallyAsync(async () =>
            {
                try
                {
                    html = await http.GetStringAsync("/");
                    // Counters reach the stats grain every 2 s; the page then shows them.
                    return html.Contains("release") && html.Contains("bad_json") && html.Contains("23");
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(45));
            Assert.True(shown, "the overview never showed the ingested pings: " + (html.Length > 3000 ? html[..3000] : html));
            Assert.DoesNotContain("Cluster unavailable", html);
            var css = await http.GetAsync("/_content/MudBlazor/MudBlazor.min.css");
            Assert.Equal(HttpStatusCode.OK, css.StatusCode);
        }
        finally
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
        }
    }
}
