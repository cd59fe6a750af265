using System.Globalization;
using System.Text;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// The benchmark's one markdown table: a row per scenario, then summary rows, detectors side by side.
/// <paramref name="rangeScores"/>, when given: the same findings scored by their suspect ranges
/// (<see cref="SeriesScore.Of"/> with <c>byRange</c>), summarised in rows of their own.
/// </summary>
public sealed class ScoreTable(IReadOnlyList<string> detectors, IReadOnlyList<LabelledSeries> series, IReadOnlyList<SeriesScore[]> scores,
    IReadOnlyList<SeriesScore[]>? rangeScores = null)
{
    /// <summary>Volume bands of the summary rows, by the series' typical pings per build date.</summary>
    private static readonly (string Name, double Low, double High)[] Bands =
    [
        ("< 500 pings/date", 0, 500), ("500–5,000 pings/date", 500, 5_000), ("≥ 5,000 pings/date", 5_000, double.MaxValue),
    ];

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| scenario | series | labelled changes | true effect (KS) |");
        foreach (var d in detectors)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {d}: found |");
        }
        foreach (var d in detectors)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {d}: false alerts |");
        }
        foreach (var d in detectors)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {d}: delay / alert after |");
        }
        sb.AppendLine();
        sb.Append("|---|---:|---:|---:|");
        sb.AppendLine(string.Concat(Enumerable.Repeat("---:|", 3 * detectors.Count)));

        foreach (var name in SyntheticSeriesGenerator.Scenarios.Select(s => s.Name).Distinct())
        {
            Row(sb, name, i => series[i].Scenario.Name == name);
        }
        Row(sb, "**all shifts** (mean, tail, bimodal)", i => IsShift(series[i]));
        foreach (var (bandName, low, high) in Bands)
        {
            Row(sb, "shifts at " + bandName, i => IsShift(series[i]) && series[i].BasePings >= low && series[i].BasePings < high);
        }
        Row(sb, "**all slow drifts**", i => series[i].Scenario.Kind == ScenarioKind.Drift);
        Row(sb, "**all labelled changes**", i => series[i].Scenario.IsRegression);
        Row(sb, "**all series**", _ => true);
        Summary(sb);
        return sb.ToString();
    }

    private void Row(StringBuilder sb, string name, Func<int, bool> include)
    {
        var rows = Enumerable.Range(0, series.Count).Where(include).ToList();
        var labelled = rows.SelectMany(i => series[i].Changes).ToList();
        string effect = labelled.Count == 0 ? "—" : F2(labelled.Average(c => c.TrueEffect));
        sb.Append(CultureInfo.InvariantCulture, $"| {name} | {rows.Count} | {labelled.Count} | {effect} |");
        for (int d = 0; d < detectors.Count; d++)
        {
            var outcomes = rows.SelectMany(i => scores[i][d].Changes).ToList();
            int found = outcomes.Count(o => o.Found);
            sb.Append(outcomes.Count == 0 ? " — |" : $" {found}/{outcomes.Count} ({Percent(found, outcomes.Count)}) |");
        }
        for (int d = 0; d < detectors.Count; d++)
        {
            sb.Append(CultureInfo.InvariantCulture, $" {rows.Sum(i => scores[i][d].FalseAlerts)} |");
        }
        for (int d = 0; d < detectors.Count; d++)
        {
            var found = rows.SelectMany(i => scores[i][d].Changes).Where(o => o.Found).ToList();
            sb.Append(found.Count == 0 ? " — |" : $" {F1(found.Average(o => o.Delay))} / {F1(found.Average(o => o.AlertDelay))} |");
        }
        sb.AppendLine();
    }

    /// <summary>Rows whose cells are rates, one per detector, in the "found" columns' place.</summary>
    private void Summary(StringBuilder sb)
    {
        int seriesDates = Enumerable.Range(0, series.Count).Sum(i => scores[i][0].Dates);
        var noChange = Enumerable.Range(0, series.Count).Where(i => series[i].Scenario.Kind == ScenarioKind.NoChange).ToList();
        void Line(string name, Func<int, string> cell)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {name} | | | |");
            for (int d = 0; d < detectors.Count; d++)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {cell(d)} |");
            }
            sb.AppendLine(string.Concat(Enumerable.Repeat(" |", 2 * detectors.Count)));
        }
        Line($"false alerts per 1,000 series-dates ({seriesDates:N0} series-dates)",
            d => F2(1000.0 * Enumerable.Range(0, series.Count).Sum(i => scores[i][d].FalseAlerts) / seriesDates));
        Line("false alerts on series without a regression (no change, spike, volume, layout, tiny shift)", d =>
            Enumerable.Range(0, series.Count).Where(i => !series[i].Scenario.IsRegression).Sum(i => scores[i][d].FalseAlerts).ToString(CultureInfo.InvariantCulture));
        Line("false alerts on series with a labelled change, before its date (early: blame builds that changed nothing)", d =>
            Enumerable.Range(0, series.Count).Where(i => series[i].Scenario.IsRegression).Sum(i => scores[i][d].EarlyAlerts).ToString(CultureInfo.InvariantCulture));
        Line("false alerts on series with a labelled change, after its window (late or repeated alerts)", d =>
            Enumerable.Range(0, series.Count).Where(i => series[i].Scenario.IsRegression).Sum(i => scores[i][d].FalseAlerts - scores[i][d].EarlyAlerts).ToString(CultureInfo.InvariantCulture));
        Line($"no-change series with a false alert ({noChange.Count} series)",
            d => $"{noChange.Count(i => scores[i][d].FalseAlerts > 0)} ({Percent(noChange.Count(i => scores[i][d].FalseAlerts > 0), noChange.Count)})");
        Line("direction right, of the changes found", d =>
        {
            var found = Enumerable.Range(0, series.Count).SelectMany(i => scores[i][d].Changes).Where(o => o.Found).ToList();
            return found.Count == 0 ? "—" : $"{found.Count(o => o.DirectionRight)}/{found.Count} ({Percent(found.Count(o => o.DirectionRight), found.Count)})";
        });
        Line("found at the labelled date itself (delay 0), of the changes found", d =>
        {
            var found = Enumerable.Range(0, series.Count).SelectMany(i => scores[i][d].Changes).Where(o => o.Found).ToList();
            return found.Count == 0 ? "—" : $"{found.Count(o => o.Delay == 0)}/{found.Count} ({Percent(found.Count(o => o.Delay == 0), found.Count)})";
        });
        Line("repeated alerts on a found change (more than one finding in its window)", d =>
            Enumerable.Range(0, series.Count).SelectMany(i => scores[i][d].Changes).Sum(o => o.Extra).ToString(CultureInfo.InvariantCulture));
        Line("the first finding's suspect range holds the labelled date, of the changes found (all / shifts: a drift has no one start)", d =>
        {
            var found = Enumerable.Range(0, series.Count).SelectMany(i => scores[i][d].Changes).Where(o => o.Found).ToList();
            var shifts = Enumerable.Range(0, series.Count).Where(i => IsShift(series[i])).SelectMany(i => scores[i][d].Changes).Where(o => o.Found).ToList();
            return found.Count == 0 ? "—" : $"{found.Count(o => o.StartSuspected)}/{found.Count} ({Percent(found.Count(o => o.StartSuspected), found.Count)}) / "
                + $"{shifts.Count(o => o.StartSuspected)}/{shifts.Count} ({Percent(shifts.Count(o => o.StartSuspected), shifts.Count)})";
        });
        Line("suspect range, build dates: median / 90th percentile / largest (share of findings naming one date)", d =>
        {
            var widths = Enumerable.Range(0, series.Count).SelectMany(i => scores[i][d].RangeWidths).Order().ToList();
            return widths.Count == 0 ? "—" : FormattableString.Invariant(
                $"{widths[widths.Count / 2]} / {widths[(int)(0.9 * (widths.Count - 1))]} / {widths[^1]} ({Percent(widths.Count(w => w == 1), widths.Count)})");
        });
        if (rangeScores is null)
        {
            return;
        }
        Line("**scored by suspect range**: found (the range overlaps the change's window)", d =>
        {
            var outcomes = Enumerable.Range(0, series.Count).SelectMany(i => rangeScores[i][d].Changes).ToList();
            return $"{outcomes.Count(o => o.Found)}/{outcomes.Count} ({Percent(outcomes.Count(o => o.Found), outcomes.Count)})";
        });
        Line("**scored by suspect range**: false alerts (the range overlaps no window): total (no regression / early / late)", d =>
        {
            int total = Enumerable.Range(0, series.Count).Sum(i => rangeScores[i][d].FalseAlerts);
            int none = Enumerable.Range(0, series.Count).Where(i => !series[i].Scenario.IsRegression).Sum(i => rangeScores[i][d].FalseAlerts);
            int early = Enumerable.Range(0, series.Count).Where(i => series[i].Scenario.IsRegression).Sum(i => rangeScores[i][d].EarlyAlerts);
            return FormattableString.Invariant($"{total} ({none} / {early} / {total - none - early})");
        });
    }

    private static bool IsShift(LabelledSeries s) => s.Scenario.Kind is ScenarioKind.MeanShift or ScenarioKind.TailGrowth or ScenarioKind.BimodalSplit;

    private static string Percent(int part, int whole) => whole == 0 ? "—" : (100.0 * part / whole).ToString("F0", CultureInfo.InvariantCulture) + " %";

    private static string F1(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

    private static string F2(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
}
