namespace Telemetry.Portal.Services;

/// <summary>The overview page (section <c>Portal:Overview</c>).</summary>
public sealed class OverviewOptions
{
    public const string Section = "Portal:Overview";

    /// <summary>How often an open overview page asks the cluster again. Default 5 s.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(5);
}
