using System.Globalization;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Overview;

/// <summary>One overview tile that links to its page: a value, a caption, and a few detail lines.</summary>
public sealed record LinkedTile(string Key, string Title, string Href, string Value, string Caption, bool Problem, IReadOnlyList<string> Lines);

/// <summary>The overview's service-wide tiles (regressions, expiring probes, errors, crash rates, outbox) as shown.</summary>
public static class OverviewTilesView
{
    public static IReadOnlyList<LinkedTile> From(OverviewTiles tiles, DateTimeOffset? now = null) =>
    [
        Single("regressions", "Open regressions", "/regressions", tiles.OpenRegressions,
            n => n == 0 ? "None open: nothing new, acknowledged or regressed" : "New, acknowledged or regressed"),
        Single("expiring", "Expiring in 6 weeks", "/expiring", tiles.ExpiringSoon,
            n => n == 0 ? "No probe expires in the next 42 days" : "Within the next 42 days, not yet expired"),
        WithEvaluator(Errors(tiles.TopErrors), tiles.Evaluator, now ?? DateTimeOffset.UtcNow),
        Crash(tiles.CrashRates),
        Outbox(tiles.Outbox),
    ];

    private static LinkedTile Single(string key, string title, string href, TileResult<int> result, Func<int, string> caption) =>
        result.Problem is { } problem
            ? Failed(key, title, href, problem)
            : new LinkedTile(key, title, href, Format.Count(result.Value), caption(result.Value), false, []);

    private static LinkedTile Errors(TileResult<IReadOnlyList<TopErrorIssue>> result)
    {
        const string Title = "Top errors (7 days)";
        if (result.Problem is { } problem)
        {
            return Failed("errors", Title, "/errors", problem);
        }
        var issues = result.Value ?? [];
        if (issues.Count == 0)
        {
            return new LinkedTile("errors", Title, "/errors", "0", "No error event in the last 7 days", false, []);
        }
        var top = issues[0];
        return new LinkedTile("errors", Title, "/errors", Format.Count(top.Events),
            $"events of the top issue, {Short(top.Message)} ({top.Project})", false,
            [.. issues.Select(i => $"{Format.Count(i.Events)} · {Short(i.Message)}")]);
    }

    /// <summary>
    /// The errors tile also says whether Sentry's rules run on time: a stalled evaluator means alerts silently stop,
    /// so it turns the tile into a warning.
    /// </summary>
    private static LinkedTile WithEvaluator(LinkedTile tile, TileResult<SentryEvaluatorHealth>? evaluator, DateTimeOffset now)
    {
        if (evaluator is null || tile.Problem)
        {
            return tile;
        }
        if (evaluator.Problem is { } problem)
        {
            return tile with { Lines = [.. tile.Lines, $"Rule evaluation: unknown ({problem})"] };
        }
        var health = evaluator.Value!;
        string last = health.LastCompletedAt is { } at ? $"last round {Format.Seconds(Math.Max(0, (now - at).TotalSeconds))} ago" : "no round completed yet";
        // No round yet is what a freshly started cluster looks like for up to a period: not worth a warning here
        // (alerts_evaluation_age_seconds stays absent and the API says stalled if it never comes).
        return health.Stalled && health.LastCompletedAt is not null
            ? tile with { Problem = true, Caption = $"Error alerts are stalled: {last} (every {health.EvaluationMinutes} min expected)" }
            : tile with { Lines = [.. tile.Lines.Count == 0 ? [tile.Caption] : tile.Lines, $"Rules evaluated: {last}"] };
    }

    private static LinkedTile Crash(TileResult<IReadOnlyList<ChannelCrashRate>> result)
    {
        const string Title = "Crash rates";
        if (result.Problem is { } problem)
        {
            return Failed("crash", Title, "/crash-rates", problem);
        }
        var rates = result.Value ?? [];
        if (rates.Count == 0)
        {
            return new LinkedTile("crash", Title, "/crash-rates", "–", "No usage reported in the last 7 days", false, []);
        }
        var first = rates[0];
        return new LinkedTile("crash", Title, "/crash-rates", Rate(first.Rate),
            $"main crashes per 1,000 usage hours, {first.Channel} on {first.Date}", false,
            [.. rates.Select(r => $"{r.Channel}: {Rate(r.Rate)} ({r.Date})")]);
    }

    private static LinkedTile Outbox(TileResult<OutboxCounts>? result)
    {
        const string Title = "Mail outbox";
        if (result is null)
        {
            return new LinkedTile("outbox", Title, "/admin/outbox", "–", "Administrators see the outbox here", false, []);
        }
        if (result.Problem is { } problem)
        {
            return Failed("outbox", Title, "/admin/outbox", problem);
        }
        var c = result.Value!;
        string plus = c.Capped ? "+" : "";
        return new LinkedTile("outbox", Title, "/admin/outbox", $"{Format.Count(c.Pending)}{plus}",
            c.Failed == 0 ? "pending · no failed mail" : $"pending · {Format.Count(c.Failed)}{plus} failed: open to retry", c.Failed > 0, []);
    }

    private static LinkedTile Failed(string key, string title, string href, string problem) =>
        new(key, title, href, "–", char.ToUpperInvariant(problem[0]) + problem[1..], true, []);

    private static string Rate(double rate) => rate.ToString("0.00", CultureInfo.InvariantCulture);

    private static string Short(string text) => text.Length > 60 ? text[..60] + "…" : text;
}
