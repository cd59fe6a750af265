using System.Collections.Immutable;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.CrashRates;

/// <summary>One date of a group's line: the rate and its 95 % interval as the silo computed them (null without usage).</summary>
public sealed record CrashPoint(string Date, double? Rate, double? Low, double? High, double UsageHours, long Crashes);

/// <summary>One line of the chart: a group (e.g. a channel and version) over the dates.</summary>
public sealed record CrashSeries(string Name, double UsageHours, ImmutableArray<CrashPoint> Points);

/// <summary>The crash-rates chart: the dates and the groups with most usage, one line and band each.</summary>
public sealed class CrashRatesView
{
    public const int MaxSeries = 8;

    public required ImmutableArray<string> Dates { get; init; }
    public required ImmutableArray<CrashSeries> Series { get; init; }

    /// <summary>Groups beyond <see cref="MaxSeries"/> (least usage) left out of the chart.</summary>
    public required int HiddenSeries { get; init; }

    public bool IsEmpty => Series.IsEmpty;

    public static CrashRatesView From(IEnumerable<CrashRateRow> rows, string measure)
    {
        var list = rows.ToList();
        var dates = list.Select(r => r.Date).Distinct().Order(StringComparer.Ordinal).ToImmutableArray();
        var series = list
            .GroupBy(r => Name(r.Group))
            .Select(g =>
            {
                var byDate = g.ToDictionary(r => r.Date);
                return new CrashSeries(g.Key, g.Sum(r => r.UsageHours), [.. dates.Select(d => byDate.TryGetValue(d, out var r)
                    ? measure == "content"
                        ? new CrashPoint(d, r.ContentRate, r.ContentLow, r.ContentHigh, r.UsageHours, r.ContentCrashes)
                        : new CrashPoint(d, r.MainRate, r.MainLow, r.MainHigh, r.UsageHours, r.MainCrashes)
                    : new CrashPoint(d, null, null, null, 0, 0))]);
            })
            .OrderByDescending(s => s.UsageHours)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .ToList();
        return new CrashRatesView
        {
            Dates = dates,
            Series = [.. series.Take(MaxSeries)],
            HiddenSeries = Math.Max(0, series.Count - MaxSeries),
        };
    }

    /// <summary>A group's name: its channel, then its other values in dimension order ("nightly 45.0a1"), or "all" without grouping.</summary>
    public static string Name(IReadOnlyDictionary<string, string> group) =>
        group.Count == 0
            ? "all"
            : string.Join(" ", CrashRateFilters.Dimensions.Where(group.ContainsKey).OrderBy(d => d == "channel" ? 0 : 1).Select(d => group[d]));
}
