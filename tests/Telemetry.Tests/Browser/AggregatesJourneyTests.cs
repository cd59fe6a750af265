using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Telemetry.Portal.Components.Shared;
using static Microsoft.Playwright.Assertions;

namespace Telemetry.Tests.Browser;

/// <summary>Exploring the aggregate of the real Firefox 23 ping on /aggregates, in a real browser.</summary>
[Collection(PortalBrowserCollection.Name)]
public sealed class AggregatesJourneyTests(PortalStack stack, ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task A_shared_link_shows_the_histogram_chart_and_percentiles_and_a_filter_change_rewrites_the_url()
    {
        await stack.Firefox23Async();
        // The ping's own CYCLE_COLLECTOR histogram: its samples are what the page must total.
        using var ping = JsonDocument.Parse(PortalStack.Firefox23Ping);
        long samples = ping.RootElement.GetProperty("histograms").GetProperty("CYCLE_COLLECTOR").GetProperty("values")
            .EnumerateObject().Sum(v => v.Value.GetInt64());

        var page = await stack.NewPersonAsync(chromium.Browser);
        await PortalStack.OpenAsync(page, "/aggregates?" + PortalStack.Firefox23Query);

        var histogram = page.Locator("[data-testid=histogram]");
        await Expect(histogram).ToContainTextAsync($"CYCLE_COLLECTOR · {Format.Count(samples)} samples");
        await Expect(histogram.Locator("svg").First).ToBeVisibleAsync();
        await Expect(histogram.Locator("svg rect, svg path").First).ToBeAttachedAsync();
        var evolution = page.Locator("[data-testid=evolution-row]");
        await Expect(evolution).ToHaveCountAsync(1);
        await Expect(evolution.Locator("td").Nth(0)).ToHaveTextAsync("20130814");
        await Expect(evolution.Locator("td").Nth(1)).ToHaveTextAsync(samples.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var label = page.Locator("input[data-testid=filter-label], [data-testid=filter-label] input").First;
        await label.FillAsync("no-such-label");
        await label.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex("[?&]label=no-such-label(&|$)"));
        await Expect(page).ToHaveURLAsync(new Regex("[?&]metric=CYCLE_COLLECTOR(&|$)"));
        await Expect(page.Locator("[data-testid=empty]")).ToContainTextAsync("No data for this selection");
    }
}
