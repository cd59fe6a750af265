using System.ComponentModel.DataAnnotations;

namespace Telemetry.Grains.Expiry;

/// <summary>Section <c>Expiry</c>: when expiry notices go out and to which shared addresses (docs/expiry.md).</summary>
public sealed class ExpiryOptions
{
    public const string Section = "Expiry";

    /// <summary>The list the seed's expiry mails went to.</summary>
    public const string DefaultListAddress = "dev-telemetry-alerts@lists.mozilla.org";

    /// <summary>Days before the expiry date of the first notice.</summary>
    [Range(1, ExpiryNoticeSettings.MaxNoticeDays)] public int FirstNoticeDays { get; set; } = ExpiryNoticeSettings.DefaultFirstNoticeDays;

    /// <summary>Days before the expiry date of the final notice; fewer than <see cref="FirstNoticeDays"/>.</summary>
    [Range(0, ExpiryNoticeSettings.MaxNoticeDays - 1)] public int FinalNoticeDays { get; set; } = ExpiryNoticeSettings.DefaultFinalNoticeDays;

    /// <summary>Gets every notice with every probe of its stage.</summary>
    public string ListAddress { get; set; } = DefaultListAddress;

    /// <summary>Added to the list mail of the final notice; empty: nobody.</summary>
    public string? SheriffAddress { get; set; }

    public ExpiryNoticeSettings ToSettings() => new()
    {
        FirstNoticeDays = FirstNoticeDays,
        FinalNoticeDays = FinalNoticeDays,
        ListAddress = ListAddress,
        SheriffAddress = string.IsNullOrWhiteSpace(SheriffAddress) ? null : SheriffAddress.Trim(),
    };
}

/// <summary>Section <c>ReleaseCalendar</c>: the calendar file used until an admin uploads one, and the projection cadence.</summary>
public sealed class ReleaseCalendarOptions
{
    public const string Section = "ReleaseCalendar";

    /// <summary>The sample calendar shipped next to the silo's assemblies.</summary>
    public static readonly string DefaultPath = System.IO.Path.Combine(AppContext.BaseDirectory, "release-calendar.json");

    /// <summary>The calendar document read at start; an upload (<c>PUT /api/release-calendar</c>) replaces it cluster-wide.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>Days per major version after the calendar's last entry.</summary>
    [Range(1, ReleaseCalendar.MaxCadenceDays)] public int CadenceDays { get; set; } = ReleaseCalendar.DefaultCadenceDays;
}

/// <summary>Links to the portal in expiry mails (<c>Portal:BaseUrl</c>); none when it is not set.</summary>
public sealed record ExpiryPortalLinks(string? BaseUrl)
{
    /// <summary>The portal's list of expiring probes, or null without a portal address.</summary>
    public string? Expiring => string.IsNullOrWhiteSpace(BaseUrl) ? null : BaseUrl.TrimEnd('/') + "/expiring";
}
