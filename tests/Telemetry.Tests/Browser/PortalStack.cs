using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Regressions;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>The browser journeys share one stack; xunit runs the classes of a collection one after another.</summary>
[CollectionDefinition(Name)]
public sealed class PortalBrowserCollection : ICollectionFixture<PortalStack>
{
    public const string Name = "portal-browser";
}

/// <summary>
/// What a person reaches: maildev catching the silo's mail, a silo (Kestrel + Orleans, embedded mode) sending
/// sign-in links that point at the portal, and the portal's build output as its own process, an Orleans client
/// of that silo. All on free loopback ports; everything is stopped on dispose. Data is added on demand
/// (<see cref="RegressionIdAsync"/>, <see cref="Firefox23Async"/>) through the silo's public endpoints.
/// </summary>
public sealed partial class PortalStack : IAsyncLifetime
{
    public const string AdminEmail = "admin@example.org";
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _portalLog = new();
    private readonly SemaphoreSlim _seedLock = new(1, 1);
    private Process? _portal;
    private long? _regressionId;
    private bool _firefox23;

    public MaildevServer Mail { get; private set; } = null!;
    public SiloHost Silo { get; private set; } = null!;
    public string PortalUrl { get; private set; } = "";

    public string PortalLog
    {
        get
        {
            lock (_portalLog)
            {
                return _portalLog.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        Mail = await MaildevServer.StartAsync();
        int port = TestPaths.FreePort();
        PortalUrl = $"http://127.0.0.1:{port}";
        Silo = await SiloHost.StartAsync(null,
        [
            .. Mail.SiloArgs,
            "--Notifications:Mode=smtp",
            "--Notifications:PollInterval=00:00:00.100",
            $"--Portal:BaseUrl={PortalUrl}",
            $"--Portal:AdminEmails:0={AdminEmail}",
            // Regression detection runs only when asked for (RegressionIdAsync), not on a schedule.
            "--Regressions:CheckPeriod=1.00:00:00",
        ]);
        _portal = StartPortal(port);
        using var http = new HttpClient { BaseAddress = new Uri(PortalUrl), Timeout = TimeSpan.FromSeconds(20) };
        bool up = await TestPaths.EventuallyAsync(async () =>
        {
            if (_portal.HasExited)
            {
                return false;
            }
            try
            {
                return (await http.GetAsync("/signin")).StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, Wait);
        Assert.True(up, "the portal did not start:\n" + PortalLog);
    }

    private Process StartPortal(int port)
    {
        var psi = PortalProcess.StartInfo(PortalUrl, Silo,
            $"--Portal:Silo:ReadToken={SiloHost.ReadToken}", $"--Portal:AdminEmails:0={AdminEmail}", "--Logging:LogLevel:Default=Warning");
        var portal = new Process { StartInfo = psi };
        portal.OutputDataReceived += (_, e) => Log(e.Data);
        portal.ErrorDataReceived += (_, e) => Log(e.Data);
        portal.Start();
        portal.BeginOutputReadLine();
        portal.BeginErrorReadLine();
        return portal;
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_portalLog)
        {
            if (_portalLog.Length < 256 * 1024)
            {
                _portalLog.AppendLine(line);
            }
        }
    }

    /// <summary>A fresh browser context (one person), with the given colour scheme, a desktop-sized window and generous waits.</summary>
    public async Task<IPage> NewPersonAsync(IBrowser browser, ColorScheme scheme = ColorScheme.Light)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = PortalUrl,
            ColorScheme = scheme,
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
        });
        context.SetDefaultTimeout((float)Wait.TotalMilliseconds);
        return await context.NewPageAsync();
    }

    /// <summary>Opens a page and waits until it is live (the circuit handles clicks).</summary>
    public static async Task OpenAsync(IPage page, string url)
    {
        await page.GotoAsync(url);
        await LiveAsync(page);
    }

