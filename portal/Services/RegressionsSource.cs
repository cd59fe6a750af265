using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>One row of the regressions list (<c>GET /api/regressions</c>, docs/regressions.md).</summary>
/// <param name="SuspectFrom">First build date that may hold the change's start (95 %); <paramref name="BuildDate"/> is the most likely.</param>
/// <param name="SuspectTo">Last build date that may hold it.</param>
public sealed record RegressionRow(
    long Id, string Channel, string Metric, string BuildDate, string Detector, double Score, string Direction,
    string State, ImmutableArray<string> Owners, ImmutableArray<string> ReferenceDates, DateTimeOffset? SnoozedUntil,
    DateTimeOffset? DetectedAt, string SuspectFrom = "", string SuspectTo = "")
{
    /// <summary>The suspect build dates when they are more than the build date itself, else null.</summary>
    public string? SuspectRange => SuspectFrom.Length > 0 && SuspectTo.Length > 0 && (SuspectFrom != BuildDate || SuspectTo != BuildDate)
        ? $"{SuspectFrom}–{SuspectTo}"
        : null;
}

/// <summary>One entry of an alert's history: who did what, when.</summary>
public sealed record RegressionHistoryEntry(DateTimeOffset At, string By, string Action, string State, string? Comment, string? Bug);

/// <summary>A regression with its distributions (<c>GET /api/regressions/{id}</c>).</summary>
public sealed record RegressionDetail(
    RegressionRow Row, ImmutableArray<string> Buckets, ImmutableArray<double> Candidate, ImmutableArray<double> Reference,
    string? Description, ImmutableArray<RegressionHistoryEntry> History);

/// <summary>The filters the silo applies to the list (all optional).</summary>
public sealed record RegressionListQuery(string? Channel, string? Metric, string? State, string? Detector, string? From, string? To);

/// <summary>A triage action on a regression (<c>POST /api/alerts/{id}/actions</c>, docs/alerts.md).</summary>
public sealed record RegressionAction(string Action, string? Comment = null, string? Bug = null, DateTimeOffset? Until = null);

/// <summary>One build date's histogram of a metric, summed over versions, for the evolution around a regression.</summary>
public sealed record BuildDatePoint(string Date, ImmutableArray<double> LowerBounds, ImmutableArray<double> Counts, double Sum);

/// <summary>Where the regression pages read and change regressions.</summary>
public interface IRegressionsSource
{
    Task<ImmutableArray<RegressionRow>> ListAsync(RegressionListQuery query, CancellationToken cancellationToken);

    /// <summary>The regression, or null when the silo knows no regression with that id.</summary>
    Task<RegressionDetail?> GetAsync(long id, CancellationToken cancellationToken);

    /// <summary>Records a triage action as the signed-in person (their session token); throws <see cref="SiloApiException"/> with the silo's reason.</summary>
    Task ActAsync(long id, RegressionAction action, string bearer, CancellationToken cancellationToken);

    /// <summary>Creates a regression subscription for the channel and metric; answers its id.</summary>
    Task<long> SubscribeAsync(string channel, string metric, string bearer, CancellationToken cancellationToken);

    /// <summary>The metric's build-date histograms within <paramref name="days"/> of the build date, oldest first.</summary>
    Task<ImmutableArray<BuildDatePoint>> EvolutionAsync(string channel, string metric, string buildDate, int days, CancellationToken cancellationToken);
}

