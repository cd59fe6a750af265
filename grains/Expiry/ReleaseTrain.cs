namespace Telemetry.Grains.Expiry;

/// <summary>
/// One major version's train: the merge day Nightly became <c>Major.0a1</c> and the release day of
/// <c>Major.0</c>. <see cref="Projected"/> trains lie beyond the calendar's last entry and are
/// extrapolated at its cadence (docs/expiry.md).
/// </summary>
public sealed record ReleaseTrain(int Major, DateOnly NightlyStart, DateOnly Release, bool Projected = false)
{
    /// <summary>The version text as written in the calendar (<c>"58"</c>).</summary>
    public string Version => Major.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
