using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// <c>/api/subscriptions</c>: the signed-in person's own subscriptions (docs/alerts.md, "Subscriptions").
/// Every call is scoped to the caller's address; someone else's id answers 404, exactly like an unknown one.
/// </summary>
public static class SubscriptionsApi
{
    public const int MaxPerPerson = 200;
    public const int DefaultSent = 50;
    public const int MaxSent = 200;
    private static readonly string[] Fields = ["id", "kind", "params", "delivery", "digest_hour", "paused", "created_at", "updated_at"];

    public static IEndpointRouteBuilder MapSubscriptionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/subscriptions").WithTags("Subscriptions").RequirePerson();
        group.MapGet("", List).WithSummary("The caller's subscriptions: {\"subscriptions\":[S...]}");
        group.MapPost("", Create).WithSummary("Create a subscription from S without id: 201 with S (400 names the wrong field)");
        group.MapGet("/sent", Sent).WithSummary("The mail queued for the caller, newest first: {\"messages\":[{\"id\",\"subject\",\"kind\",\"state\",\"created_at\",\"sent_at\",\"alert_id\",\"alert_url\"}]} (?limit=1-200, default 50)");
        group.MapGet("/{id:long}", Get).WithSummary("One of the caller's subscriptions (404 for unknown or someone else's)");
        group.MapPut("/{id:long}", Update).WithSummary("Replace one of the caller's subscriptions with S: 200 with S");
        group.MapDelete("/{id:long}", Delete).WithSummary("Delete one of the caller's subscriptions: 204");
        return app;
    }

    /// <summary>S as the API shows it.</summary>
    public static JsonObject ToJson(Subscription s) => new()
    {
        ["id"] = s.Id,
        ["kind"] = s.Kind,
        ["params"] = SubscriptionJson.ToJson(s.Kind, s.Params),
        ["delivery"] = s.Delivery == Delivery.Digest ? "digest" : "immediate",
        ["digest_hour"] = s.DigestHour,
        ["paused"] = s.Paused,
        ["created_at"] = s.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["updated_at"] = s.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
    };

    /// <summary>A subscription from the body: kind and params required; delivery (immediate), digest_hour (8) and paused (false) optional.</summary>
    public static (SubscriptionInput? Input, string? Error) Parse(JsonElement body)
    {
        foreach (var prop in body.EnumerateObject())
        {
            if (Array.IndexOf(Fields, prop.Name) < 0)
            {
                return (null, $"{prop.Name} is not a field of a subscription (fields: {string.Join(", ", Fields)})");
            }
        }
        string? kind = body.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        if (kind is null || Array.IndexOf(SubscriptionJson.Kinds, kind) < 0)
        {
            return (null, $"kind must be one of {string.Join(", ", SubscriptionJson.Kinds)}");
        }
        if (!body.TryGetProperty("params", out var p))
        {
            return (null, "params is required");
        }
        var (parameters, error) = SubscriptionJson.Parse(kind, p);
        if (parameters is null)
        {
            return (null, error);
        }
        var delivery = Delivery.Immediate;
        if (body.TryGetProperty("delivery", out var d) && d.ValueKind != JsonValueKind.Null)
        {
            delivery = d.ValueKind == JsonValueKind.String ? d.GetString() switch
            {
                "immediate" => Delivery.Immediate,
                "digest" => Delivery.Digest,
                _ => (Delivery)(-1),
            } : (Delivery)(-1);
            if (!Enum.IsDefined(delivery))
            {
                return (null, "delivery must be immediate or digest");
            }
        }
        int hour = 8;
        if (body.TryGetProperty("digest_hour", out var h) && h.ValueKind != JsonValueKind.Null)
        {
            if (h.ValueKind != JsonValueKind.Number || !h.TryGetInt32(out hour) || hour is < 0 or > 23)
            {
                return (null, "digest_hour must be a whole hour from 0 to 23 (UTC)");
            }
        }
        bool paused = false;
        if (body.TryGetProperty("paused", out var pa) && pa.ValueKind != JsonValueKind.Null)
        {
            if (pa.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return (null, "paused must be true or false");
            }
            paused = pa.GetBoolean();
        }
        return (new SubscriptionInput(kind, parameters, delivery, hour, paused), null);
    }

    internal static async Task<IResult> List(HttpContext http, ISubscriptionStore store, CancellationToken ct)
    {
        var list = await store.ListForAsync(http.Email(), ct);
        return TypedResults.Json(new JsonObject { ["subscriptions"] = new JsonArray(list.Select(s => (JsonNode)ToJson(s)).ToArray()) }, ApiJson.Options);
    }

    /// <summary>
    /// What the caller was sent recently: their own outbox rows only (the store filters by the session's
    /// address), without bodies; each alert mail links to its alert's page.
    /// </summary>
    internal static async Task<IResult> Sent(HttpContext http, IOutboxStore outbox, AlertMail mail, CancellationToken ct)
    {
        int limit = DefaultSent;
        if (http.Request.Query.TryGetValue("limit", out var l)
            && (!int.TryParse(l.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxSent))
        {
            return ApiJson.BadRequest($"limit must be a whole number from 1 to {MaxSent}");
        }
        var rows = await outbox.ListForRecipientAsync(http.Email(), limit, ct);
        return TypedResults.Json(new JsonObject
        {
            ["messages"] = new JsonArray(rows.Select(r => (JsonNode?)new JsonObject
            {
                ["id"] = r.Id,
                ["subject"] = r.Subject,
                ["kind"] = r.Kind,
                ["state"] = OutboxStates.Name(r.State),
                ["created_at"] = r.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
                ["sent_at"] = r.SentAt?.ToString("O", CultureInfo.InvariantCulture),
                ["alert_id"] = AlertMail.AlertIdOf(r.AlertKey),
                ["alert_url"] = AlertMail.AlertIdOf(r.AlertKey) is { } id ? mail.AlertUrl(id) : null,
            }).ToArray()),
        }, ApiJson.Options);
    }

    internal static async Task<IResult> Get(long id, HttpContext http, ISubscriptionStore store, CancellationToken ct) =>
        await store.GetAsync(http.Email(), id, ct) is { } s ? TypedResults.Json(ToJson(s), ApiJson.Options) : NotYours(id);

    internal static async Task<IResult> Create(HttpContext http, ISubscriptionStore store, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadObjectAsync(http.Request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        var (input, parseError) = Parse(b);
        if (input is null)
        {
            return ApiJson.BadRequest(parseError!);
        }
        string email = http.Email();
        if ((await store.ListForAsync(email, ct)).Count >= MaxPerPerson)
        {
            return ApiJson.BadRequest($"a person can have at most {MaxPerPerson} subscriptions");
        }
        var s = await store.CreateAsync(email, input, ct);
        http.Response.Headers.Location = string.Create(CultureInfo.InvariantCulture, $"/api/subscriptions/{s.Id}");
        return TypedResults.Json(ToJson(s), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    internal static async Task<IResult> Update(long id, HttpContext http, ISubscriptionStore store, CancellationToken ct)
    {
        var (body, error) = await ApiJson.ReadObjectAsync(http.Request, ct);
        if (body is not { } b)
        {
            return ApiJson.BadRequest(error!);
        }
        if (b.TryGetProperty("id", out var idField) && (idField.ValueKind != JsonValueKind.Number || !idField.TryGetInt64(out long bodyId) || bodyId != id))
        {
            return ApiJson.BadRequest("id in the body must be the id of the URL (or left out)");
        }
        var (input, parseError) = Parse(b);
        if (input is null)
        {
            return ApiJson.BadRequest(parseError!);
        }
        return await store.UpdateAsync(http.Email(), id, input, ct) is { } s ? TypedResults.Json(ToJson(s), ApiJson.Options) : NotYours(id);
    }

    internal static async Task<IResult> Delete(long id, HttpContext http, ISubscriptionStore store, CancellationToken ct) =>
        await store.DeleteAsync(http.Email(), id, ct) ? TypedResults.NoContent() : NotYours(id);

    private static IResult NotYours(long id) =>
        ApiJson.NotFound(string.Create(CultureInfo.InvariantCulture, $"you have no subscription {id}"));
}
