namespace Telemetry.Bench.Detectors;

/// <summary>How one detector did on one labelled change.</summary>
/// <param name="Delay">Build dates from the labelled date to the first finding in the window (when found).</param>
/// <param name="AlertDelay">Build dates from the labelled date to the date that finding needed (its <c>ConfirmedBy</c>): when it could be reported.</param>
/// <param name="DirectionRight">The first finding's direction is the labelled one.</param>
/// <param name="Extra">Findings in the window beyond the first (repeated alerts for the same change).</param>
public sealed record ChangeOutcome(LabelledChange Change, bool Found, int Delay, int AlertDelay, bool DirectionRight, int Extra)
{
    /// <summary>The first finding's suspect range holds the labelled date.</summary>
    public bool StartSuspected { get; init; }
}
