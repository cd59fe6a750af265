using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo.Crash;

/// <summary>The crash-rate API, answered from the crash grains (both hosting modes).</summary>
public static class CrashApi
{
    public const int PageSize = 1000;
    public const int MaxRangeDays = 366;

    public static readonly ImmutableArray<string> Dimensions =
    [
        "build_version", "build_id", "channel", "application", "os_name", "os_version", "architecture",
        "country", "experiment_id", "experiment_branch", "e10s_enabled", "e10s_cohort", "gfx_compositor",
    ];

    public static IEndpointRouteBuilder MapCrashApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api").WithTags("Crash aggregates");
        group.MapGet("/crash-aggregates", Aggregates).WithSummary("Rows of crash_aggregates for a submission date, filtered by any dimension, paged");
        group.MapGet("/crash-rates", Rates).WithSummary("Crashes per 1,000 usage hours with 95% intervals, grouped and filtered by any dimension");
        return app;
    }

    internal static async Task<IResult> Aggregates(HttpRequest request, IGrainFactory grains)
    {
        var q = request.Query;
        var unknown = q.Keys.FirstOrDefault(k => k is not ("submission_date" or "page") && !Dimensions.Contains(k));
        if (unknown is not null)
        {
            return BadRequest(unknown, "unknown parameter; allowed: submission_date, page, " + string.Join(", ", Dimensions));
        }
        if (!TryDate(q["submission_date"], out var date))
        {
            return BadRequest("submission_date", "required, as YYYY-MM-DD");
        }
        int page = 0;
        if (q.ContainsKey("page") && (!int.TryParse(q["page"], NumberStyles.None, CultureInfo.InvariantCulture, out page) || page < 0))
        {
            return BadRequest("page", "a page number from 0");
        }
        var filters = Filters(q);
        var rows = (await RowsAsync(grains, date, filters)).ToList();
        var slice = rows.Skip(page * PageSize).Take(PageSize).Select(r => new
        {
            submission_date = r.SubmissionDate,
            activity_date = r.ActivityDate,
            dimensions = r.Dimensions,
            stats = CrashJson.StatPairs(r.Values).ToDictionary(p => p.Name, p => p.Value),
        }).ToList();
        int? next = (page + 1) * PageSize < rows.Count ? page + 1 : null;
        return TypedResults.Json(new { rows = slice, next_page = next });
    }

    internal static async Task<IResult> Rates(HttpRequest request, IGrainFactory grains)
    {
        var q = request.Query;
        var unknown = q.Keys.FirstOrDefault(k => k is not ("from" or "to" or "by" or "group_by") && !Dimensions.Contains(k));
        if (unknown is not null)
        {
            return BadRequest(unknown, "unknown parameter; allowed: from, to, by, group_by, " + string.Join(", ", Dimensions));
        }
        if (!TryDate(q["from"], out var from)) return BadRequest("from", "required, as YYYY-MM-DD");
        if (!TryDate(q["to"], out var to)) return BadRequest("to", "required, as YYYY-MM-DD");
        if (to < from || to.DayNumber - from.DayNumber > MaxRangeDays) return BadRequest("to", $"must not be before from; at most {MaxRangeDays} days");
        string by = q["by"].ToString() is { Length: > 0 } b ? b : "activity";
        if (by is not ("activity" or "submission")) return BadRequest("by", "activity or submission");
        var groupBy = q["group_by"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var badGroup = groupBy.FirstOrDefault(g => !Dimensions.Contains(g));
        if (badGroup is not null) return BadRequest("group_by", $"'{badGroup}' is not a dimension");
        var filters = Filters(q);

        // An activity date is at most 7 days before its submission date.
        var lastSubmission = by == "activity" ? to.AddDays(7) : to;
        var dates = Enumerable.Range(0, lastSubmission.DayNumber - from.DayNumber + 1).Select(i => from.AddDays(i));
        var all = (await Task.WhenAll(dates.Select(d => RowsAsync(grains, d, filters)))).SelectMany(r => r);
        var groups = new SortedDictionary<string, (string Date, ImmutableSortedDictionary<string, string> Group, CrashStats Stats)>(StringComparer.Ordinal);
        foreach (var row in all)
        {
            string date = by == "activity" ? row.ActivityDate : row.SubmissionDate;
            var d = DateOnly.ParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            if (d < from || d > to)
            {
                continue;
            }
            var group = groupBy.Where(row.Dimensions.ContainsKey).ToImmutableSortedDictionary(g => g, g => row.Dimensions[g], StringComparer.Ordinal);
            string key = date + "|" + CrashJson.Dimensions(group);
            if (!groups.TryGetValue(key, out var entry))
            {
                entry = (date, group, new CrashStats());
                groups[key] = entry;
            }
            entry.Stats.Add(new CrashStats { Values = row.Values.ToArray() });
        }
        var rows = groups.Values.Select(g =>
        {
            var s = g.Stats;
            var main = CrashRates.MainCrashRate(s);
            var content = CrashRates.ContentCrashRate(s);
            return new
            {
                date = g.Date,
                group = g.Group,
                ping_count = (long)s.Get(0),
                usage_hours = s.Get(1),
                main_crashes = (long)s.Get(2),
                content_crashes = (long)s.Get(3),
                plugin_crashes = (long)s.Get(4),
                gmplugin_crashes = (long)s.Get(5),
                gpu_crashes = (long)s.Get(6),
                content_shutdown_crashes = (long)s.Get(7),
                main_crash_rate = main.Rate,
                main_crash_rate_ci95 = main.Rate is null ? null : new[] { main.Low, main.High },
                content_crash_rate = content.Rate,
                content_crash_rate_ci95 = content.Rate is null ? null : new[] { content.Low, content.High },
            };
        }).ToList();
        return TypedResults.Json(new { rows });
    }

    private static async Task<IEnumerable<CrashRow>> RowsAsync(IGrainFactory grains, DateOnly date, Dictionary<string, string> filters)
    {
        var keys = await grains.GetGrain<ICrashDateGrain>(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).GetAggregates();
        var selected = keys.Where(k =>
        {
            var (_, channel, buildVersion) = CrashStatNames.ParseGrainKey(k);
            return (!filters.TryGetValue("channel", out var c) || c == channel)
                && (!filters.TryGetValue("build_version", out var v) || v == buildVersion);
        });
        var rows = await Task.WhenAll(selected.Select(k => grains.GetGrain<ICrashAggregateGrain>(k).GetRows()));
        return rows.SelectMany(r => r)
            .Where(r => filters.All(f => r.Dimensions.TryGetValue(f.Key, out var v) && v == f.Value))
            .OrderBy(r => r.ActivityDate, StringComparer.Ordinal)
            .ThenBy(r => CrashJson.Dimensions(r.Dimensions), StringComparer.Ordinal);
    }

    private static Dictionary<string, string> Filters(IQueryCollection q) =>
        Dimensions.Where(q.ContainsKey).ToDictionary(d => d, d => q[d].ToString(), StringComparer.Ordinal);

    private static bool TryDate(string? text, out DateOnly date) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);

    private static IResult BadRequest(string parameter, string detail) =>
        TypedResults.Problem(statusCode: 400, title: $"bad parameter '{(parameter.Length > 64 ? parameter[..64] : parameter)}'", detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });
}
