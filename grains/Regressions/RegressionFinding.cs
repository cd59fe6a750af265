using System.Collections.Immutable;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// One regression a detector found in a series: the build date where the distribution changed,
/// how much (<see cref="Score"/>, whose meaning depends on the detector), which way, and the two
/// normalised histograms a person compares to judge it (docs/regressions.md, "Findings").
/// </summary>
public sealed record RegressionFinding
{
    /// <summary>The <see cref="IRegressionDetector.Name"/> of the detector that produced it.</summary>
    public required string Detector { get; init; }

    /// <summary>The first build date with the new distribution.</summary>
    public required DateOnly BuildDate { get; init; }

    /// <summary>
    /// The newest build date the finding needed: it could be reported once this date had data
    /// (cerberus: 2 dates after <see cref="BuildDate"/>; default: the confirming date).
    /// </summary>
    public required DateOnly ConfirmedBy { get; init; }

    /// <summary>
    /// The detector's distance between <see cref="Candidate"/> and <see cref="Reference"/>: the
    /// Bhattacharyya/Hellinger distance for <c>cerberus</c>, the Kolmogorov–Smirnov distance
    /// (largest difference of the cumulative distributions) for <c>default</c>. Both lie in [0, 1].
    /// </summary>
    public required double Score { get; init; }

    /// <summary>
    /// Significance of the difference between <see cref="Candidate"/> and <see cref="Reference"/>
    /// when the detector tests one (<c>default</c>); null otherwise. For a finding dated back to
    /// the onset of a slow change, that one date alone may be less significant than the dates
    /// up to <see cref="ConfirmedBy"/> that decided it.
    /// </summary>
    public double? PValue { get; init; }

    public required RegressionDirection Direction { get; init; }

    /// <summary>Lower bounds of the buckets of <see cref="Candidate"/> and <see cref="Reference"/>.</summary>
    public required ImmutableArray<long> BucketLowerBounds { get; init; }

    /// <summary>The build date's histogram divided by its total.</summary>
    public required ImmutableArray<double> Candidate { get; init; }

    /// <summary>The reference distribution the candidate was compared with, normalised (sums to 1).</summary>
    public required ImmutableArray<double> Reference { get; init; }

    /// <summary>The build dates the reference was made of, oldest first.</summary>
    public required ImmutableArray<DateOnly> ReferenceDates { get; init; }

    /// <summary>
    /// First build date that may hold the change's start. <see cref="BuildDate"/>, the date the finding
    /// blames, is the most likely one that shows the change; the change began between <see cref="SuspectFrom"/> and <see cref="SuspectTo"/> (both
    /// included) with probability 95 % (<see cref="ChangePointPosterior"/>). A detector that does not
    /// estimate it gives <see cref="BuildDate"/> for both.
    /// </summary>
    public DateOnly SuspectFrom
    {
        get => _suspectFrom ?? BuildDate;
        init => _suspectFrom = value;
    }

    /// <summary>Last build date that may hold the change's start (see <see cref="SuspectFrom"/>).</summary>
    public DateOnly SuspectTo
    {
        get => _suspectTo ?? BuildDate;
        init => _suspectTo = value;
    }

    private readonly DateOnly? _suspectFrom;
    private readonly DateOnly? _suspectTo;
}
