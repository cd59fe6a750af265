using System.Collections.Immutable;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// One detector's findings on one labelled series, scored (docs/regressions.md, "Scoring"): a
/// finding whose date lies in a labelled change's window finds it; every other finding is a
/// false alert. <see cref="EarlyAlerts"/>: the false alerts dated before the series' first labelled change.
/// Scored <c>byRange</c>, a finding counts by the build dates it names as suspects
/// (<see cref="RegressionFinding.SuspectFrom"/>..<see cref="RegressionFinding.SuspectTo"/>): it finds a
/// change when that range overlaps the change's window, and is a false alert when it overlaps none.
/// <see cref="RangeWidths"/>: every finding's range, in build dates.
/// </summary>
public sealed record SeriesScore(ImmutableArray<ChangeOutcome> Changes, int FalseAlerts, int Dates, int EarlyAlerts = 0)
{
    public ImmutableArray<int> RangeWidths { get; init; } = ImmutableArray<int>.Empty;

    public static SeriesScore Of(LabelledSeries labelled, IReadOnlyList<RegressionFinding> findings, bool byRange = false)
    {
        var indexOf = new Dictionary<DateOnly, int>();
        for (int i = 0; i < labelled.Series.Count; i++)
        {
            indexOf[labelled.Series[i].BuildDate] = i;
        }
        var positions = findings
            .Select(f => (Index: indexOf[f.BuildDate], Confirmed: indexOf[f.ConfirmedBy], f.Direction, First: indexOf[f.SuspectFrom], Last: indexOf[f.SuspectTo]))
            .OrderBy(f => f.Index).ToList();
        var matched = new bool[positions.Count];
        var outcomes = ImmutableArray.CreateBuilder<ChangeOutcome>();
        foreach (var change in labelled.Changes)
        {
            var inWindow = Enumerable.Range(0, positions.Count).Where(k => byRange
                ? positions[k].First <= change.WindowEnd && positions[k].Last >= change.Start
                : positions[k].Index >= change.Start && positions[k].Index <= change.WindowEnd).ToList();
            inWindow.ForEach(k => matched[k] = true);
            if (inWindow.Count == 0)
            {
                outcomes.Add(new ChangeOutcome(change, false, 0, 0, false, 0));
                continue;
            }
            var first = positions[inWindow[0]];
            outcomes.Add(new ChangeOutcome(change, true, first.Index - change.Start, first.Confirmed - change.Start, first.Direction == change.Direction, inWindow.Count - 1)
            {
                StartSuspected = first.First <= change.Start && change.Start <= first.Last,
            });
        }
        int firstChange = labelled.Changes.IsEmpty ? int.MaxValue : labelled.Changes.Min(c => c.Start);
        int early = Enumerable.Range(0, positions.Count).Count(k => !matched[k] && (byRange ? positions[k].Last : positions[k].Index) < firstChange);
        return new SeriesScore(outcomes.ToImmutable(), matched.Count(m => !m), labelled.Series.Count, early)
        {
            RangeWidths = [.. positions.Select(p => p.Last - p.First + 1)],
        };
    }

    /// <summary>The findings outside every labelled window, with their date index.</summary>
    public static IEnumerable<(int Index, RegressionFinding Finding)> FalseAlertsOf(LabelledSeries labelled, IReadOnlyList<RegressionFinding> findings)
    {
        foreach (var f in findings)
        {
            int index = labelled.Series.Dates.IndexOf(labelled.Series.Dates.First(d => d.BuildDate == f.BuildDate));
            if (!labelled.Changes.Any(c => index >= c.Start && index <= c.WindowEnd))
            {
                yield return (index, f);
            }
        }
    }
}