    public static Task LiveAsync(IPage page) =>
        page.Locator("#portal-interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    /// <summary>Signs a person in the way they would: the form on /signin, the link from the mail, opened in the same browser.</summary>
    public async Task<IPage> SignInAsync(IBrowser browser, string email, ColorScheme scheme = ColorScheme.Light)
    {
        var page = await NewPersonAsync(browser, scheme);
        await SignInAsync(page, email);
        return page;
    }

    public async Task SignInAsync(IPage page, string email)
    {
        int before = (await Mail.GetMailsAsync()).Count(m => m.To.Contains(email));
        await OpenAsync(page, "/signin");
        await page.Locator("#email").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Mail me a link" }).ClickAsync();
        await Expect(page.Locator("#signin-sent")).ToContainTextAsync(email);
        string link = await SignInLinkAsync(email, before);
        await page.GotoAsync(link);
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync(email);
    }

    /// <summary>The link of the sign-in mail to <paramref name="email"/> that arrived after <paramref name="before"/> others.</summary>
    public async Task<string> SignInLinkAsync(string email, int before)
    {
        CaughtMail? mail = null;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
            (mail = (await Mail.GetMailsAsync()).Where(m => m.To.Contains(email)).Skip(before).FirstOrDefault()) is not null, Wait),
            $"no sign-in mail to {email}");
        var link = LinkInMail().Match(mail!.Text);
        Assert.True(link.Success, "no sign-in link in: " + mail.Text);
        return link.Value;
    }

    /// <summary>
    /// A real regression record: pings of 16 build dates whose histogram moves one bucket up at the 13th, submitted
    /// through the submit endpoint, then detection run through the admin endpoint. The id of the record the default
    /// detector made for the shifted metric.
    /// </summary>
    public async Task<long> RegressionIdAsync()
    {
        await _seedLock.WaitAsync();
        try
        {
            if (_regressionId is { } id)
            {
                return id;
            }
            await RegressionPings.InstallProbesAsync(Silo);
            await RegressionPings.SubmitAllAsync(Silo);
            await RegressionPings.WaitUntilAggregatedAsync(Silo);
            var r = await RegressionPings.AdminAsync(Silo, HttpMethod.Post, "/api/regressions/detect?channel=nightly&detector=default&metric=" + RegressionPings.Shifted);
            string text = await r.Content.ReadAsStringAsync();
            Assert.True(r.IsSuccessStatusCode, text);
            using var doc = JsonDocument.Parse(text);
            var finding = Assert.Single(doc.RootElement.GetProperty("findings").EnumerateArray());
            _regressionId = finding.GetProperty("id").GetInt64();
            return _regressionId.Value;
        }
        finally
        {
            _seedLock.Release();
        }
    }

    public const string Firefox23Query = "kind=build_id&channel=release&version=23&metric=CYCLE_COLLECTOR";

    /// <summary>Submits the real Firefox 23 idle-daily ping and waits until its build-date aggregate is served.</summary>
    public async Task Firefox23Async()
    {
        await _seedLock.WaitAsync();
        try
        {
            if (_firefox23)
            {
                return;
            }
            var response = await Silo.SubmitAsync($"{Guid.NewGuid()}/idle-daily/Firefox/23.0.1/release/20130814063812", SiloHost.Gzip(Firefox23Ping));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(await TestPaths.EventuallyAsync(async () =>
            {
                var r = await Silo.GetAsync("/aggregates_by/build_id/channels/release/?version=23&dates=20130814&metric=CYCLE_COLLECTOR");
                return r.StatusCode == HttpStatusCode.OK && (await r.Content.ReadAsStringAsync()).Contains("\"count\":1", StringComparison.Ordinal);
            }, Wait), "the Firefox 23 ping was not aggregated");
            _firefox23 = true;
        }
        finally
        {
            _seedLock.Release();
        }
    }

    public static byte[] Firefox23Ping => File.ReadAllBytes(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json"));

    public async Task DisposeAsync()
    {
        if (_portal is { } portal)
        {
            if (!portal.HasExited)
            {
                portal.Kill(entireProcessTree: true);
                await portal.WaitForExitAsync();
            }
            portal.Dispose();
        }
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }
        if (Mail is not null)
        {
            await Mail.DisposeAsync();
        }
    }

    [GeneratedRegex(@"https?://[^\s""<>]+/signin\?token=[A-Za-z0-9_\-\.%]+")]
    private static partial Regex LinkInMail();
}

/// <summary>One Chromium (the machine's, never a downloaded one) per test class.</summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout((float)PortalStack.Wait.TotalMilliseconds);
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: apt-get install -y chromium (.ci/run does)");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}
