using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>Creating, pausing and keeping private a subscription on /subscriptions, in a real browser.</summary>
[Collection(PortalBrowserCollection.Name)]
public sealed class SubscriptionJourneyTests(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private static ILocator Field(IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], [data-testid={testId}] input").First;

    private static ILocator Rule(ILocator form, string rule) =>
        form.Locator("[data-testid=form-rules]").GetByRole(AriaRole.Checkbox, new() { Name = rule, Exact = true });

    [Fact]
    public async Task A_subscription_is_created_paused_survives_a_reload_and_stays_invisible_to_someone_else()
    {
        var owner = await stack.SignInAsync(chromium.Browser, "subscriber@example.org");
        await PortalStack.OpenAsync(owner, "/subscriptions");
        await Expect(owner.Locator("[data-testid=subscriptions-empty]")).ToContainTextAsync("No subscriptions yet");

        await owner.Locator("[data-testid=new-subscription]").ClickAsync();
        var form = owner.Locator("[data-testid=subscription-form]");
        await Expect(form).ToContainTextAsync("New subscription");
        await form.Locator(".mud-select").First.ClickAsync();
        await owner.Locator(".mud-popover-open .mud-list-item, .mud-popover-open [role=option]", new() { HasText = "Sentry errors" }).First.ClickAsync();
        await Expect(Field(owner, "form-project")).ToBeVisibleAsync();
        await Field(owner, "form-project").FillAsync("default");
        await Field(owner, "form-project").PressAsync("Tab");
        foreach (var rule in new[] { "top-issue", "spike", "regressed" })
        {
            var box = Rule(form, rule);
            await Expect(box).ToBeCheckedAsync();
            await box.ClickAsync();
            await Expect(box).Not.ToBeCheckedAsync();
        }
        await Expect(Rule(form, "new-issue")).ToBeCheckedAsync();
        await owner.Locator("[data-testid=form-save]").ClickAsync();

        var row = owner.Locator("[data-testid=subscription]");
        await Expect(row).ToHaveCountAsync(1);
        var description = row.Locator("[data-testid=subscription-description]");
        await Expect(description).ToContainTextAsync("default");
        await Expect(description).ToContainTextAsync("new-issue");
        await Expect(description).Not.ToContainTextAsync("spike");
        await Expect(row.Locator("[data-testid=subscription-state]")).ToHaveTextAsync("active");
        string id = (await row.GetAttributeAsync("data-id"))!;

        await row.Locator("[data-testid=pause-toggle]").ClickAsync();
        await Expect(row.Locator("[data-testid=subscription-state]")).ToHaveTextAsync("paused");
        await Expect(row.Locator("[data-testid=pause-toggle]")).ToHaveTextAsync("Resume");

        await owner.ReloadAsync();
        await PortalStack.LiveAsync(owner);
        await Expect(owner.Locator($"[data-testid=subscription][data-id='{id}'] [data-testid=subscription-state]")).ToHaveTextAsync("paused");

        // Someone else signs in in their own browser: the list is theirs, and empty.
        var other = await stack.SignInAsync(chromium.Browser, "someone-else@example.org");
        await PortalStack.OpenAsync(other, "/subscriptions");
        await Expect(other.Locator("[data-testid=subscriptions-empty]")).ToBeVisibleAsync();
        await Expect(other.Locator("[data-testid=subscription]")).ToHaveCountAsync(0);
        await Expect(other.Locator("body")).Not.ToContainTextAsync("Errors in default");
        await Expect(other.Locator("#signed-in-as")).ToHaveTextAsync("someone-else@example.org");
    }
}
