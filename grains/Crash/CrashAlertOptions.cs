using System.ComponentModel.DataAnnotations;

namespace Telemetry.Grains.Crash;

/// <summary>Section <c>CrashAlerts</c>: how often crash-rate subscriptions are evaluated (docs/crash-alerts.md).</summary>
public sealed class CrashAlertOptions
{
    public const string Section = "CrashAlerts";

    /// <summary>The evaluation reminder's period in minutes; reminders cannot fire more often than once a minute.</summary>
    [Range(1, 1440)] public int PeriodMinutes { get; set; } = 60;

    /// <summary>
    /// How many submission dates back the versions of a channel and their first days are looked for
    /// (relative rules). A version first seen on the oldest of these dates may be older, so its first days
    /// are unknown and it is not compared.
    /// </summary>
    [Range(14, 400)] public int VersionLookbackDays { get; set; } = 90;

    /// <summary>
    /// The newest activity days left out of every window: a day's crash pings arrive at once, its main pings
    /// (the usage) over the following days, so the newest days' rates read too high. 1: windows end yesterday.
    /// </summary>
    [Range(0, 7)] public int LagDays { get; set; } = 1;

    public TimeSpan Period => TimeSpan.FromMinutes(PeriodMinutes);
}
