using System.Security.Claims;
using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;
using Telemetry.Portal.Auth;

namespace Telemetry.Tests.Portal.Data;

/// <summary>
/// bUnit context for the portal's data pages: MudBlazor with a popover provider, loose JS interop, and helpers to
/// sign a person in and to open a page at a URL (its query string is what the page reads its filters from).
/// </summary>
public abstract class PortalPageContext : BunitContext, IAsyncLifetime
{
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    protected PortalPageContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
    }

    private bool _popoverProvider;

    protected NavigationManager Navigation => Services.GetRequiredService<NavigationManager>();

    /// <summary>The current URL's path and query, e.g. <c>/regressions?sort=score</c>.</summary>
    protected string CurrentUrl => "/" + Navigation.ToBaseRelativePath(Navigation.Uri);

    /// <summary>A signed-in person with a silo session token, as the portal's cookie carries them.</summary>
    protected void SignIn(string email, string token)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(email);
        auth.SetClaims(new Claim(ClaimTypes.Email, email), new Claim(PortalUser.TokenClaim, token));
    }

    protected void SignedOut() => AddAuthorization().SetNotAuthorized();

    /// <summary>Opens the page at <paramref name="url"/> (with a popover provider, which MudSelect needs).</summary>
    protected IRenderedComponent<TPage> Open<TPage>(string url, Action<ComponentParameterCollectionBuilder<TPage>>? parameters = null)
        where TPage : IComponent
    {
        if (!_popoverProvider)
        {
            Render<MudPopoverProvider>();
            _popoverProvider = true;
        }
        Navigation.NavigateTo(url);
        return parameters is null ? Render<TPage>() : Render<TPage>(parameters);
    }

    protected static string Text<T>(IRenderedComponent<T> page, string testId) where T : IComponent =>
        page.Find($"[data-testid={testId}]").TextContent.Trim();

    protected static List<string> Column<T>(IRenderedComponent<T> page, string rowTestId, int cell) where T : IComponent =>
        [.. page.FindAll($"[data-testid={rowTestId}]").Select(r => r.QuerySelectorAll("td")[cell].TextContent.Trim())];

    /// <summary>The input of a MudBlazor field with that test id (the attribute lands on the input or on a wrapper).</summary>
    protected static AngleSharp.Dom.IElement Input<T>(IRenderedComponent<T> page, string testId) where T : IComponent =>
        page.Find($"input[data-testid={testId}], [data-testid={testId}] input, textarea[data-testid={testId}], [data-testid={testId}] textarea");

    /// <summary>Types into a field the way a change event does, and waits until the field shows the text.</summary>
    protected static void Type<T>(IRenderedComponent<T> page, string testId, string text) where T : IComponent
    {
        Input(page, testId).Change(text);
        page.WaitForAssertion(() => Assert.Equal(text, Input(page, testId).GetAttribute("value")), Wait);
    }

    /// <summary>
    /// Clicks a button until <paramref name="assertion"/> holds. bUnit may show a MudBlazor field's new text a
    /// moment before the field's bound value is set (on a loaded machine the click then applied the old value);
    /// in a browser the change event is handled before the click, so a person's one click is enough.
    /// </summary>
    protected static void ClickUntil<T>(IRenderedComponent<T> page, string testId, Action assertion) where T : IComponent =>
        page.WaitForAssertion(() =>
        {
            page.Find($"[data-testid={testId}]").Click();
            assertion();
        }, Wait);

    /// <summary>The parameters of a URL's query string, decoded (their order is the browser's business).</summary>
    protected static Dictionary<string, string> QueryOf(string url) =>
        url.Contains('?', StringComparison.Ordinal)
            ? url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""))
            : [];

    protected static Exception Thrown(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception thrown)
        {
            return thrown;
        }
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
