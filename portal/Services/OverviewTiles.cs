using System.Globalization;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>One tile's figure, or why it could not be read.</summary>
public sealed record TileResult<T>(T? Value, string? Problem)
{
    public static TileResult<T> Ok(T value) => new(value, null);

    public static TileResult<T> Failed(string problem) => new(default, problem);
}

/// <summary>A Sentry issue as the overview's top-errors tile shows it.</summary>
public sealed record TopErrorIssue(string Project, string Fingerprint, string Message, long Events, long Users);

/// <summary>The latest main-process crash rate of one channel (crashes per 1,000 usage hours).</summary>
public sealed record ChannelCrashRate(string Channel, string Date, double Rate);

/// <summary>The Sentry rule evaluator's health (the silo's <c>GET /api/sentry/evaluator</c>).</summary>
public sealed record SentryEvaluatorHealth(DateTimeOffset? LastCompletedAt, bool Stalled, int EvaluationMinutes);

/// <summary>Pending and failed mails; <c>Capped</c> when there were at least as many as the tile reads.</summary>
public sealed record OutboxCounts(int Pending, int Failed, bool Capped);

/// <summary>The overview's tiles that come from the silo's HTTP API; each may fail on its own.</summary>
public sealed record OverviewTiles(
    TileResult<int> OpenRegressions,
    TileResult<int> ExpiringSoon,
    TileResult<IReadOnlyList<TopErrorIssue>> TopErrors,
    TileResult<IReadOnlyList<ChannelCrashRate>> CrashRates,
    /// <summary>Null when the viewer is not an administrator (the outbox is admin-only).</summary>
    TileResult<OutboxCounts>? Outbox)
{
    /// <summary>Whether Sentry's rules are evaluated on time; shown on the errors tile. Null: not read.</summary>
    public TileResult<SentryEvaluatorHealth>? Evaluator { get; init; }
}

/// <summary>Where the overview gets its silo-API tiles.</summary>
public interface IOverviewTilesSource
{
    /// <summary>Reads every tile; <paramref name="viewer"/> is null when nobody is signed in.</summary>
    Task<OverviewTiles> GetAsync(Auth.PortalUser? viewer, CancellationToken ct);
}

/// <summary>
/// Reads the overview tiles through <see cref="SiloApi"/>, in parallel: open regressions (every state but
/// resolved and invalid), probes expiring within six weeks, the top Sentry issues of seven days, the main
/// crash rate of each channel's latest day, and, for administrators, the outbox.
/// </summary>
public sealed class OverviewTilesService(SiloApi api, TimeProvider time) : IOverviewTilesSource
{
    public const int ExpiringWithinDays = 42;
    public const int TopErrorCount = 3;
    public const int CrashRateDays = 7;
    public const int OutboxReadLimit = 500;

    /// <summary>Regression states that count as open (every state but resolved and invalid).</summary>
    private static readonly string[] OpenRegressionStates = ["new", "acknowledged", "regressed"];

    public async Task<OverviewTiles> GetAsync(Auth.PortalUser? viewer, CancellationToken ct)
    {
        string? bearer = viewer?.Token;
        var regressions = Tile(async () =>
        {
            // Only the open states are read: the history of resolved and invalid records grows without end,
            // and this runs on every refresh of every open overview.
            int open = 0;
            foreach (var state in OpenRegressionStates)
            {
                var json = await api.GetAsync($"/api/regressions?state={state}", bearer, ct);
                open += json?.GetProperty("regressions").GetArrayLength() ?? 0;
            }
            return open;
        });
        var expiring = Tile(async () =>
        {
            var json = await api.GetAsync($"/api/expiring?within_days={ExpiringWithinDays}", bearer, ct);
            return json is { } j ? j.GetProperty("probes").EnumerateArray().Count(p => !p.GetProperty("expired").GetBoolean()) : 0;
        });
        var errors = Tile<IReadOnlyList<TopErrorIssue>>(async () =>
        {
            var json = await api.GetAsync($"/api/sentry/issues?sort=events&days=7&limit={TopErrorCount}", bearer, ct);
            return json is { } j ? j.GetProperty("issues").Deserialize<List<TopErrorIssue>>(SiloApi.Json) ?? [] : [];
        });
        var evaluator = Tile(async () =>
        {
            var json = await api.GetAsync("/api/sentry/evaluator", bearer, ct);
            return json is { } j
                ? new SentryEvaluatorHealth(
                    j.GetProperty("last_completed_at").ValueKind == JsonValueKind.String ? j.GetProperty("last_completed_at").GetDateTimeOffset() : null,
                    j.GetProperty("stalled").GetBoolean(),
                    j.GetProperty("evaluation_minutes").GetInt32())
                : new SentryEvaluatorHealth(null, true, 0);
        });
        var crash = Tile<IReadOnlyList<ChannelCrashRate>>(async () =>
        {
            var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
            string from = today.AddDays(-CrashRateDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            string to = today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var json = await api.GetAsync($"/api/crash-rates?from={from}&to={to}&group_by=channel", bearer, ct);
            return json is { } j ? LatestPerChannel(j) : [];
        });
        Task<TileResult<OutboxCounts>>? outbox = viewer is { IsAdmin: true } ? Tile(async () =>
        {
            var pending = await api.GetAsync($"/api/outbox?state=pending&limit={OutboxReadLimit}", bearer, ct);
            var failed = await api.GetAsync($"/api/outbox?state=failed&limit={OutboxReadLimit}", bearer, ct);
            int p = pending?.GetProperty("items").GetArrayLength() ?? 0;
            int f = failed?.GetProperty("items").GetArrayLength() ?? 0;
            return new OutboxCounts(p, f, p >= OutboxReadLimit || f >= OutboxReadLimit);
        }) : null;
        return new OverviewTiles(await regressions, await expiring, await errors, await crash, outbox is null ? null : await outbox)
        {
            Evaluator = await evaluator,
        };
    }

    /// <summary>The newest day with a rate for each channel, channels in release order.</summary>
    public static IReadOnlyList<ChannelCrashRate> LatestPerChannel(JsonElement answer) =>
        answer.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("main_crash_rate").ValueKind == JsonValueKind.Number
                && r.GetProperty("group").TryGetProperty("channel", out var c) && c.ValueKind == JsonValueKind.String)
            .Select(r => new ChannelCrashRate(
                r.GetProperty("group").GetProperty("channel").GetString()!,
                r.GetProperty("date").GetString()!,
                r.GetProperty("main_crash_rate").GetDouble()))
            .GroupBy(r => r.Channel, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Date, StringComparer.Ordinal)!)
            .OrderBy(r => r.Channel switch { "release" => 0, "beta" => 1, "aurora" => 2, "nightly" => 3, _ => 4 })
            .ThenBy(r => r.Channel, StringComparer.Ordinal)
            .ToList();

    private static async Task<TileResult<T>> Tile<T>(Func<Task<T>> read)
    {
        try
        {
            return TileResult<T>.Ok(await read());
        }
        catch (SiloApiException e)
        {
            return TileResult<T>.Failed(e.Message);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // The silo answered something this portal does not understand (a version mismatch).
            return TileResult<T>.Failed("the silo's answer could not be read; are portal and silo the same version?");
        }
    }
}
