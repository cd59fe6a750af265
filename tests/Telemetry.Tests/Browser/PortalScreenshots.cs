using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>
/// Every portal page in the light and the dark theme, signed in as an administrator, with some real data behind
/// it: each must open live, finish loading and show no error bar. Each page is written as a PNG to
/// <c>$SCREENSHOTS_DIR</c> (scripts/screenshots.sh sets it; otherwise a temp folder that is removed).
/// </summary>
[Collection(PortalBrowserCollection.Name)]
[Trait("Category", "Screenshots")]
public sealed class PortalScreenshots(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Every_page_opens_and_finishes_loading_in_both_themes()
    {
        string? wanted = Environment.GetEnvironmentVariable("SCREENSHOTS_DIR");
        string dir = wanted is { Length: > 0 } ? Path.GetFullPath(wanted) : Path.Combine(Path.GetTempPath(), "telemetry-screenshots-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            long regression = await stack.RegressionIdAsync();
            await stack.Firefox23Async();
            // A rejected submission for the rejects page.
            await stack.Silo.SubmitAsync("screenshots-bad/main/Firefox/57.0/release/20171101000000", "not json"u8.ToArray());

            var pages = new (string Name, string Url)[]
            {
                ("overview", "/"),
                ("aggregates", "/aggregates?" + PortalStack.Firefox23Query),
                ("regressions", "/regressions"),
                ("regression", $"/regressions/{regression}"),
                ("expiring", "/expiring"),
                ("crash-rates", "/crash-rates"),
                ("errors", "/errors"),
                ("subscriptions", "/subscriptions"),
                ("admin", "/admin"),
                ("admin-rejects", "/admin/rejects"),
                ("admin-outbox", "/admin/outbox"),
                ("admin-dead-letters", "/admin/dead-letters"),
                ("admin-probes", "/admin/probes"),
                ("admin-calendar", "/admin/calendar"),
                ("admin-reprocess", "/admin/reprocess"),
            };
            var written = new List<string>();
            foreach (var (theme, scheme) in new[] { ("light", ColorScheme.Light), ("dark", ColorScheme.Dark) })
            {
                var anonymous = await stack.NewPersonAsync(chromium.Browser, scheme);
                written.Add(await ShootAsync(anonymous, dir, "signin", "/signin", theme));
                await anonymous.Context.CloseAsync();

                var admin = await stack.SignInAsync(chromium.Browser, PortalStack.AdminEmail, scheme);
                foreach (var (name, url) in pages)
                {
                    written.Add(await ShootAsync(admin, dir, name, url, theme));
                }
                await admin.Context.CloseAsync();
            }
            Assert.All(written, file => Assert.True(new FileInfo(file).Length > 10_000, file + " is nearly empty"));
        }
        finally
        {
            if (wanted is not { Length: > 0 })
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task<string> ShootAsync(IPage page, string dir, string name, string url, string theme)
    {
        await PortalStack.OpenAsync(page, url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "theme=" + theme);
        // The theme toggle offers the other theme once this one is applied.
        string other = theme == "dark" ? "light" : "dark";
        await Expect(page.Locator($"button[aria-label='Switch to {other} theme']")).ToBeVisibleAsync();
        // Loaded: no skeleton or spinner left, and no unhandled error.
        await Expect(page.Locator(".mud-skeleton")).ToHaveCountAsync(0);
        await Expect(page.Locator(".mud-progress-circular")).ToHaveCountAsync(0);
        await Expect(page.Locator("#blazor-error-ui")).ToBeHiddenAsync();
        string file = Path.Combine(dir, $"{name}-{theme}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true, Animations = ScreenshotAnimations.Disabled });
        return file;
    }
}
