using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Contracts.Ingest;

namespace Telemetry.Portal.Components.Pages.Overview;

public enum LagLevel
{
    /// <summary>Under 10 s behind.</summary>
    CaughtUp,

    /// <summary>Under a minute behind.</summary>
    Behind,

    /// <summary>A minute or more behind.</summary>
    Stalled,
}

/// <summary>What the overview page shows, derived from one <see cref="IngestOverview"/>.</summary>
public sealed class OverviewView
{
    public const int SparklineMinutes = 60;

    public required long AcceptedTotal { get; init; }
    public required long AcceptedLastHour { get; init; }
    public required long RejectedTotal { get; init; }
    public required long RejectedLastHour { get; init; }
    public required long DuplicatesTotal { get; init; }
    public required long BytesTotal { get; init; }
    public required double LagSeconds { get; init; }
    public required ImmutableArray<KeyValuePair<string, long>> RejectedByReason { get; init; }
    public required ImmutableArray<KeyValuePair<string, long>> InvalidHistogramsByMetric { get; init; }
    public required ImmutableArray<ChannelVersions> Channels { get; init; }

    /// <summary>Accepted pings per minute over the last hour, oldest first, minutes without data as 0.</summary>
    public required double[] AcceptedPerMinute { get; init; }

    /// <summary>Rejected pings per minute, aligned with <see cref="AcceptedPerMinute"/>.</summary>
    public required double[] RejectedPerMinute { get; init; }

    /// <summary>The first minute of the per-minute series (UTC, <c>HH:mm</c>).</summary>
    public required string FirstMinuteLabel { get; init; }

    /// <summary>The last minute of the per-minute series (UTC, <c>HH:mm UTC</c>).</summary>
    public required string LastMinuteLabel { get; init; }

    public required DateTimeOffset? GeneratedAt { get; init; }

    /// <summary>True when nothing has been ingested or rejected yet.</summary>
    public bool IsEmpty =>
        AcceptedTotal == 0 && RejectedTotal == 0 && DuplicatesTotal == 0 && BytesTotal == 0
        && Channels.IsEmpty && AcceptedLastHour == 0 && RejectedLastHour == 0;

    public LagLevel Lag => LevelOf(LagSeconds);

    public static LagLevel LevelOf(double lagSeconds) => lagSeconds switch
    {
        < 10 => LagLevel.CaughtUp,
        < 60 => LagLevel.Behind,
        _ => LagLevel.Stalled,
    };

    public static OverviewView From(IngestOverview overview)
    {
        var (minutes, accepted, rejected) = PerMinute(overview);
        return new OverviewView
        {
            AcceptedTotal = overview.AcceptedTotal,
            AcceptedLastHour = (long)accepted.Sum(),
            RejectedTotal = overview.RejectedByReason.Values.Sum(),
            RejectedLastHour = (long)rejected.Sum(),
            DuplicatesTotal = overview.DuplicatesTotal,
            BytesTotal = overview.BytesTotal,
            LagSeconds = Math.Max(0, overview.AggregationLagSeconds),
            RejectedByReason = ByCountDescending(overview.RejectedByReason),
            InvalidHistogramsByMetric = ByCountDescending(overview.InvalidHistogramsByMetric),
            Channels = [.. overview.Channels
                .OrderBy(c => ChannelRank(c.Channel))
                .ThenBy(c => c.Channel, StringComparer.Ordinal)
                .Select(c => c with { Versions = [.. c.Versions.OrderByDescending(VersionKey)] })],
            AcceptedPerMinute = accepted,
            RejectedPerMinute = rejected,
            FirstMinuteLabel = minutes[0].ToString("HH:mm", CultureInfo.InvariantCulture),
            LastMinuteLabel = minutes[^1].ToString("HH:mm", CultureInfo.InvariantCulture) + " UTC",
            GeneratedAt = overview.GeneratedAt == default ? null : overview.GeneratedAt,
        };
    }

    /// <summary>
    /// Lays the last hour out as 60 consecutive minutes ending at the generation time (or the newest
    /// bucket), so a quiet minute shows as 0 rather than disappearing from the line.
    /// </summary>
    private static (DateTimeOffset[] Minutes, double[] Accepted, double[] Rejected) PerMinute(IngestOverview overview)
    {
        var buckets = overview.LastHour
            .GroupBy(b => TruncateToMinute(b.Minute))
            .ToDictionary(g => g.Key, g => (Accepted: g.Sum(b => b.Accepted), Rejected: g.Sum(b => b.Rejected)));

        var end = overview.GeneratedAt != default
            ? TruncateToMinute(overview.GeneratedAt)
            : buckets.Count > 0 ? buckets.Keys.Max() : TruncateToMinute(DateTimeOffset.UnixEpoch);
        if (buckets.Count > 0 && buckets.Keys.Max() > end)
        {
            end = buckets.Keys.Max();
        }

        var minutes = new DateTimeOffset[SparklineMinutes];
        var accepted = new double[SparklineMinutes];
        var rejected = new double[SparklineMinutes];
        for (var i = 0; i < SparklineMinutes; i++)
        {
            var minute = end.AddMinutes(i - (SparklineMinutes - 1));
            minutes[i] = minute;
            if (buckets.TryGetValue(minute, out var counts))
            {
                accepted[i] = counts.Accepted;
                rejected[i] = counts.Rejected;
            }
        }

        return (minutes, accepted, rejected);
    }

    private static DateTimeOffset TruncateToMinute(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
    }

    private static ImmutableArray<KeyValuePair<string, long>> ByCountDescending(ImmutableDictionary<string, long> counts) =>
        [.. counts.Where(kv => kv.Value > 0).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)];

    // The usual update channels first, in release order; anything else after them.
    private static int ChannelRank(string channel) => channel switch
    {
        "release" => 0,
        "beta" => 1,
        "aurora" => 2,
        "nightly" => 3,
        _ => 4,
    };

    // Major versions sort numerically ("120" after "99"); anything unparsable sorts last.
    private static (int, string) VersionKey(string version) =>
        (int.TryParse(version.Split('.')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : -1, version);
}
