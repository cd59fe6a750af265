using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Grains.Alerts;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// <c>/api/alerts</c>: every alert of every detector, its history, and the lifecycle actions of signed-in
/// people (docs/alerts.md, "Lifecycle"); <c>/unsubscribe</c>: the signed one-click link of every mail.
/// </summary>
public static class AlertsApi
{
    public const int DefaultLimit = 200;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/alerts").WithTags("Alerts");
        group.MapGet("", List).WithSummary("Alerts, newest first: ?kind=regression|expiry|crash_rate|sentry&state=new|acknowledged|resolved|invalid|regressed&limit=");
        group.MapGet("/{id:long}", Get).WithSummary("One alert with its details and history (404 unknown)");
        group.MapPost("/{id:long}/actions", Act).RequirePerson()
            .WithSummary("{\"action\":\"acknowledge|resolve|invalid|comment|snooze|mute|unmute|reopen\",\"comment\",\"bug\",\"until\"}: recorded with who and when (409 when the state does not allow it)");
        app.MapGet("/unsubscribe", UnsubscribeGet).WithTags("Alerts").WithSummary("Signed one-click unsubscribe link of a mail: pauses the subscription (or stops a probe owner's mail about that probe) and says so");
        app.MapPost("/unsubscribe", UnsubscribePost).WithTags("Alerts").WithSummary("RFC 8058 one-click unsubscribe (the List-Unsubscribe-Post of mail clients): same as GET");
        return app;
    }

    /// <summary>An alert as the API shows it; <paramref name="full"/> adds details and history.</summary>
    public static JsonObject ToJson(AlertRecord a, AlertMail mail, bool full)
    {
        var o = new JsonObject
        {
            ["id"] = a.Id,
            ["kind"] = a.Kind,
            ["key"] = a.Key,
            ["title"] = a.Title,
            ["channel"] = a.Target.Channel,
            ["subject"] = a.Target.Subject,
            ["detector"] = a.Target.Detector,
            ["occurred_on"] = a.Target.OccurredOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["score"] = a.Target.Score,
            ["subscription_id"] = a.Target.SubscriptionId,
            ["state"] = AlertStates.Name(a.State),
            ["muted"] = a.Muted,
            ["snoozed_until"] = a.SnoozedUntil?.ToString("O", CultureInfo.InvariantCulture),
            ["notify"] = a.Notify,
            ["owners"] = new JsonArray(a.Owners.Select(x => (JsonNode?)x).ToArray()),
            ["created_at"] = a.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["updated_at"] = a.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["url"] = mail.AlertUrl(a.Id),
        };
        if (full)
        {
            o["summary"] = a.Summary;
            o["details"] = JsonNode.Parse(a.DetailsJson);
            o["history"] = HistoryJson(a);
        }
        return o;
    }

    /// <summary>The history as <c>[{"at","by","action","state","comment","bug"}]</c>, oldest first.</summary>
    public static JsonArray HistoryJson(AlertRecord a) => new(a.History.Select(e => (JsonNode?)new JsonObject
    {
        ["at"] = e.At.ToString("O", CultureInfo.InvariantCulture),
        ["by"] = e.By,
        ["action"] = e.Action,
        ["state"] = AlertStates.Name(e.State),
        ["comment"] = e.Comment,
        ["bug"] = e.Bug,
    }).ToArray());

    internal static async Task<IResult> List(string? kind, string? state, int? limit, IAlertReader alerts, AlertMail mail, CancellationToken ct)
    {
        if (kind is not null && !AlertKinds.IsKnown(kind))
        {
            return ApiJson.BadRequest($"kind must be one of {string.Join(", ", AlertKinds.All)}");
        }
        AlertState? s = null;
        if (state is not null)
        {
            if (!AlertStates.TryParse(state, out var parsed))
            {
                return ApiJson.BadRequest("state must be one of new, acknowledged, resolved, invalid, regressed");
            }
            s = parsed;
        }
        int n = limit ?? DefaultLimit;
        if (n is < 1 or > MaxLimit)
        {
            return ApiJson.BadRequest($"limit must be between 1 and {MaxLimit}");
        }
        var list = await alerts.ListAsync(new AlertQuery(Kind: kind, State: s, Limit: n), ct);
        return TypedResults.Json(new JsonObject { ["alerts"] = new JsonArray(list.Select(a => (JsonNode?)ToJson(a, mail, full: false)).ToArray()) }, ApiJson.Options);
    }

    internal static async Task<IResult> Get(long id, IAlertReader alerts, AlertMail mail, CancellationToken ct) =>
        await alerts.GetAsync(id, ct) is { } a
            ? TypedResults.Json(ToJson(a, mail, full: true), ApiJson.Options)
            : ApiJson.NotFound(string.Create(CultureInfo.InvariantCulture, $"no alert has id {id}"));

    internal static async Task<IResult> Act(long id, HttpContext http, IAlertStore alerts, AlertMail mail, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadObjectAsync(http.Request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        string? action = Str(b, "action");
        string? comment = Str(b, "comment");
        string? bug = Str(b, "bug");
        DateTimeOffset? until = null;
        if (Str(b, "until") is { } u)
        {
            if (!DateTimeOffset.TryParse(u, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return ApiJson.BadRequest("until must be an ISO 8601 time");
            }
            until = parsed;
        }
        if (action is null || Array.IndexOf(AlertActions.All, action) < 0)
        {
            return ApiJson.BadRequest($"action must be one of {string.Join(", ", AlertActions.All)}");
        }
        string by = http.Email();
        var result = await alerts.UpdateAsync(id, a => AlertLifecycle.Apply(a, action, by, comment, bug, until, time.GetUtcNow()), ct);
        if (result is null)
        {
            return ApiJson.NotFound(string.Create(CultureInfo.InvariantCulture, $"no alert has id {id}"));
        }
        if (result.Alert is not { } changed)
        {
            return TypedResults.Problem(statusCode: result.BadRequest ? 400 : 409, title: result.BadRequest ? "bad request" : "not allowed now", detail: result.Error);
        }
        return TypedResults.Json(ToJson(changed, mail, full: true), ApiJson.Options);
    }

    internal static Task<IResult> UnsubscribeGet(string? token, SigningKey key, ISubscriptionStore subscriptions, CancellationToken ct) =>
        UnsubscribeAsync(token, key, subscriptions, html: true, ct);

    internal static Task<IResult> UnsubscribePost(string? token, SigningKey key, ISubscriptionStore subscriptions, CancellationToken ct) =>
        UnsubscribeAsync(token, key, subscriptions, html: false, ct);

    private static async Task<IResult> UnsubscribeAsync(string? token, SigningKey key, ISubscriptionStore subscriptions, bool html, CancellationToken ct)
    {
        var request = UnsubscribeLinks.Read(await key.GetAsync(), token);
        if (request is null)
        {
            return Page(400, "Link not valid", "This unsubscribe link is damaged or was not made by this service. Open it from the mail again.", html);
        }
        if (request.SubscriptionId is { } id)
        {
            return await subscriptions.PauseAsync(id, ct)
                ? Page(200, "Subscription paused", string.Create(CultureInfo.InvariantCulture,
                    $"Subscription #{id} is paused: it sends you no more mail. Resume it from your subscriptions in the portal."), html)
                : Page(404, "Subscription gone", string.Create(CultureInfo.InvariantCulture, $"Subscription #{id} no longer exists: it sends no mail."), html);
        }
        await subscriptions.OptOutAsync(request.OwnerEmail!, request.Probe!, ct);
        return Page(200, "Unsubscribed", $"{request.OwnerEmail} will get no more alert mail about {request.Probe}.", html);
    }

    private static IResult Page(int status, string title, string text, bool html)
    {
        if (!html)
        {
            return TypedResults.Text(title + ": " + text + "\n", "text/plain; charset=utf-8", statusCode: status);
        }
        string page = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode(title)}</title></head>
            <body style="font-family: sans-serif; max-width: 40em; margin: 3em auto"><h1>{WebUtility.HtmlEncode(title)}</h1><p>{WebUtility.HtmlEncode(text)}</p></body></html>
            """;
        return TypedResults.Content(page, "text/html; charset=utf-8", statusCode: status);
    }

    private static string? Str(JsonElement b, string name) =>
        b.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
