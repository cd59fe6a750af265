using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Expiry;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Sums crash stats over activity-date windows for one evaluation run, reading each submission date's keys
/// and each crash aggregate's rows at most once however many subscriptions ask (the same rows
/// <c>/api/crash-rates</c> sums; pings are never read again).
/// </summary>
public sealed class CrashWindowReader(ICrashRowSource source, DateOnly today)
{
    /// <summary>An activity date is at most this many days before its submission date (docs/crash-alerts.md).</summary>
    public const int MaxSubmissionDelayDays = 7;

    private readonly Dictionary<DateOnly, Task<ImmutableArray<string>>> _keys = new();
    private readonly Dictionary<string, Task<ImmutableArray<CrashRow>>> _rows = new(StringComparer.Ordinal);

    /// <summary>The newest submission date there can be data for.</summary>
    public DateOnly Today => today;

    /// <summary>
    /// The summed stats of the rows of <paramref name="channel"/> (one <paramref name="version"/>, or all
    /// when null) whose activity date is in [<paramref name="from"/>, <paramref name="to"/>] and whose
    /// dimensions match every filter.
    /// </summary>
    public async Task<CrashStats> SumAsync(string channel, string? version, IReadOnlyDictionary<string, string> filters, DateOnly from, DateOnly to)
    {
        var last = Min(to.AddDays(MaxSubmissionDelayDays), today);
        var keys = await KeysAsync(from, last, channel, version);
        var parts = await Task.WhenAll(keys.Select(RowsAsync));
        string first = CrashDimensions.FormatDate(from), end = CrashDimensions.FormatDate(to);
        var sum = new CrashStats();
        foreach (var row in parts.SelectMany(p => p))
        {
            if (string.CompareOrdinal(row.ActivityDate, first) < 0 || string.CompareOrdinal(row.ActivityDate, end) > 0)
            {
                continue;
            }
            if (!filters.All(f => row.Dimensions.TryGetValue(f.Key, out var v) && v == f.Value))
            {
                continue;
            }
            for (int i = 0; i < sum.Values.Length; i++)
            {
                sum.Values[i] += row.Values[i];
            }
        }
        return sum;
    }

    /// <summary>
    /// The versions seen on a channel from <paramref name="since"/> to today that parse as Mozilla versions,
    /// oldest first, each with the first submission date it was seen on.
    /// </summary>
    public async Task<IReadOnlyList<(MozillaVersion Version, DateOnly FirstSeen)>> VersionsAsync(string channel, DateOnly since)
    {
        var dates = Dates(since, today).ToList();
        var perDate = await Task.WhenAll(dates.Select(KeysAsync));
        var first = new Dictionary<string, DateOnly>(StringComparer.Ordinal);
        for (int i = 0; i < dates.Count; i++)
        {
            foreach (var key in perDate[i])
            {
                var (_, c, v) = CrashStatNames.ParseGrainKey(key);
                if (c == channel && !first.ContainsKey(v))
                {
                    first[v] = dates[i];
                }
            }
        }
        return first
            .Select(kv => (Parsed: MozillaVersion.TryParse(kv.Key, out var mv) ? mv : null, kv.Value))
            .Where(x => x.Parsed is not null)
            .Select(x => (x.Parsed!, x.Value))
            .OrderBy(x => x.Item1)
            .ThenBy(x => x.Item1.Text, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The first activity date of a version on a channel (its release, as the data shows it), looking at the
    /// submission dates from <paramref name="firstSeen"/> on, where any earlier activity date must be.
    /// Null when it has no rows with usage or crashes there.
    /// </summary>
    public async Task<DateOnly?> FirstActivityDateAsync(string channel, string version, DateOnly firstSeen)
    {
        var keys = await KeysAsync(firstSeen, Min(firstSeen.AddDays(MaxSubmissionDelayDays), today), channel, version);
        var parts = await Task.WhenAll(keys.Select(RowsAsync));
        string? earliest = parts.SelectMany(p => p)
            .Where(r => r.Values.Any(v => v != 0))
            .Select(r => r.ActivityDate)
            .Min(StringComparer.Ordinal);
        return earliest is null ? null : DateOnly.ParseExact(earliest, "yyyy-MM-dd", CultureInfo.InvariantCulture);
    }

    private async Task<IReadOnlyList<string>> KeysAsync(DateOnly from, DateOnly to, string channel, string? version)
    {
        var dates = Dates(from, to).ToList();
        var perDate = await Task.WhenAll(dates.Select(KeysAsync));
        return perDate.SelectMany(k => k).Where(k =>
        {
            var (_, c, v) = CrashStatNames.ParseGrainKey(k);
            return c == channel && (version is null || v == version);
        }).ToList();
    }

    private Task<ImmutableArray<string>> KeysAsync(DateOnly date)
    {
        if (!_keys.TryGetValue(date, out var task))
        {
            task = source.AggregateKeysAsync(date);
            _keys[date] = task;
        }
        return task;
    }

    private Task<ImmutableArray<CrashRow>> RowsAsync(string key)
    {
        if (!_rows.TryGetValue(key, out var task))
        {
            task = source.RowsAsync(key);
            _rows[key] = task;
        }
        return task;
    }

    private static IEnumerable<DateOnly> Dates(DateOnly from, DateOnly to)
    {
        for (var d = from; d <= to; d = d.AddDays(1))
        {
            yield return d;
        }
    }

    private static DateOnly Min(DateOnly a, DateOnly b) => a < b ? a : b;
}
