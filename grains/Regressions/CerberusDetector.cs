namespace Telemetry.Grains.Regressions;

/// <summary>
/// The seed's detector (Mozilla's cerberus <c>alert.py</c>), kept exactly as it worked so that
/// its findings stay comparable (docs/regressions.md, "cerberus"). Every date with enough data is
/// compared with each of the 7 dates before it; it is a regression when it and the next 2 dates
/// all sit far (Bhattacharyya/Hellinger distance &gt; 0.12) from the newest usable reference while
/// the distances to all the references agree (population standard deviation ≤ 0.01).
/// </summary>
public sealed class CerberusDetector : IRegressionDetector
{
    public const string DetectorName = "cerberus";

    /// <summary>Dates before the candidate it is compared with.</summary>
    public const int ReferenceWindow = 7;

    /// <summary>Dates after the candidate that must look the same way (so the last 2 dates are never candidates).</summary>
    public const int ConfirmingDates = 2;

    /// <summary>A distance above this, to the newest usable reference, is suspicious.</summary>
    public const double DistanceThreshold = 0.12;

    /// <summary>The distances to the references must not spread more than this (population standard deviation).</summary>
    public const double SpreadThreshold = 0.01;

    /// <summary>"Enough data": total ≥ this and largest bucket ≥ this.</summary>
    public const long MinimumCount = 1000;

    /// <summary>
    /// At least this many usable references. The seed writes <c>len(d) &gt; nr_ref_days / 2</c>
    /// in Python 2, where <c>7 / 2</c> is the integer 3; read as real division (3.5) the rule is
    /// the same: at least 4 distances.
    /// </summary>
    public const int MinimumReferences = ReferenceWindow / 2 + 1;

    public string Name => DetectorName;

    public IReadOnlyList<RegressionFinding> Detect(MetricSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var findings = new List<RegressionFinding>();
        var normalised = series.Dates.Select(d => d.Normalised()).ToArray();
        for (int i = 0; i < series.Count - ConfirmingDates; i++)
        {
            if (!HasEnoughData(series[i]))
            {
                continue;
            }
            // The reference a finding shows is the one the candidate itself was compared with last.
            bool regression = IsSuspicious(series, normalised, i, i, out int? newestReference);
            for (int j = i + 1; j <= i + ConfirmingDates && regression; j++)
            {
                regression = IsSuspicious(series, normalised, j, i, out _);
            }
            if (!regression || newestReference is not int r)
            {
                continue;
            }
            var candidate = normalised[i];
            findings.Add(new RegressionFinding
            {
                Detector = DetectorName,
                BuildDate = series[i].BuildDate,
                ConfirmedBy = series[i + ConfirmingDates].BuildDate,
                Score = Distance(candidate, normalised[r]),
                Direction = DirectionOf(candidate, normalised[r]),
                BucketLowerBounds = series[i].LowerBounds,
                Candidate = [.. candidate],
                Reference = [.. normalised[r]],
                ReferenceDates = [series[r].BuildDate],
            });
        }
        return findings;
    }

    /// <summary>The seed's <c>has_not_enough_data</c>, negated.</summary>
    public static bool HasEnoughData(BuildDateHistogram h) => h.Total >= MinimumCount && h.LargestBucket >= MinimumCount;

    /// <summary>
    /// Bhattacharyya distance as OpenCV's <c>compareHist(..., HISTCMP_BHATTACHARYYA)</c> computes
    /// it for normalised histograms (the Hellinger distance): <c>sqrt(max(0, 1 - Σ sqrt(p q)))</c>.
    /// An empty histogram (all zeros) is at distance 1 from everything, as in the seed.
    /// </summary>
    public static double Distance(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        double bc = 0;
        for (int k = 0; k < p.Length; k++)
        {
            bc += Math.Sqrt(p[k] * q[k]);
        }
        return Math.Sqrt(Math.Max(0, 1 - bc));
    }

    /// <summary>
    /// Date <paramref name="j"/> compared with the references of candidate <paramref name="i"/>
    /// (the dates i-7 .. i-1 with enough data, in date order). The confirming dates j &gt; i are not
    /// themselves checked for enough data: the seed does not either.
    /// </summary>
    private static bool IsSuspicious(MetricSeries series, double[][] normalised, int j, int i, out int? newestReference)
    {
        newestReference = null;
        var distances = new List<double>(ReferenceWindow);
        for (int k = Math.Max(0, i - ReferenceWindow); k < i; k++)
        {
            // The seed compares equal-length arrays bucket by bucket and ignores the bounds; a
            // reference with another bucket count cannot be compared at all (OpenCV refuses), so it
            // is treated like a reference without enough data.
            if (!HasEnoughData(series[k]) || normalised[k].Length != normalised[j].Length)
            {
                continue;
            }
            distances.Add(Distance(normalised[j], normalised[k]));
            newestReference = k;
        }
        return distances.Count >= MinimumReferences
            && distances[^1] > DistanceThreshold
            && PopulationStandardDeviation(distances) <= SpreadThreshold;
    }

    /// <summary><c>numpy.std</c>: divides by n, not n - 1.</summary>
    private static double PopulationStandardDeviation(List<double> values)
    {
        double mean = values.Average();
        double sumSquares = 0;
        foreach (var v in values)
        {
            sumSquares += (v - mean) * (v - mean);
        }
        return Math.Sqrt(sumSquares / values.Count);
    }

    /// <summary>
    /// The seed does not report a direction; this one is derived the way the default detector
    /// derives it (docs/regressions.md, "Direction"): from the area between the two cumulative
    /// distributions on each side.
    /// </summary>
    private static RegressionDirection DirectionOf(double[] candidate, double[] reference)
    {
        double fc = 0, fr = 0, up = 0, down = 0;
        for (int k = 0; k < candidate.Length - 1; k++)
        {
            fc += candidate[k];
            fr += reference[k];
            if (fr > fc)
            {
                up += fr - fc;
            }
            else
            {
                down += fc - fr;
            }
        }
        return CdfComparison.DirectionFromAreas(up, down);
    }
}
