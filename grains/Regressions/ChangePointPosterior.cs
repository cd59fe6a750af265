namespace Telemetry.Grains.Regressions;

/// <summary>
/// How sure a finding's date is (docs/regressions.md, "The suspect range"). A finding names one build
/// date, the most likely start of the change; at a few hundred pings a date the noise of one date is
/// of the size of a small change, and the date before or after it is often nearly as likely. The
/// owner who reads the pushlog needs the builds that may hold the culprit, so a finding also names
/// the range of build dates that holds the change's start with probability <see cref="Level"/>.
/// <para>
/// Model: the dates' values of the decisive statistic (<see cref="ChangeStatistic"/>) are normal
/// around one level before the step and another from the step on, each with its known precision;
/// the step lies before one of the dates 1..n−1, each position equally likely a priori, and moves
/// the level in the change's direction. The probability of a position is proportional to its
/// profile likelihood, <c>exp(½ max(0, T)²)</c> with
/// <c>T = sign · (m_after − m_before) / sqrt(1/Λ_before + 1/Λ_after)</c> (m the precision-weighted
/// means, Λ the summed precisions of the two sides): the same statistic the onset maximises. A step
/// the other way fits no better than no step (T = 0).
/// </para>
/// </summary>
public static class ChangePointPosterior
{
    /// <summary>Probability the suspect range holds the change's start.</summary>
    public const double Level = 0.95;

    /// <summary>
    /// The probability that the step lies just before each date (index 0 is always 0: the first
    /// date is before any step). All zero when there are fewer than two dates or no precision.
    /// </summary>
    public static double[] Of(ReadOnlySpan<double> values, ReadOnlySpan<double> precisions, int sign)
    {
        if (values.Length != precisions.Length)
        {
            throw new ArgumentException("one precision per value", nameof(precisions));
        }
        int n = values.Length;
        var posterior = new double[n];
        if (n < 2)
        {
            return posterior;
        }
        double afterSum = 0, afterPrecision = 0;
        for (int k = 0; k < n; k++)
        {
            afterSum += precisions[k] * values[k];
            afterPrecision += precisions[k];
        }
        double beforeSum = 0, beforePrecision = 0, largest = double.NegativeInfinity;
        var logs = new double[n];
        for (int k = 1; k < n; k++)
        {
            beforeSum += precisions[k - 1] * values[k - 1];
            beforePrecision += precisions[k - 1];
            afterSum -= precisions[k - 1] * values[k - 1];
            afterPrecision -= precisions[k - 1];
            double t = 0;
            if (beforePrecision > 0 && afterPrecision > 0)
            {
                t = sign * (afterSum / afterPrecision - beforeSum / beforePrecision) / Math.Sqrt(1 / beforePrecision + 1 / afterPrecision);
            }
            logs[k] = 0.5 * Math.Max(0, t) * Math.Max(0, t);
            largest = Math.Max(largest, logs[k]);
        }
        double total = 0;
        for (int k = 1; k < n; k++)
        {
            posterior[k] = Math.Exp(logs[k] - largest);
            total += posterior[k];
        }
        for (int k = 1; k < n; k++)
        {
            posterior[k] /= total;
        }
        return posterior;
    }

    /// <summary>
    /// The contiguous range of positions around <paramref name="blamed"/> that holds at least
    /// <paramref name="level"/> of the probability, grown one position at a time towards the more
    /// probable neighbour (so it is as narrow as growing from the blamed date allows, and always
    /// holds it). When the whole series holds less, the range is every position.
    /// </summary>
    public static (int First, int Last) CredibleRange(ReadOnlySpan<double> posterior, int blamed, double level = Level)
    {
        if ((uint)blamed >= (uint)posterior.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(blamed));
        }
        int first = blamed, last = blamed;
        double mass = posterior[blamed];
        // Position 0 never holds the step; stay within 1..n-1 unless the blamed date is 0 itself.
        int lowest = Math.Min(1, blamed);
        while (mass < level - 1e-12)
        {
            double left = first - 1 >= lowest ? posterior[first - 1] : -1;
            double right = last + 1 < posterior.Length ? posterior[last + 1] : -1;
            if (left < 0 && right < 0)
            {
                break;
            }
            if (right > left)
            {
                mass += posterior[++last];
            }
            else
            {
                mass += posterior[--first];
            }
        }
        return (first, last);
    }
}