/// <summary><see cref="IRegressionsSource"/> over the silo's HTTP API.</summary>
public sealed class RegressionsSource(SiloApi api, IAggregatesSource aggregates) : IRegressionsSource
{
    public async Task<ImmutableArray<RegressionRow>> ListAsync(RegressionListQuery query, CancellationToken cancellationToken)
    {
        var parameters = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parameters.Add(name + "=" + Uri.EscapeDataString(value.Trim()));
            }
        }
        Add("channel", query.Channel);
        Add("metric", query.Metric);
        Add("state", query.State);
        Add("detector", query.Detector);
        Add("from", query.From);
        Add("to", query.To);
        string path = "/api/regressions" + (parameters.Count > 0 ? "?" + string.Join('&', parameters) : "");
        var json = await api.GetAsync(path, bearer: null, cancellationToken) ?? throw new SiloApiException(System.Net.HttpStatusCode.NotFound, "the silo has no regressions route");
        return [.. json.GetProperty("regressions").EnumerateArray().Select(ReadRow)];
    }

    public async Task<RegressionDetail?> GetAsync(long id, CancellationToken cancellationToken)
    {
        var json = await api.GetAsync($"/api/regressions/{id}", bearer: null, cancellationToken);
        if (json is not { ValueKind: JsonValueKind.Object } r)
        {
            return null;
        }
        return new RegressionDetail(
            ReadRow(r),
            [.. SiloJson.Array(r, "buckets").Select(b => b.ValueKind == JsonValueKind.Number ? b.GetDouble().ToString(CultureInfo.InvariantCulture) : b.ToString())],
            [.. SiloJson.Array(r, "candidate").Select(v => v.GetDouble())],
            [.. SiloJson.Array(r, "reference").Select(v => v.GetDouble())],
            SiloJson.Text(r, "description"),
            [.. SiloJson.Array(r, "history").Select(h => new RegressionHistoryEntry(
                SiloJson.Time(h, "at") ?? default, SiloJson.Text(h, "by") ?? "", SiloJson.Text(h, "action") ?? "", SiloJson.Text(h, "state") ?? "", SiloJson.Text(h, "comment"), SiloJson.Text(h, "bug")))]);
    }

    public async Task ActAsync(long id, RegressionAction action, string bearer, CancellationToken cancellationToken) =>
        await api.SendAsync(HttpMethod.Post, $"/api/alerts/{id}/actions", new
        {
            action = action.Action,
            comment = string.IsNullOrWhiteSpace(action.Comment) ? null : action.Comment.Trim(),
            bug = string.IsNullOrWhiteSpace(action.Bug) ? null : action.Bug.Trim(),
            until = action.Until?.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
        }, bearer, cancellationToken);

    public async Task<long> SubscribeAsync(string channel, string metric, string bearer, CancellationToken cancellationToken)
    {
        var answer = await api.SendAsync(HttpMethod.Post, "/api/subscriptions", new
        {
            kind = "regression",
            @params = new { channel, metric, min_score = 0 },
            delivery = "immediate",
        }, bearer, cancellationToken);
        return answer.GetProperty("id").GetInt64();
    }

    public async Task<ImmutableArray<BuildDatePoint>> EvolutionAsync(string channel, string metric, string buildDate, int days, CancellationToken cancellationToken)
    {
        var center = DateOnly.ParseExact(buildDate, "yyyyMMdd", CultureInfo.InvariantCulture);
        var dates = await aggregates.DatesAsync(AggregateKinds.BuildId, channel, cancellationToken);
        var near = dates
            .Where(d => DateOnly.TryParseExact(d.Date, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                && Math.Abs(day.DayNumber - center.DayNumber) <= days)
            .ToList();
        // A build date can have builds of two versions (a merge day): sum them when their layouts agree.
        var byDate = new SortedDictionary<string, BuildDatePoint>(StringComparer.Ordinal);
        foreach (var version in near.Select(d => d.Version).Distinct())
        {
            var result = await aggregates.HistogramsAsync(new AggregateQuery(AggregateKinds.BuildId, channel, version, metric,
                [.. near.Where(d => d.Version == version).Select(d => d.Date)]), cancellationToken);
            if (result?.LowerBounds is not { } bounds)
            {
                continue;
            }
            foreach (var group in result.Data.GroupBy(e => e.Date))
            {
                var counts = Sum(group.Select(e => e.Histogram));
                double sum = group.Sum(e => e.Sum);
                if (byDate.TryGetValue(group.Key, out var existing))
                {
                    if (existing.LowerBounds.SequenceEqual(bounds))
                    {
                        byDate[group.Key] = existing with { Counts = Sum([existing.Counts, counts]), Sum = existing.Sum + sum };
                    }
                    continue;
                }
                byDate[group.Key] = new BuildDatePoint(group.Key, bounds, counts, sum);
            }
        }
        return [.. byDate.Values];
    }

    internal static ImmutableArray<double> Sum(IEnumerable<ImmutableArray<double>> histograms)
    {
        double[]? total = null;
        foreach (var h in histograms)
        {
            total ??= new double[h.Length];
            for (int i = 0; i < Math.Min(total.Length, h.Length); i++)
            {
                total[i] += h[i];
            }
        }
        return total is null ? [] : [.. total];
    }

    private static RegressionRow ReadRow(JsonElement r) => new(
        r.GetProperty("id").GetInt64(),
        SiloJson.Text(r, "channel") ?? "",
        SiloJson.Text(r, "metric") ?? "",
        SiloJson.Text(r, "build_date") ?? "",
        SiloJson.Text(r, "detector") ?? "",
        r.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0,
        SiloJson.Text(r, "direction") ?? "",
        SiloJson.Text(r, "state") ?? "",
        [.. SiloJson.Array(r, "owners").Select(o => o.GetString() ?? "")],
        [.. SiloJson.Array(r, "reference_dates").Select(o => o.ToString())],
        SiloJson.Time(r, "snoozed_until"),
        SiloJson.Time(r, "detected_at"),
        SiloJson.Text(r, "suspect_from") ?? "",
        SiloJson.Text(r, "suspect_to") ?? "");
}
