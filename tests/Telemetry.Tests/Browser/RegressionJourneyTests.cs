using Microsoft.Playwright;
using Telemetry.Tests.Regressions;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>Finding a regression the silo detected in real pings and acknowledging it, in a real browser.</summary>
[Collection(PortalBrowserCollection.Name)]
public sealed class RegressionJourneyTests(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_person_opens_a_detected_regression_acknowledges_it_and_sees_it_in_the_history()
    {
        long id = await stack.RegressionIdAsync();
        const string email = "triager@example.org";
        var page = await stack.SignInAsync(chromium.Browser, email);

        await PortalStack.OpenAsync(page, "/regressions?channel=nightly");
        var row = page.Locator($"[data-testid=regression-row][data-id='{id}']");
        await Expect(row).ToContainTextAsync(RegressionPings.Shifted);
        await Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("new");
        await row.Locator("[data-testid=regression-link]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/regressions/{id}$"));
        await Expect(page.Locator("[data-testid=owners]")).ToContainTextAsync(RegressionPings.ShiftedOwner);
        await Expect(page.Locator("[data-testid=state]")).ToHaveTextAsync("new");
        await page.Locator("[data-testid=comment] textarea, textarea[data-testid=comment]").First.FillAsync("looking into it");
        await page.Locator("[data-testid=act-acknowledge]").ClickAsync();

        await Expect(page.Locator("[data-testid=state]")).ToHaveTextAsync("acknowledged");
        var history = page.Locator("[data-testid=history-row]", new() { HasText = email });
        await Expect(history).ToHaveCountAsync(1);
        await Expect(history).ToContainTextAsync("acknowledged");
        await Expect(history).ToContainTextAsync("looking into it");

        // The list says so too, after a fresh load.
        await PortalStack.OpenAsync(page, "/regressions?channel=nightly");
        await Expect(row.Locator("[data-testid=state]")).ToHaveTextAsync("acknowledged");
    }
}
