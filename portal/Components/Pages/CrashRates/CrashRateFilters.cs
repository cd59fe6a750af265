using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.CrashRates;

/// <summary>
/// The crash-rates page's filters as they appear in its URL: the date range, how dates are counted
/// (<c>by</c>), which crashes (<c>measure</c>), the grouping and one value per crash dimension.
/// </summary>
public sealed record CrashRateFilters
{
    /// <summary>The dimensions of a <c>crash_aggregates</c> row (README, "Crash aggregates"): the only names a filter or group may use.</summary>
    public static readonly ImmutableArray<string> Dimensions =
    [
        "build_version", "build_id", "channel", "application", "os_name", "os_version", "architecture",
        "country", "experiment_id", "experiment_branch", "e10s_enabled", "e10s_cohort", "gfx_compositor",
    ];

    public static readonly ImmutableArray<string> DefaultGroupBy = ["channel", "build_version"];

    public const int DefaultDays = 28;

    public required string From { get; init; }
    public required string To { get; init; }

    /// <summary><c>activity</c> (the day the usage happened) or <c>submission</c>.</summary>
    public string By { get; init; } = "activity";

    /// <summary><c>main</c> or <c>content</c> crashes.</summary>
    public string Measure { get; init; } = "main";

    public ImmutableArray<string> GroupBy { get; init; } = DefaultGroupBy;

    public ImmutableSortedDictionary<string, string> Filters { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>
    /// Reads the URL's values, falling back to the last <see cref="DefaultDays"/> days before <paramref name="today"/>
    /// and the defaults for anything missing or not understood; unknown dimensions are dropped.
    /// </summary>
    public static CrashRateFilters FromQuery(string? from, string? to, string? by, string? measure, string? group,
        IReadOnlyDictionary<string, string?> dimensions, DateOnly today)
    {
        var end = Date(to) ?? today.AddDays(-1);
        var start = Date(from) ?? end.AddDays(-(DefaultDays - 1));
        if (start > end)
        {
            (start, end) = (end, start);
        }
        ImmutableArray<string> groupBy = group is null
            ? DefaultGroupBy
            : [.. group.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(Dimensions.Contains).Distinct()];
        return new CrashRateFilters
        {
            From = Iso(start),
            To = Iso(end),
            By = by is "submission" ? "submission" : "activity",
            Measure = measure is "content" ? "content" : "main",
            GroupBy = groupBy,
            Filters = dimensions
                .Where(d => Dimensions.Contains(d.Key) && !string.IsNullOrWhiteSpace(d.Value))
                .ToImmutableSortedDictionary(d => d.Key, d => d.Value!.Trim(), StringComparer.Ordinal),
        };
    }

    /// <summary>The URL's query values for these filters (null removes a parameter).</summary>
    public IReadOnlyDictionary<string, object?> ToQuery()
    {
        var query = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["from"] = From,
            ["to"] = To,
            ["by"] = By == "activity" ? null : By,
            ["measure"] = Measure == "main" ? null : Measure,
            ["group"] = GroupBy.SequenceEqual(DefaultGroupBy) ? null : string.Join(',', GroupBy),
        };
        foreach (var dimension in Dimensions)
        {
            query[dimension] = Filters.TryGetValue(dimension, out var value) ? value : null;
        }
        return query;
    }

    public CrashRateRequest ToRequest() => new(From, To, By, GroupBy, Filters);

    public CrashRateFilters WithFilter(string dimension, string? value) => this with
    {
        Filters = string.IsNullOrWhiteSpace(value) ? Filters.Remove(dimension) : Filters.SetItem(dimension, value.Trim()),
    };

    private static DateOnly? Date(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;

    private static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
