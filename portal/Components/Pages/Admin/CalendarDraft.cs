using System.Globalization;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Admin;

/// <summary>One editable row of the release calendar, as typed.</summary>
public sealed class CalendarDraftRow
{
    public string Version { get; set; } = "";
    public string NightlyStart { get; set; } = "";
    public string Release { get; set; } = "";
}

/// <summary>
/// The release calendar being edited: rows as typed, checked before anything is sent so a mistake is named
/// by its row. The silo checks again and its answer names what it refused.
/// </summary>
public sealed class CalendarDraft
{
    public List<CalendarDraftRow> Rows { get; } = [];

    public string Comment { get; set; } = "";

    public static CalendarDraft From(ReleaseCalendarView calendar)
    {
        var draft = new CalendarDraft { Comment = calendar.Comment ?? "" };
        draft.Rows.AddRange(calendar.Versions.Select(v => new CalendarDraftRow
        {
            Version = v.Version,
            NightlyStart = v.NightlyStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Release = v.Release.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }));
        return draft;
    }

    /// <summary>The trains to store, or the problems (one per bad row) when there are any.</summary>
    public (IReadOnlyList<CalendarTrain> Trains, IReadOnlyList<string> Problems) Check()
    {
        var trains = new List<CalendarTrain>();
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Rows.Count; i++)
        {
            var row = Rows[i];
            string version = row.Version.Trim();
            string where = $"Row {i + 1}{(version.Length > 0 ? $" (version {version})" : "")}";
            if (version.Length == 0)
            {
                problems.Add($"{where}: the version is empty.");
                continue;
            }
            if (!seen.Add(version))
            {
                problems.Add($"{where}: version {version} is listed twice.");
                continue;
            }
            if (!TryDate(row.NightlyStart, out var nightly))
            {
                problems.Add($"{where}: the nightly start '{row.NightlyStart}' is not a date (yyyy-MM-dd).");
                continue;
            }
            if (!TryDate(row.Release, out var release))
            {
                problems.Add($"{where}: the release '{row.Release}' is not a date (yyyy-MM-dd).");
                continue;
            }
            if (release < nightly)
            {
                problems.Add($"{where}: the release is before the nightly start.");
                continue;
            }
            trains.Add(new CalendarTrain(version, nightly, release));
        }
        if (Rows.Count == 0)
        {
            problems.Add("The calendar needs at least one version.");
        }
        return (trains, problems);
    }

    private static bool TryDate(string text, out DateOnly date) =>
        DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
}
