using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Telemetry.Portal.Services;

/// <summary>One of the signed-in person's subscriptions (docs/alerts.md, "Subscriptions").</summary>
public sealed record PersonSubscription(
    long Id,
    string Kind,
    JsonObject Params,
    string Delivery,
    int DigestHour,
    bool Paused,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static PersonSubscription FromJson(JsonElement o) => new(
        o.GetProperty("id").GetInt64(),
        ErrorIssue.Str(o, "kind") ?? "",
        o.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object ? JsonNode.Parse(p.GetRawText())!.AsObject() : [],
        ErrorIssue.Str(o, "delivery") ?? "immediate",
        o.TryGetProperty("digest_hour", out var h) && h.ValueKind == JsonValueKind.Number ? h.GetInt32() : 8,
        o.TryGetProperty("paused", out var pa) && pa.ValueKind == JsonValueKind.True,
        ErrorIssue.Time(o, "created_at") ?? default,
        ErrorIssue.Time(o, "updated_at") ?? default);
}

/// <summary>What a subscription is made of when it is created or replaced: the body of POST and PUT.</summary>
public sealed record SubscriptionBody(string Kind, JsonObject Params, string Delivery, int DigestHour, bool Paused)
{
    public JsonObject ToJson() => new()
    {
        ["kind"] = Kind,
        ["params"] = Params.DeepClone(),
        ["delivery"] = Delivery,
        ["digest_hour"] = DigestHour,
        ["paused"] = Paused,
    };

    public static SubscriptionBody Of(PersonSubscription s) => new(s.Kind, s.Params, s.Delivery, s.DigestHour, s.Paused);
}

/// <summary>A mail the outbox holds for the signed-in person (sent, waiting, folded into a digest, failed).</summary>
public sealed record SentMessage(long Id, string Subject, string Kind, string State, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, long? AlertId)
{
    public static SentMessage FromJson(JsonElement o) => new(
        o.GetProperty("id").GetInt64(),
        ErrorIssue.Str(o, "subject") ?? "",
        ErrorIssue.Str(o, "kind") ?? "",
        ErrorIssue.Str(o, "state") ?? "",
        ErrorIssue.Time(o, "created_at") ?? default,
        ErrorIssue.Time(o, "sent_at"),
        o.TryGetProperty("alert_id", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetInt64() : null);
}

/// <summary>The subscriptions page's data: the signed-in person's own subscriptions and mail, through the silo's HTTP API.</summary>
public interface ISubscriptionsSource
{
    Task<IReadOnlyList<PersonSubscription>> ListAsync(string bearer, CancellationToken ct);

    Task<PersonSubscription> CreateAsync(SubscriptionBody body, string bearer, CancellationToken ct);

    Task<PersonSubscription> UpdateAsync(long id, SubscriptionBody body, string bearer, CancellationToken ct);

    Task DeleteAsync(long id, string bearer, CancellationToken ct);

    /// <summary>The newest mail queued for the person, newest first.</summary>
    Task<IReadOnlyList<SentMessage>> SentAsync(int limit, string bearer, CancellationToken ct);
}

public sealed class SubscriptionsService(SiloApi api) : ISubscriptionsSource
{
    public async Task<IReadOnlyList<PersonSubscription>> ListAsync(string bearer, CancellationToken ct)
    {
        var json = await api.GetAsync("/api/subscriptions", bearer, ct);
        return json is { } o && o.TryGetProperty("subscriptions", out var list)
            ? list.EnumerateArray().Select(PersonSubscription.FromJson).OrderBy(s => s.Id).ToList()
            : [];
    }

    public async Task<PersonSubscription> CreateAsync(SubscriptionBody body, string bearer, CancellationToken ct) =>
        PersonSubscription.FromJson(await api.SendAsync(HttpMethod.Post, "/api/subscriptions", body.ToJson(), bearer, ct));

    public async Task<PersonSubscription> UpdateAsync(long id, SubscriptionBody body, string bearer, CancellationToken ct) =>
        PersonSubscription.FromJson(await api.SendAsync(HttpMethod.Put, string.Create(CultureInfo.InvariantCulture, $"/api/subscriptions/{id}"), body.ToJson(), bearer, ct));

    public Task DeleteAsync(long id, string bearer, CancellationToken ct) =>
        api.SendAsync(HttpMethod.Delete, string.Create(CultureInfo.InvariantCulture, $"/api/subscriptions/{id}"), body: null, bearer, ct);

    public async Task<IReadOnlyList<SentMessage>> SentAsync(int limit, string bearer, CancellationToken ct)
    {
        var json = await api.GetAsync(string.Create(CultureInfo.InvariantCulture, $"/api/subscriptions/sent?limit={limit}"), bearer, ct);
        return json is { } o && o.TryGetProperty("messages", out var list)
            ? list.EnumerateArray().Select(SentMessage.FromJson).ToList()
            : [];
    }
}
