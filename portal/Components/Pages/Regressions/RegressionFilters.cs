using System.Collections.Immutable;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Regressions;

/// <summary>
/// The regressions list's filters and sort order as they appear in its URL. Filters go to the silo
/// (<c>GET /api/regressions</c>); sorting is done here, on the rows the silo answered.
/// </summary>
public sealed record RegressionFilters(string? Channel, string? Metric, string? State, string? Detector, string? From, string? To, string Sort, bool Descending)
{
    /// <summary>The columns a person can sort by, as written in the URL.</summary>
    public static readonly ImmutableArray<string> SortColumns = ["channel", "metric", "build_date", "detector", "score", "direction", "state"];

    public static readonly ImmutableArray<string> States = ["new", "acknowledged", "resolved", "invalid", "regressed"];

    public static readonly ImmutableArray<string> Detectors = ["default", "cerberus"];

    public const string DefaultSort = "build_date";

    public static RegressionFilters FromQuery(string? channel, string? metric, string? state, string? detector, string? from, string? to, string? sort, string? dir)
    {
        string column = sort is not null && SortColumns.Contains(sort) ? sort : DefaultSort;
        // Newest build date and highest score first unless asked otherwise; names ascending.
        bool descending = dir switch
        {
            "asc" => false,
            "desc" => true,
            _ => column is "build_date" or "score",
        };
        return new RegressionFilters(Clean(channel), Clean(metric), Clean(state), Clean(detector), Clean(from), Clean(to), column, descending);
    }

    public RegressionListQuery ToListQuery() => new(Channel, Metric, State, Detector, From, To);

    /// <summary>The URL's query values (null removes a parameter, so the default view has a bare URL).</summary>
    public IReadOnlyDictionary<string, object?> ToQuery() => new Dictionary<string, object?>
    {
        ["channel"] = Channel,
        ["metric"] = Metric,
        ["state"] = State,
        ["detector"] = Detector,
        ["from"] = From,
        ["to"] = To,
        ["sort"] = Sort == DefaultSort ? null : Sort,
        ["dir"] = Descending == (Sort is "build_date" or "score") ? null : Descending ? "desc" : "asc",
    };

    /// <summary>Clicking a column header: sort by it, or flip the order when it already is the sort column.</summary>
    public RegressionFilters SortBy(string column) => column == Sort
        ? this with { Descending = !Descending }
        : this with { Sort = column, Descending = column is "build_date" or "score" };

    public IEnumerable<RegressionRow> Apply(IEnumerable<RegressionRow> rows)
    {
        IOrderedEnumerable<RegressionRow> ordered = Sort switch
        {
            "channel" => Order(rows, r => r.Channel),
            "metric" => Order(rows, r => r.Metric),
            "detector" => Order(rows, r => r.Detector),
            "direction" => Order(rows, r => r.Direction),
            "state" => Order(rows, r => r.State),
            "score" => Descending ? rows.OrderByDescending(r => r.Score) : rows.OrderBy(r => r.Score),
            _ => Order(rows, r => r.BuildDate),
        };
        // Ties: newest build date, then newest id, as the silo lists them.
        return ordered.ThenByDescending(r => r.BuildDate, StringComparer.Ordinal).ThenByDescending(r => r.Id);
    }

    private IOrderedEnumerable<RegressionRow> Order(IEnumerable<RegressionRow> rows, Func<RegressionRow, string> key) =>
        Descending ? rows.OrderByDescending(key, StringComparer.OrdinalIgnoreCase) : rows.OrderBy(key, StringComparer.OrdinalIgnoreCase);

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
