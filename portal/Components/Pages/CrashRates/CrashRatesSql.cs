using System.Globalization;
using System.Text;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.CrashRates;

/// <summary>
/// Writes the SQL over the <c>crash_aggregates</c> table (README, "Crash aggregates") that computes what the page
/// shows, for people to paste into a PostgreSQL client. Values from the page's filters are written as string
/// literals with their quotes doubled (PostgreSQL's standard-conforming strings, where a backslash is an ordinary
/// character); dimension names are only ever taken from <see cref="CrashRateFilters.Dimensions"/>.
/// </summary>
public static class CrashRatesSql
{
    public static string Build(CrashRateRequest request, string measure)
    {
        string crashes = measure == "content" ? "content_crashes" : "main_crashes";
        var from = ParseDate(request.From, "from");
        var to = ParseDate(request.To, "to");
        string dateColumn = request.By == "submission" ? "submission_date" : "activity_date";
        foreach (var name in request.GroupBy.Concat(request.Filters.Keys))
        {
            if (!CrashRateFilters.Dimensions.Contains(name))
            {
                throw new ArgumentException($"'{name}' is not a crash dimension", nameof(request));
            }
        }

        var sql = new StringBuilder();
        sql.Append("SELECT ").Append(dateColumn).Append(" AS date");
        foreach (var group in request.GroupBy)
        {
            sql.Append(",\n       dimensions->>").Append(Literal(group)).Append(" AS ").Append(group);
        }
        sql.Append(",\n       sum((stats->>'usage_hours')::float) AS usage_hours");
        sql.Append(",\n       sum((stats->>'").Append(crashes).Append("')::float) AS ").Append(crashes);
        sql.Append(",\n       1000 * sum((stats->>'").Append(crashes).Append("')::float) / nullif(sum((stats->>'usage_hours')::float), 0) AS ")
            .Append(measure == "content" ? "content_crash_rate" : "main_crash_rate");
        sql.Append("\nFROM crash_aggregates");
        if (request.By == "submission")
        {
            sql.Append("\nWHERE submission_date BETWEEN ").Append(Date(from)).Append(" AND ").Append(Date(to));
        }
        else
        {
            // Usage is dated by activity, at most 7 days before the ping was submitted.
            sql.Append("\nWHERE submission_date BETWEEN ").Append(Date(from)).Append(" AND ").Append(Date(to.AddDays(7)));
            sql.Append("\n  AND activity_date BETWEEN ").Append(Date(from)).Append(" AND ").Append(Date(to));
        }
        foreach (var (name, value) in request.Filters)
        {
            sql.Append("\n  AND dimensions->>").Append(Literal(name)).Append(" = ").Append(Literal(value));
        }
        string positions = string.Join(", ", Enumerable.Range(1, 1 + request.GroupBy.Length));
        sql.Append("\nGROUP BY ").Append(positions);
        sql.Append("\nORDER BY ").Append(positions).Append(';');
        return sql.ToString();
    }

    /// <summary>A PostgreSQL string literal: single quotes doubled; NUL, which no PostgreSQL text can hold, refused.</summary>
    public static string Literal(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("a filter value cannot contain a NUL character", nameof(value));
        }
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }

    private static DateOnly ParseDate(string text, string name) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : throw new ArgumentException($"{name} must be a date as YYYY-MM-DD", name);

    private static string Date(DateOnly d) => "DATE '" + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "'";
}
