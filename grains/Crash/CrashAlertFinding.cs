using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>One version's window of a finding: which days and what they add up to.</summary>
/// <param name="Version">The build version; null for every version of the channel.</param>
/// <param name="From">First activity date of the window.</param>
/// <param name="To">Last activity date of the window.</param>
/// <param name="Release">The version's first activity date on the channel (relative rules).</param>
public sealed record CrashWindow(string? Version, DateOnly From, DateOnly To, CrashStats Stats, DateOnly? Release = null)
{
    public int Days => To.DayNumber - From.DayNumber + 1;

    /// <summary>Main-process crashes in the window.</summary>
    public long MainCrashes => Stats.Values[2];
}

/// <summary>
/// What evaluating one rule found: the window it looked at, the previous version's window (relative rules),
/// and the verdict with its figures. <see cref="CrashAlertDrafts"/> turns a finding that fires into an alert.
/// </summary>
public sealed record CrashAlertFinding(CrashAlertRule Rule, CrashWindow Window, CrashRateVerdict Verdict, CrashWindow? Baseline = null)
{
    public bool Fires => Verdict.Fires;

    /// <summary>The version the alert is about; null for an absolute rule over every version.</summary>
    public string? Version => Window.Version;
}
