namespace Telemetry.Grains.Regressions;

/// <summary>Where a regression moved the histogram's mass (docs/regressions.md, "Direction").</summary>
public enum RegressionDirection
{
    /// <summary>Mass moved to higher buckets (for a timing metric: slower).</summary>
    Higher,

    /// <summary>Mass moved to lower buckets.</summary>
    Lower,

    /// <summary>Mass moved both ways (for example a bimodal split), or the detector cannot tell.</summary>
    Changed,
}
