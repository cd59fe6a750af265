using System.ComponentModel.DataAnnotations;

namespace Telemetry.Silo.Alerts;

/// <summary>Section <c>Portal</c>, as the silo uses it: where mail links point, and who is an administrator.</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>The portal's public address; alert pages and sign-in links are under it.</summary>
    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Addresses that are administrators once signed in.</summary>
    public List<string> AdminEmails { get; set; } = [];
}

/// <summary>Section <c>Auth</c>: sign-in links and API sessions (docs/alerts.md, "Sign-in").</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// Key that signs sign-in links, sessions and unsubscribe links (at least 32 characters). Unset: a key
    /// is generated once and kept in PostgreSQL (shared by every silo), or per process in the embedded mode.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>How long a sign-in link stays valid.</summary>
    [Range(1, 1440)] public int LinkMinutes { get; set; } = 15;

    /// <summary>How long an API session (<c>access_token</c>) lasts.</summary>
    [Range(1, 720)] public int SessionHours { get; set; } = 12;

    /// <summary>Sign-in links mailed to one address in any hour; further requests still answer 202 and send nothing.</summary>
    [Range(1, 1000)] public int LinksPerAddressPerHour { get; set; } = 5;
}

/// <summary>Section <c>Alerts</c>: the notification core's own settings.</summary>
public sealed class AlertOptions
{
    public const string Section = "Alerts";

    /// <summary>The silo's public address: unsubscribe links (served by the silo) point here. Unset: the silo's first listening URL.</summary>
    public string? PublicUrl { get; set; }

    /// <summary>The UTC hour of the digest for people without a digest subscription (alerts folded by flood control).</summary>
    [Range(0, 23)] public int DefaultDigestHour { get; set; } = 8;

    /// <summary>How often the digest runner looks for digests that are due.</summary>
    public TimeSpan DigestCheckInterval { get; set; } = TimeSpan.FromMinutes(1);
}
