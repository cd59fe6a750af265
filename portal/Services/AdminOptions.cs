namespace Telemetry.Portal.Services;

/// <summary>Section <c>Portal:Admin</c>: the admin pages (docs/portal.md).</summary>
public sealed class PortalAdminOptions
{
    public const string Section = "Portal:Admin";

    /// <summary>The Orleans dashboard's address as a browser reaches it (a silo's <c>/dashboard/</c>); none: no link.</summary>
    public string? DashboardUrl { get; set; }

    /// <summary>How often the reprocess page asks for the job's progress. Default 1 s.</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
