using System.Globalization;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>A Sentry issue as the errors list shows it (the silo's <c>GET /api/sentry/issues</c>, docs/sentry.md).</summary>
public sealed record ErrorIssue(
    string Project,
    string Fingerprint,
    string Message,
    long Events,
    long Users,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string State,
    DateTimeOffset? SnoozedUntil,
    IReadOnlyList<double> DailyEvents)
{
    public static ErrorIssue FromJson(JsonElement o) => new(
        Str(o, "project") ?? "",
        Str(o, "fingerprint") ?? "",
        Str(o, "message") ?? "",
        Long(o, "events"),
        Long(o, "users"),
        Time(o, "first_seen") ?? default,
        Time(o, "last_seen") ?? default,
        Str(o, "state") ?? "unresolved",
        Time(o, "snoozed_until"),
        o.TryGetProperty("daily_events", out var d) && d.ValueKind == JsonValueKind.Array
            ? d.EnumerateArray().Select(e => e.GetDouble()).ToList()
            : []);

    internal static string? Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    internal static long Long(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : 0;

    internal static DateTimeOffset? Time(JsonElement o, string name) =>
        Str(o, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;
}

public sealed record ErrorFrame(string? Function, string? Module, int? Line, int? Column);

public sealed record ErrorDay(DateOnly Date, long Events, long Users);

public sealed record ErrorRelease(string Release, DateTimeOffset FirstSeen);

public sealed record ErrorAlertSent(string Rule, DateTimeOffset At, IReadOnlyList<string> Recipients);

public sealed record ErrorHistoryEntry(string Action, string By, DateTimeOffset At, string? Comment, DateTimeOffset? Until);

/// <summary>An issue with everything its page shows (the silo's <c>GET /api/sentry/issues/{project}/{fingerprint}</c>).</summary>
public sealed record ErrorIssueDetail(
    ErrorIssue Issue,
    string? GroupId,
    string? Module,
    IReadOnlyList<ErrorFrame> Frames,
    IReadOnlyList<ErrorDay> Days,
    IReadOnlyList<ErrorRelease> Releases,
    IReadOnlyList<ErrorAlertSent> Alerts,
    IReadOnlyList<ErrorHistoryEntry> History)
{
    public static ErrorIssueDetail FromJson(JsonElement o) => new(
        ErrorIssue.FromJson(o),
        ErrorIssue.Str(o, "group_id"),
        ErrorIssue.Str(o, "module"),
        Array(o, "stack_frames", f => new ErrorFrame(ErrorIssue.Str(f, "function"), ErrorIssue.Str(f, "module"), Int(f, "line"), Int(f, "column"))),
        Array(o, "days", d => new ErrorDay(DateOnly.ParseExact(ErrorIssue.Str(d, "date")!, "yyyy-MM-dd", CultureInfo.InvariantCulture), ErrorIssue.Long(d, "events"), ErrorIssue.Long(d, "users"))),
        Array(o, "releases", r => new ErrorRelease(ErrorIssue.Str(r, "release") ?? "", ErrorIssue.Time(r, "first_seen") ?? default)),
        Array(o, "alerts", a => new ErrorAlertSent(ErrorIssue.Str(a, "rule") ?? "", ErrorIssue.Time(a, "at") ?? default,
            a.TryGetProperty("recipients", out var r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [])),
        Array(o, "history", h => new ErrorHistoryEntry(ErrorIssue.Str(h, "action") ?? "", ErrorIssue.Str(h, "by") ?? "", ErrorIssue.Time(h, "at") ?? default,
            ErrorIssue.Str(h, "comment"), ErrorIssue.Time(h, "until"))));

    private static int? Int(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : null;

    private static List<T> Array<T>(JsonElement o, string name, Func<JsonElement, T> read) =>
        o.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray().Select(read).ToList() : [];
}

/// <summary>A triage action on an issue: resolve, unresolve, mute, unmute, snooze (with <see cref="Until"/>) or comment.</summary>
public sealed record IssueAction(string Action, string? Comment = null, DateTimeOffset? Until = null);

/// <summary>What one evaluation round decided (a dry run sends nothing).</summary>
public sealed record EvaluationRound(bool DryRun, DateTimeOffset At, long IssuesExamined, IReadOnlyList<EvaluationAlert> Alerts);

public sealed record EvaluationAlert(string Rule, string Project, string Fingerprint, string Message, long Events, IReadOnlyList<string> Recipients);

/// <summary>The errors pages' data: Sentry issues, their triage and the rule evaluation, through the silo's HTTP API.</summary>
public interface IErrorsSource
{
    /// <summary>Issues ranked by events over the last <paramref name="days"/> UTC days, of one project or all.</summary>
    Task<IReadOnlyList<ErrorIssue>> ListAsync(string? project, int days, CancellationToken ct);

    /// <summary>One issue with per-day counts over <paramref name="days"/>; null when the silo does not know it.</summary>
    Task<ErrorIssueDetail?> GetAsync(string project, string fingerprint, int days, CancellationToken ct);

    /// <summary>Applies a triage action as the signed-in person; the issue afterwards.</summary>
    Task<ErrorIssueDetail> ActAsync(string project, string fingerprint, IssueAction action, string bearer, CancellationToken ct);

    /// <summary>An evaluation round that records and sends nothing (administrators).</summary>
    Task<EvaluationRound> EvaluateDryRunAsync(string bearer, CancellationToken ct);
}

public sealed class ErrorsService(SiloApi api) : IErrorsSource
{
    /// <summary>
    /// The most issues one list asks for: the silo reads each listed issue's grain for its distinct users, so
    /// the page asks for the top 200 rather than the route's maximum of 500.
    /// </summary>
    public const int ListLimit = 200;

    public async Task<IReadOnlyList<ErrorIssue>> ListAsync(string? project, int days, CancellationToken ct)
    {
        string path = string.Create(CultureInfo.InvariantCulture, $"/api/sentry/issues?sort=events&days={days}&limit={ListLimit}");
        if (!string.IsNullOrEmpty(project))
        {
            path += "&project=" + Uri.EscapeDataString(project);
        }
        var json = await api.GetAsync(path, bearer: null, ct);
        return json is { } o && o.TryGetProperty("issues", out var issues)
            ? issues.EnumerateArray().Select(ErrorIssue.FromJson).ToList()
            : [];
    }

    public async Task<ErrorIssueDetail?> GetAsync(string project, string fingerprint, int days, CancellationToken ct)
    {
        var json = await api.GetAsync(IssuePath(project, fingerprint) + string.Create(CultureInfo.InvariantCulture, $"?days={days}"), bearer: null, ct);
        return json is { } o ? ErrorIssueDetail.FromJson(o) : null;
    }

    public async Task<ErrorIssueDetail> ActAsync(string project, string fingerprint, IssueAction action, string bearer, CancellationToken ct)
    {
        var body = new Dictionary<string, object?> { ["action"] = action.Action, ["comment"] = action.Comment, ["until"] = action.Until?.ToString("O", CultureInfo.InvariantCulture) };
        var json = await api.SendAsync(HttpMethod.Post, IssuePath(project, fingerprint) + "/actions", body, bearer, ct);
        return ErrorIssueDetail.FromJson(json);
    }

    public async Task<EvaluationRound> EvaluateDryRunAsync(string bearer, CancellationToken ct)
    {
        var o = await api.SendAsync(HttpMethod.Post, "/api/sentry/evaluate?dry_run=true", body: null, bearer, ct);
        var alerts = o.TryGetProperty("alerts", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(x => new EvaluationAlert(
                ErrorIssue.Str(x, "rule") ?? "", ErrorIssue.Str(x, "project") ?? "", ErrorIssue.Str(x, "fingerprint") ?? "",
                ErrorIssue.Str(x, "message") ?? "", ErrorIssue.Long(x, "events"),
                x.TryGetProperty("recipients", out var r) ? r.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [])).ToList()
            : [];
        return new EvaluationRound(
            o.TryGetProperty("dry_run", out var d) && d.ValueKind == JsonValueKind.True,
            ErrorIssue.Time(o, "at") ?? default,
            ErrorIssue.Long(o, "issues_examined"),
            alerts);
    }

    /// <summary>The silo reads project and fingerprint from the raw path, each escaped once (a fingerprint may hold '/').</summary>
    public static string IssuePath(string project, string fingerprint) =>
        "/api/sentry/issues/" + Uri.EscapeDataString(project) + "/" + Uri.EscapeDataString(fingerprint);
}
