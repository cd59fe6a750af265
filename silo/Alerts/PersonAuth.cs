using System.Globalization;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// API sessions of signed-in people (docs/alerts.md, "Sign-in"): <c>Authorization: Bearer &lt;access_token&gt;</c>
/// from <c>POST /api/auth/token</c>. The token names the address and its expiry and is signed; nothing is stored.
/// </summary>
public static class PersonAuth
{
    private const string ItemKey = "telemetry.person";

    public static string IssueSession(TokenSigner signer, string email, DateTimeOffset expiresAt) =>
        signer.Sign(TokenSigner.Session, string.Create(CultureInfo.InvariantCulture, $"{email}|{expiresAt.ToUnixTimeSeconds()}"));

    /// <summary>The signed-in address, or null for a missing, forged or expired session.</summary>
    public static string? ReadSession(TokenSigner signer, string? token, DateTimeOffset now)
    {
        var payload = signer.Verify(TokenSigner.Session, token);
        if (payload is null)
        {
            return null;
        }
        int bar = payload.LastIndexOf('|');
        if (bar <= 0 || !long.TryParse(payload.AsSpan(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long exp)
            || DateTimeOffset.FromUnixTimeSeconds(exp) <= now)
        {
            return null;
        }
        return payload[..bar];
    }

    /// <summary>True when the request carries the valid session of an address in <c>Portal:AdminEmails</c>.</summary>
    public static async Task<bool> IsAdminSessionAsync(HttpContext http)
    {
        var admins = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<PortalOptions>>().Value.AdminEmails;
        if (admins.Count == 0 || AdminTokens.BearerToken(http.Request) is not { } token)
        {
            return false;
        }
        var signer = await http.RequestServices.GetRequiredService<SigningKey>().GetAsync();
        string? email = ReadSession(signer, token, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
        return email is not null && admins.Any(a => string.Equals(a.Trim(), email, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The address the endpoint filter of <see cref="RequirePerson{TBuilder}"/> found.</summary>
    public static string Email(this HttpContext context) =>
        context.Items[ItemKey] as string ?? throw new InvalidOperationException("the endpoint does not require a signed-in person");

    /// <summary>401 without a valid session; the address is then <see cref="Email"/>.</summary>
    public static TBuilder RequirePerson<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var http = ctx.HttpContext;
            var signer = await http.RequestServices.GetRequiredService<SigningKey>().GetAsync();
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            string? email = ReadSession(signer, AdminTokens.BearerToken(http.Request), now);
            if (email is null)
            {
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return TypedResults.Problem(statusCode: 401, title: "sign in required",
                    detail: "send Authorization: Bearer <access_token> from POST /api/auth/token (sessions expire)");
            }
            http.Items[ItemKey] = email;
            return await next(ctx);
        });
}
