using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;
using Telemetry.Portal.Auth;

namespace Telemetry.Tests.Portal;

/// <summary>
/// The shared setup of the errors, subscriptions and alert page tests: MudBlazor, a fixed clock, and a
/// visitor who is anonymous, signed in, or an administrator.
/// </summary>
public abstract class PortalPageTestKit : BunitContext, IAsyncLifetime
{
    // Generous: the machine is shared, and a wait only lasts this long when the test is failing.
    protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    protected static readonly DateTimeOffset Now = new(2026, 11, 20, 14, 30, 0, TimeSpan.Zero);

    private readonly BunitAuthorizationContext _auth;

    protected PortalPageTestKit()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now));
        _auth = AddAuthorization();
    }

    protected const string Token = "session-of-ann";

    /// <summary>Signs Ann in (with her silo session token), as an administrator when asked.</summary>
    protected void SignIn(bool admin = false, string email = "ann@example.org")
    {
        _auth.SetAuthorized(email);
        // Roles before claims: in bUnit, setting roles afterwards drops the claims set before.
        if (admin)
        {
            _auth.SetRoles(PortalAuth.AdminRole);
        }
        _auth.SetClaims(new Claim(ClaimTypes.Email, email), new Claim(PortalUser.TokenClaim, Token));
    }

    protected void GoTo(string uri) => Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo(uri);

    protected string CurrentUri => Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().Uri;

    protected static string Text(IRenderedComponent<Microsoft.AspNetCore.Components.IComponent> page, string testId) =>
        page.Find($"[data-testid={testId}]").TextContent.Trim();

    public Task InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();
}
