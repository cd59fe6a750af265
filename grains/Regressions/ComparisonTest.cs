namespace Telemetry.Grains.Regressions;

/// <summary>
/// The two tests a comparison of a date (or a window of dates) with its reference makes
/// (docs/regressions.md, "Significance"); the one with the smaller p-value is the decisive one.
/// </summary>
public enum ComparisonTest
{
    /// <summary>Kolmogorov–Smirnov: the largest difference of the cumulative distributions, any shape of change.</summary>
    Distribution,

    /// <summary>Wilcoxon–Mann–Whitney: the probability that a candidate sample exceeds a reference sample, a shift of the whole distribution or of part of it one way.</summary>
    Shift,
}
