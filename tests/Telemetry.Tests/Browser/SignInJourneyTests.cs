using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>Signing in by mailed link and out again, in a real browser against the real portal and silo.</summary>
[Collection(PortalBrowserCollection.Name)]
public sealed class SignInJourneyTests(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_person_asks_for_a_link_opens_it_from_the_mail_sees_their_address_and_signs_out()
    {
        const string email = "signin-journey@example.org";
        var page = await stack.NewPersonAsync(chromium.Browser);
        int before = (await stack.Mail.GetMailsAsync()).Count(m => m.To.Contains(email));

        await PortalStack.OpenAsync(page, "/signin");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.Locator("#email").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Mail me a link" }).ClickAsync();
        await Expect(page.Locator("#signin-sent")).ToContainTextAsync($"If {email} can receive mail, a sign-in link is on its way");

        string link = await stack.SignInLinkAsync(email, before);
        Assert.StartsWith(stack.PortalUrl + "/signin?token=", link);
        await page.GotoAsync(link);
        await Expect(page).ToHaveURLAsync(stack.PortalUrl + "/");
        await Expect(page.Locator("#signed-in-as")).ToHaveTextAsync(email);
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToHaveCountAsync(0);

        // The link works once: opened again it signs nobody in.
        var stranger = await stack.NewPersonAsync(chromium.Browser);
        await stranger.GotoAsync(link);
        await Expect(stranger.Locator("#signin-error")).ToBeVisibleAsync();
        await Expect(stranger.Locator("#signed-in-as")).ToHaveCountAsync(0);

        await PortalStack.LiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.Locator("#signed-in-as")).ToHaveCountAsync(0);
        await PortalStack.OpenAsync(page, "/subscriptions");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
    }
}
