using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// Sign-in by one-time link (docs/alerts.md, "Sign-in"): <c>POST /api/auth/link</c> mails a signed link
/// valid <c>Auth:LinkMinutes</c>; <c>POST /api/auth/token</c> exchanges it, once, for an API session.
/// </summary>
public static partial class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("Sign-in");
        group.MapPost("/link", Link)
            .WithSummary("Mail a one-time sign-in link to {\"email\"}: always 202, whether or not the address is known (400 only when it is not an address)");
        group.MapPost("/token", Token)
            .WithSummary("Exchange a sign-in link token {\"token\"} for {\"access_token\",\"expires_at\",\"email\"}; a used, expired or forged token is 401");
        return app;
    }

    internal static async Task<IResult> Link(HttpRequest request, ISignInStore store, IOutboxStore outbox, SigningKey key,
        IOptions<AuthOptions> auth, IOptions<PortalOptions> portal, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadObjectAsync(request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        string email;
        try
        {
            email = OutboxMail.NormalizeAddress(b.TryGetProperty("email", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null);
        }
        catch (ArgumentException)
        {
            return ApiJson.BadRequest("email must be an email address");
        }
        var now = time.GetUtcNow();
        var logger = loggers.CreateLogger("Telemetry.Silo.Alerts.AuthApi");
        if (await store.CountLinksSinceAsync(email, now - TimeSpan.FromHours(1), ct) >= auth.Value.LinksPerAddressPerHour)
        {
            // Same answer as a sent link: the caller learns nothing about the address.
            LogRateLimited(logger, email);
            return TypedResults.Accepted((string?)null);
        }
        string nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var expires = now.AddMinutes(auth.Value.LinkMinutes);
        var signer = await key.GetAsync();
        string token = signer.Sign(TokenSigner.SignIn, string.Create(CultureInfo.InvariantCulture, $"{nonce}|{email}|{expires.ToUnixTimeSeconds()}"));
        string url = $"{portal.Value.BaseUrl.TrimEnd('/')}/signin?token={Uri.EscapeDataString(token)}";
        await store.RecordLinkAsync(nonce, email, now, expires, ct);
        string text = string.Create(CultureInfo.InvariantCulture, $"""
            Someone (hopefully you) asked to sign in to Telemetry as {email}.

            Sign in: {url}

            The link works once, until {expires:yyyy-MM-dd HH:mm} UTC ({auth.Value.LinkMinutes} minutes).
            If you did not ask for it, ignore this mail; nothing happens without the link.
            """);
        await outbox.EnqueueAsync(new OutboxMail("signin:" + nonce, email, MailKinds.SignIn, "Your Telemetry sign-in link", text), ct);
        return TypedResults.Accepted((string?)null);
    }

    internal static async Task<IResult> Token(HttpRequest request, ISignInStore store, SigningKey key, IOptions<AuthOptions> auth, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadObjectAsync(request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        string? token = b.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (string.IsNullOrEmpty(token))
        {
            return ApiJson.BadRequest("token is required: the token of the sign-in link");
        }
        var now = time.GetUtcNow();
        var signer = await key.GetAsync();
        var parts = signer.Verify(TokenSigner.SignIn, token)?.Split('|');
        if (parts is not [var nonce, var email, var exp]
            || !long.TryParse(exp, NumberStyles.None, CultureInfo.InvariantCulture, out long expUnix)
            || DateTimeOffset.FromUnixTimeSeconds(expUnix) <= now
            || !await store.UseLinkAsync(nonce, now, ct))
        {
            return TypedResults.Problem(statusCode: 401, title: "link not valid",
                detail: "the sign-in link is unknown, expired or already used; ask for a new one");
        }
        var expiresAt = now.AddHours(auth.Value.SessionHours);
        return TypedResults.Json(new SessionResponse(PersonAuth.IssueSession(signer, email, expiresAt), expiresAt, email), ApiJson.Options);
    }

    public sealed record SessionResponse(string AccessToken, DateTimeOffset ExpiresAt, string Email);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sign-in link for {Email} not sent: too many requested in the last hour")]
    private static partial void LogRateLimited(ILogger logger, string email);
}
