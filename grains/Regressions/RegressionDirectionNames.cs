namespace Telemetry.Grains.Regressions;

/// <summary>The wire names of <see cref="RegressionDirection"/> (<c>"higher"</c>, <c>"lower"</c>, <c>"changed"</c>).</summary>
public static class RegressionDirectionNames
{
    public static string ToWireName(this RegressionDirection direction) => direction switch
    {
        RegressionDirection.Higher => "higher",
        RegressionDirection.Lower => "lower",
        RegressionDirection.Changed => "changed",
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, null),
    };
}
