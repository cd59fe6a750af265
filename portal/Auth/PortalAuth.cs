using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Auth;

/// <summary>Section <c>Portal</c>: who is an administrator and whether dashboards are public (docs/portal.md, "Sign-in").</summary>
public sealed class PortalAccessOptions
{
    public const string Section = "Portal";

    /// <summary>Addresses that are administrators once signed in (the silo reads the same key).</summary>
    public List<string> AdminEmails { get; set; } = [];

    /// <summary>Overview, aggregates, expiring probes and crash rates readable without signing in.</summary>
    public bool PublicDashboards { get; set; } = true;
}

/// <summary>The signed-in person as the pages see them.</summary>
public sealed record PortalUser(string Email, string Token, bool IsAdmin)
{
    public const string TokenClaim = "telemetry_token";

    public static PortalUser? From(ClaimsPrincipal? principal) =>
        principal?.Identity?.IsAuthenticated == true
        && principal.FindFirst(ClaimTypes.Email)?.Value is { } email
        && principal.FindFirst(TokenClaim)?.Value is { } token
            ? new PortalUser(email, token, principal.IsInRole(PortalAuth.AdminRole))
            : null;
}

/// <summary>
/// Sign-in by mailed link (docs/portal.md, "Sign-in"): the form asks the silo to mail a link to
/// <c>{Portal:BaseUrl}/signin?token=…</c>; opening it exchanges the token, once, for the silo's API session,
/// kept in an encrypted, HTTP-only cookie until the session expires. The silo mails the link, or prints it on
/// its console in the embedded default. Administrators are the addresses of <c>Portal:AdminEmails</c>.
/// </summary>
public static class PortalAuth
{
    public const string AdminRole = "admin";
    public const string AdminPolicy = "admin";
    public const string DashboardsPolicy = "dashboards";
    public const string CookieName = "telemetry_portal";

    public static IServiceCollection AddPortalAuth(this IServiceCollection services)
    {
        services.AddOptions<PortalAccessOptions>().BindConfiguration(PortalAccessOptions.Section);
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/signin";
                o.ReturnUrlParameter = "return";
                o.SlidingExpiration = false;
            });
        services.AddAuthorization(o =>
        {
            o.AddPolicy(AdminPolicy, p => p.RequireRole(AdminRole));
            o.AddPolicy(DashboardsPolicy, p => p.AddRequirements(new DashboardsRequirement()));
        });
        services.AddSingleton<IAuthorizationHandler, DashboardsHandler>();
        services.AddCascadingAuthenticationState();
        return services;
    }

    /// <summary>Dashboards: anyone when <c>Portal:PublicDashboards</c> is true, else signed-in people.</summary>
    private sealed class DashboardsRequirement : IAuthorizationRequirement;

    private sealed class DashboardsHandler(Microsoft.Extensions.Options.IOptions<PortalAccessOptions> options) : AuthorizationHandler<DashboardsRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, DashboardsRequirement requirement)
        {
            if (options.Value.PublicDashboards || context.User.Identity?.IsAuthenticated == true)
            {
                context.Succeed(requirement);
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>The sign-in link (<c>GET /signin?token=</c>), the link request form and sign-out.</summary>
    public static WebApplication UsePortalAuth(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        // The mailed link lands on /signin?token=: exchanged here (it must set a cookie, which a Blazor page cannot).
        app.Use(async (http, next) =>
        {
            if (HttpMethods.IsGet(http.Request.Method) && http.Request.Path.Equals("/signin", StringComparison.OrdinalIgnoreCase)
                && http.Request.Query["token"].ToString() is { Length: > 0 } token)
            {
                await CompleteSignInAsync(http, token);
                return;
            }
            await next(http);
        });
        app.MapPost("/auth/link", RequestLinkAsync).DisableAntiforgery();
        app.MapPost("/signout", SignOutAsync).DisableAntiforgery();
        return app;
    }

    private static async Task CompleteSignInAsync(HttpContext http, string token)
    {
        var api = http.RequestServices.GetRequiredService<SiloApi>();
        JsonElement answer;
        try
        {
            answer = await api.SendAsync(HttpMethod.Post, "/api/auth/token", new { token }, bearer: null, http.RequestAborted);
        }
        catch (SiloApiException e)
        {
            http.Response.Redirect("/signin?error=" + Uri.EscapeDataString(e.Status == System.Net.HttpStatusCode.Unauthorized
                ? "This sign-in link was already used or has expired. Ask for a new one."
                : e.Message));
            return;
        }
        string email = answer.GetProperty("email").GetString()!;
        string session = answer.GetProperty("access_token").GetString()!;
        var expires = DateTimeOffset.Parse(answer.GetProperty("expires_at").GetString()!, CultureInfo.InvariantCulture);
        var admins = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalAccessOptions>>().Value.AdminEmails;
        var claims = new List<Claim> { new(ClaimTypes.Email, email), new(ClaimTypes.Name, email), new(PortalUser.TokenClaim, session) };
        if (admins.Any(a => string.Equals(a.Trim(), email, StringComparison.OrdinalIgnoreCase)))
        {
            claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        }
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            new ClaimsPrincipal(new ClaimsIdentity(claims, CookieAuthenticationDefaults.AuthenticationScheme)),
            new AuthenticationProperties { ExpiresUtc = expires, IsPersistent = true });
        http.Response.Redirect(LocalPath(http.Request.Query["return"].ToString()));
    }

    private static async Task<IResult> RequestLinkAsync(HttpContext http, IAntiforgery antiforgery, SiloApi api)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Results.BadRequest("The form expired; reload the page and try again.");
        }
        var form = await http.Request.ReadFormAsync();
        string email = form["email"].ToString().Trim();
        string back = LocalPath(form["return"].ToString());
        if (email.Length is 0 or > 254 || !email.Contains('@', StringComparison.Ordinal))
        {
            return Results.Redirect("/signin?error=" + Uri.EscapeDataString("Enter an email address.") + "&return=" + Uri.EscapeDataString(back));
        }
        try
        {
            await api.SendAsync(HttpMethod.Post, "/api/auth/link", new { email }, bearer: null, http.RequestAborted);
        }
        catch (SiloApiException e)
        {
            return Results.Redirect("/signin?error=" + Uri.EscapeDataString(e.Message));
        }
        return Results.Redirect("/signin?sent=" + Uri.EscapeDataString(email));
    }

    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery)
    {
        if (!await antiforgery.IsRequestValidAsync(http))
        {
            return Results.BadRequest("The form expired; reload the page and try again.");
        }
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return Results.Redirect("/");
    }

    /// <summary>A local path to return to (never another site).</summary>
    public static string LocalPath(string? path) =>
        path is { Length: > 0 } p && p.StartsWith('/') && !p.StartsWith("//", StringComparison.Ordinal) && !p.StartsWith("/\\", StringComparison.Ordinal) ? p : "/";
}
