using System.Collections.Immutable;

namespace Telemetry.Grains.Regressions;

/// <summary>Why a check runs detection, if it does.</summary>
/// <param name="Run">True: run detection now.</param>
/// <param name="Reason"><c>first</c>, <c>periodic</c>, or <c>ready:YYYYMMDD,...</c>; null when not running.</param>
/// <param name="NewlyReady">Build dates that reached the ready threshold since they were last seen.</param>
public sealed record DetectionDecision(bool Run, string? Reason, ImmutableArray<DateOnly> NewlyReady);

/// <summary>
/// When a channel runs detection (docs/regressions.md, "Running detection"): every
/// <see cref="RegressionOptions.DetectionPeriod"/>, and as soon as a build date of the window reaches
/// <see cref="RegressionOptions.ReadyPings"/> (it can confirm the date before it, or be a candidate itself).
/// </summary>
public static class DetectionSchedule
{
    public static DetectionDecision Decide(DateTimeOffset now, DateTimeOffset? lastRun, TimeSpan period,
        IReadOnlyDictionary<DateOnly, long> pingsByDate, IReadOnlySet<DateOnly> alreadyReady, long readyPings)
    {
        var newlyReady = pingsByDate
            .Where(kv => kv.Value >= readyPings && !alreadyReady.Contains(kv.Key))
            .Select(kv => kv.Key)
            .Order()
            .ToImmutableArray();
        if (!newlyReady.IsEmpty)
        {
            return new DetectionDecision(true, "ready:" + string.Join(',', newlyReady.Select(MetricSeries.FormatBuildDate)), newlyReady);
        }
        if (lastRun is null)
        {
            return new DetectionDecision(true, "first", newlyReady);
        }
        return now - lastRun.Value >= period
            ? new DetectionDecision(true, "periodic", newlyReady)
            : new DetectionDecision(false, null, newlyReady);
    }
}
