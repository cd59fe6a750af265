using System.Globalization;
using System.Text.Json;

namespace Telemetry.Portal.Services;

public sealed record AlertHistoryEntry(DateTimeOffset At, string By, string Action, string State, string? Comment, string? Bug);

/// <summary>One alert of any detector with its data and history (the silo's <c>GET /api/alerts/{id}</c>, docs/alerts.md).</summary>
public sealed record AlertDetail(
    long Id,
    string Kind,
    string Key,
    string Title,
    string? Summary,
    string? Channel,
    string? Subject,
    string? Detector,
    string? OccurredOn,
    double? Score,
    long? SubscriptionId,
    string State,
    bool Muted,
    DateTimeOffset? SnoozedUntil,
    bool Notify,
    IReadOnlyList<string> Owners,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string DetailsJson,
    IReadOnlyList<AlertHistoryEntry> History)
{
    public static AlertDetail FromJson(JsonElement o) => new(
        o.GetProperty("id").GetInt64(),
        ErrorIssue.Str(o, "kind") ?? "",
        ErrorIssue.Str(o, "key") ?? "",
        ErrorIssue.Str(o, "title") ?? "",
        ErrorIssue.Str(o, "summary"),
        ErrorIssue.Str(o, "channel"),
        ErrorIssue.Str(o, "subject"),
        ErrorIssue.Str(o, "detector"),
        ErrorIssue.Str(o, "occurred_on"),
        o.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null,
        o.TryGetProperty("subscription_id", out var sub) && sub.ValueKind == JsonValueKind.Number ? sub.GetInt64() : null,
        ErrorIssue.Str(o, "state") ?? "",
        o.TryGetProperty("muted", out var m) && m.ValueKind == JsonValueKind.True,
        ErrorIssue.Time(o, "snoozed_until"),
        !o.TryGetProperty("notify", out var n) || n.ValueKind != JsonValueKind.False,
        o.TryGetProperty("owners", out var ow) && ow.ValueKind == JsonValueKind.Array ? ow.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [],
        ErrorIssue.Time(o, "created_at") ?? default,
        ErrorIssue.Time(o, "updated_at") ?? default,
        o.TryGetProperty("details", out var d) && d.ValueKind != JsonValueKind.Null ? d.GetRawText() : "{}",
        o.TryGetProperty("history", out var h) && h.ValueKind == JsonValueKind.Array
            ? h.EnumerateArray().Select(e => new AlertHistoryEntry(ErrorIssue.Time(e, "at") ?? default, ErrorIssue.Str(e, "by") ?? "",
                ErrorIssue.Str(e, "action") ?? "", ErrorIssue.Str(e, "state") ?? "", ErrorIssue.Str(e, "comment"), ErrorIssue.Str(e, "bug"))).ToList()
            : []);
}

/// <summary>A lifecycle action on an alert: acknowledge, resolve, invalid, comment, snooze (with <see cref="Until"/>), mute, unmute, reopen.</summary>
public sealed record AlertAction(string Action, string? Comment = null, string? Bug = null, DateTimeOffset? Until = null);

/// <summary>The alert page's data, through the silo's HTTP API.</summary>
public interface IAlertsSource
{
    /// <summary>The alert, or null when the silo has none with that id.</summary>
    Task<AlertDetail?> GetAsync(long id, CancellationToken ct);

    /// <summary>Applies an action as the signed-in person; the alert afterwards.</summary>
    Task<AlertDetail> ActAsync(long id, AlertAction action, string bearer, CancellationToken ct);
}

public sealed class AlertsService(SiloApi api) : IAlertsSource
{
    public async Task<AlertDetail?> GetAsync(long id, CancellationToken ct) =>
        await api.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/api/alerts/{id}"), bearer: null, ct) is { } o ? AlertDetail.FromJson(o) : null;

    public async Task<AlertDetail> ActAsync(long id, AlertAction action, string bearer, CancellationToken ct)
    {
        var body = new Dictionary<string, object?>
        {
            ["action"] = action.Action,
            ["comment"] = action.Comment,
            ["bug"] = action.Bug,
            ["until"] = action.Until?.ToString("O", CultureInfo.InvariantCulture),
        };
        return AlertDetail.FromJson(await api.SendAsync(HttpMethod.Post, string.Create(CultureInfo.InvariantCulture, $"/api/alerts/{id}/actions"), body, bearer, ct));
    }
}
