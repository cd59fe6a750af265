using System.Collections.Immutable;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// A candidate date's (or a window of consecutive dates') cumulative distribution against a
/// reference's (docs/regressions.md, "The default detector"). <see cref="Differences"/>[k] is
/// <c>F_reference(k) - F_candidate(k)</c> at the upper edge of bucket k: positive where the candidate
/// holds less mass at or below that edge, i.e. where mass moved to higher buckets.
/// </summary>
public sealed record CdfComparison
{
    /// <summary>
    /// Share of the area between the two cumulative distributions that must lie on one side for
    /// the direction to be "higher" or "lower": four fifths leaves room for the sampling noise
    /// that always adds some area on the other side, yet calls a split of the mass both ways
    /// (a bimodal change) "changed".
    /// </summary>
    public const double DirectionShare = 0.8;

    public required ImmutableArray<double> Differences { get; init; }

    /// <summary>Kolmogorov–Smirnov distance: the largest |difference|.</summary>
    public required double Distance { get; init; }

    /// <summary>
    /// The decisive edge of the edge-by-edge test: where the difference is largest in standard
    /// errors (not necessarily where it is largest, <see cref="Distance"/>, which is often in the middle
    /// of the distribution, where the noise is largest too).
    /// </summary>
    public required int Edge { get; init; }

    /// <summary>
    /// Probability of a difference at least this large on either test if the candidate were drawn
    /// like the reference dates: twice the smaller of <see cref="DistributionPValue"/> and
    /// <see cref="ShiftPValue"/> (Bonferroni over the two tests), at most 1.
    /// </summary>
    public required double PValue { get; init; }

    /// <summary>The Kolmogorov–Smirnov test's p-value for <see cref="Distance"/>.</summary>
    public double DistributionPValue { get; init; } = 1;

    /// <summary>
    /// <c>P(candidate sample &gt; reference sample) - ½</c> (ties count half): positive when the
    /// candidate's values are higher. The Wilcoxon–Mann–Whitney statistic, in [-½, ½].
    /// </summary>
    public double Shift { get; init; }

    /// <summary>The rank-sum test's two-sided p-value for <see cref="Shift"/>.</summary>
    public double ShiftPValue { get; init; } = 1;

    /// <summary>The test with the smaller p-value.</summary>
    public ComparisonTest Decisive => ShiftPValue < DistributionPValue ? ComparisonTest.Shift : ComparisonTest.Distribution;

    public RegressionDirection Direction => DirectionOf(Differences.AsSpan());

    /// <summary>The direction of a difference vector (see <see cref="Differences"/>).</summary>
    public static RegressionDirection DirectionOf(ReadOnlySpan<double> differences)
    {
        double up = 0, down = 0;
        foreach (var d in differences)
        {
            if (d > 0)
            {
                up += d;
            }
            else
            {
                down -= d;
            }
        }
        return DirectionFromAreas(up, down);
    }

    /// <summary>
    /// "higher" when at least <see cref="DirectionShare"/> of the area between the cumulative
    /// distributions says the mass moved up, "lower" when as much says down, else "changed".
    /// </summary>
    public static RegressionDirection DirectionFromAreas(double up, double down)
    {
        double total = up + down;
        if (total <= 0)
        {
            return RegressionDirection.Changed;
        }
        return up >= DirectionShare * total ? RegressionDirection.Higher
            : down >= DirectionShare * total ? RegressionDirection.Lower
            : RegressionDirection.Changed;
    }
}
