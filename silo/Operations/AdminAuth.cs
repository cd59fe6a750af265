using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Telemetry.Silo.Operations;

/// <summary>Section <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>
    /// Bearer tokens accepted by the admin API, at least 16 characters each; empty entries are ignored.
    /// None: a random token is generated at start and printed once.
    /// </summary>
    public List<string> Tokens { get; set; } = [];
}

/// <summary>Checks <c>Authorization: Bearer</c> against the admin tokens in constant time.</summary>
public sealed class AdminTokens
{
    private readonly byte[][] _hashes;

    public AdminTokens(IOptions<AdminOptions> options, ILogger<AdminTokens> logger)
    {
        var tokens = options.Value.Tokens.Where(t => !string.IsNullOrWhiteSpace(t)).ToList();
        if (tokens.Count == 0)
        {
            GeneratedToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
            tokens.Add(GeneratedToken);
            // Printed on purpose, once: the operator needs it and configured none.
            Console.WriteLine($"Admin:Tokens is empty; generated admin token for this run: {GeneratedToken}");
            logger.LogWarning("Admin:Tokens is empty; a random admin token was generated and printed to the console");
        }
        _hashes = tokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t))).ToArray();
    }

    public string? GeneratedToken { get; }

    /// <summary>401 when no bearer token is given, 403 when it is wrong, null when allowed.</summary>
    public int? Check(HttpRequest request) => CheckToken(BearerToken(request), _hashes);

    internal static int? CheckToken(string? token, byte[][] hashes)
    {
        if (string.IsNullOrEmpty(token))
        {
            return StatusCodes.Status401Unauthorized;
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        bool ok = false;
        foreach (var h in hashes)
        {
            ok |= CryptographicOperations.FixedTimeEquals(h, hash);
        }
        return ok ? null : StatusCodes.Status403Forbidden;
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}

public static class AdminEndpointExtensions
{
    /// <summary>
    /// Requires an admin bearer token on every endpoint of the group: one of <c>Admin:Tokens</c>, or the
    /// session of a signed-in person listed in <c>Portal:AdminEmails</c> (docs/alerts.md, "Sign-in").
    /// </summary>
    public static TBuilder RequireAdmin<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (ctx, next) =>
        {
            var tokens = ctx.HttpContext.RequestServices.GetRequiredService<AdminTokens>();
            int? status = tokens.Check(ctx.HttpContext.Request);
            if (status is { } s && !await Telemetry.Silo.Alerts.PersonAuth.IsAdminSessionAsync(ctx.HttpContext))
            {
                return TypedResults.Problem(statusCode: s, title: s == 401 ? "admin token required" : "admin token not accepted");
            }
            return await next(ctx);
        });
}
