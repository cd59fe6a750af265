using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>The admin pages for an administrator and for someone who is not, in a real browser.</summary>
[Collection(PortalBrowserCollection.Name)]
public sealed class AdminJourneyTests(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task An_administrator_reaches_every_admin_page_and_anyone_else_is_told_it_is_for_administrators()
    {
        var admin = await stack.SignInAsync(chromium.Browser, PortalStack.AdminEmail);
        await PortalStack.OpenAsync(admin, "/admin");
        foreach (var href in new[] { "/admin/rejects", "/admin/outbox", "/admin/dead-letters", "/admin/probes", "/admin/calendar", "/admin/reprocess" })
        {
            await Expect(admin.Locator($"[data-testid=admin-link][href='{href}']")).ToBeVisibleAsync();
        }
        await admin.Locator("[data-testid=admin-link][href='/admin/outbox']").ClickAsync();
        await Expect(admin).ToHaveURLAsync(stack.PortalUrl + "/admin/outbox");
        await Expect(admin.Locator("body")).ToContainTextAsync("No failed mail");
        await Expect(admin.Locator("body")).Not.ToContainTextAsync("This page is for administrators");

        var person = await stack.SignInAsync(chromium.Browser, "not-an-admin@example.org");
        await PortalStack.OpenAsync(person, "/admin");
        await Expect(person.Locator("body")).ToContainTextAsync("This page is for administrators");
        await Expect(person.Locator("[data-testid=admin-link]")).ToHaveCountAsync(0);
        await PortalStack.OpenAsync(person, "/admin/outbox");
        await Expect(person.Locator("body")).ToContainTextAsync("This page is for administrators");
        await Expect(person.Locator("body")).Not.ToContainTextAsync("No failed mail");
    }
}
