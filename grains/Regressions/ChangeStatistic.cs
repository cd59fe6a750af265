namespace Telemetry.Grains.Regressions;

/// <summary>
/// The one number per build date that carries a comparison's decisive difference, so that the
/// detector can ask of every date of a window whether it shows the change (docs/regressions.md,
/// "The decision"): a linear statistic <c>Σ_k p_date(k) a(k)</c> of the date's normalised
/// histogram, minus its value for the reference, signed so that positive means mass moved to
/// higher buckets.
/// <list type="bullet">
/// <item>for the Kolmogorov–Smirnov test, <c>a(k) = -1</c> up to the decisive edge: the value is
/// <c>F_reference(edge) - F_date(edge)</c>;</item>
/// <item>for the rank-sum test, <c>a(k)</c> = the reference's mid-distribution at bucket k: the value is
/// <c>P(date sample &gt; reference sample) - ½</c>.</item>
/// </list>
/// Its sampling variance for a date of n samples is <c>φ Var(a) / n</c>, φ the dispersion measured
/// for this kind of statistic (<see cref="ReferenceDistribution"/>), <c>Var(a)</c> under the
/// distribution the date is supposed to come from.
/// </summary>
public sealed class ChangeStatistic
{
    private readonly double[] scores;
    private readonly double center;
    private readonly double comparisonVariance;
    private readonly double typicalTotal;
    private readonly double referenceSamples;

    /// <param name="comparisonVariance">Variance per sample for a date against the reference (φ included).</param>
    internal ChangeStatistic(ComparisonTest test, double[] scores, double center, double comparisonVariance, double typicalTotal, double referenceSamples)
    {
        Test = test;
        this.scores = scores;
        this.center = center;
        this.comparisonVariance = comparisonVariance;
        this.typicalTotal = typicalTotal;
        this.referenceSamples = referenceSamples;
    }

    public ComparisonTest Test { get; }

    /// <summary>The date's value minus the reference's (positive: mass moved to higher buckets).</summary>
    public double Value(BuildDateHistogram date)
    {
        ArgumentNullException.ThrowIfNull(date);
        if (date.Total == 0)
        {
            return 0;
        }
        double sum = 0;
        for (int k = 0; k < scores.Length; k++)
        {
            sum += date.Counts[k] * scores[k];
        }
        return sum / date.Total - center;
    }

    /// <summary>
    /// The window's value: the dates' values weighted by <see cref="Weight"/> (the value of the
    /// window's pooled distribution, as <see cref="ReferenceDistribution.Compare(IReadOnlyList{BuildDateHistogram})"/> pools it).
    /// </summary>
    public double Value(IReadOnlyList<BuildDateHistogram> window)
    {
        ArgumentNullException.ThrowIfNull(window);
        double sum = 0, weights = 0;
        foreach (var date in window)
        {
            double w = Weight(date);
            sum += w * Value(date);
            weights += w;
        }
        return weights > 0 ? sum / weights : 0;
    }

    /// <summary>
    /// How many samples a date counts for: its total, but no more than the reference dates' typical
    /// total (their scatter was measured at their volume; a date with more samples is not trusted
    /// to be more precise than they were).
    /// </summary>
    public double Weight(BuildDateHistogram date) => Math.Min(date.Total, typicalTotal);

    /// <summary>
    /// The inverse of the sampling variance of <see cref="Value(BuildDateHistogram)"/> for this
    /// date alone (without the reference's): how much the date counts when dates are compared with
    /// each other. 0 when nothing is known.
    /// </summary>
    public double Precision(BuildDateHistogram date) => comparisonVariance > 0 ? Weight(date) / comparisonVariance : 0;

    /// <summary>
    /// The window's value (dates pooled as in <see cref="Value(IReadOnlyList{BuildDateHistogram})"/>)
    /// in standard errors of the difference between that many samples and the reference.
    /// </summary>
    public double Z(IReadOnlyList<BuildDateHistogram> window)
    {
        ArgumentNullException.ThrowIfNull(window);
        double w = window.Sum(Weight);
        if (w <= 0 || comparisonVariance <= 0)
        {
            return 0;
        }
        return Value(window) / Math.Sqrt(comparisonVariance * (1 / w + 1 / referenceSamples));
    }

    /// <summary>
    /// The date's value in standard errors of the difference between one date and the reference
    /// (the date's sampling noise and the reference's): how clearly this date alone differs.
    /// </summary>
    public double Z(BuildDateHistogram date)
    {
        double w = Weight(date);
        if (w <= 0 || comparisonVariance <= 0)
        {
            return 0;
        }
        return Value(date) / Math.Sqrt(comparisonVariance * (1 / w + 1 / referenceSamples));
    }
}
