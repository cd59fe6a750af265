using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Grains.Alerts;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Sentry;

namespace Telemetry.Tests.Portal;

/// <summary>
/// The real portal process reading a real silo's HTTP API: the errors list, an issue's page and an alert's
/// page render what the silo holds (the services read the silo's actual JSON), and subscriptions ask for sign-in.
/// </summary>
public sealed class ErrorsPortalWithSiloTests
{
    [Fact]
    public async Task Errors_issue_and_alert_pages_show_what_the_silo_holds()
    {
        await using var silo = await SiloHost.StartAsync(null, "--Sentry:EvaluationMinutes=600");
        var now = DateTimeOffset.UtcNow;
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("p1", "login:TypeError", "TypeError: user is undefined", now, user: "u1"));
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("p2", "login:TypeError", "TypeError: user is undefined", now, user: "u2"));
        await SentryMailTests.PostEventAsync(silo, SentryMailTests.EventJson("p3", "search:RangeError", "RangeError: too deep", now.AddDays(-1)));
        var alert = await silo.Services.GetRequiredService<IAlertPublisher>().PublishAsync(new AlertDraft(AlertKinds.Regression, "regression:nightly:GC_MS:20261120:portal",
            "GC_MS regressed on nightly", "Median up 40%", new AlertTarget("nightly", "GC_MS", "cerberus", new DateOnly(2026, 11, 20), 3.5), [],
            DetailsJson: """{"median_change_pct":40}"""), default);

        int port = TestPaths.FreePort();
        var psi = PortalProcess.StartInfo($"http://127.0.0.1:{port}", silo);
        using var portal = Process.Start(psi)!;
        portal.BeginOutputReadLine();
        portal.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(15) };
            string list = "";
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                try
                {
                    list = await http.GetStringAsync("/errors");
                    return list.Contains("TypeError: user is undefined", StringComparison.Ordinal);
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(45)), "the errors page never listed the issue: " + (list.Length > 3000 ? list[..3000] : list));
            // Ranked by events: the two-event issue first, each with its sparkline.
            Assert.True(list.IndexOf("login:TypeError", StringComparison.Ordinal) < list.IndexOf("search:RangeError", StringComparison.Ordinal));
            Assert.Contains("href=\"/errors/default/login%3ATypeError\"", list, StringComparison.Ordinal);
            Assert.Equal(2, CountOf(list, "data-testid=\"issue-sparkline\""));

            string issue = await http.GetStringAsync("/errors/default/login%3ATypeError");
            Assert.Contains("at inner(lib.js:20:2)", issue, StringComparison.Ordinal);
            Assert.Contains("Sign in</a> to resolve", issue, StringComparison.Ordinal);

            string page = await http.GetStringAsync($"/alerts/{alert.Alert.Id}");
            Assert.Contains("GC_MS regressed on nightly", page, StringComparison.Ordinal);
            Assert.Contains("cerberus", page, StringComparison.Ordinal);
            Assert.Contains("&quot;median_change_pct&quot;: 40", page, StringComparison.Ordinal);
            Assert.Contains("No alert 987654", await http.GetStringAsync("/alerts/987654"), StringComparison.Ordinal);

            var subscriptions = await http.GetAsync("/subscriptions");
            Assert.Equal(HttpStatusCode.Redirect, subscriptions.StatusCode);
            Assert.StartsWith("/signin", subscriptions.Headers.Location!.ToString().Replace($"http://127.0.0.1:{port}", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
        }
    }

    private static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }
}
