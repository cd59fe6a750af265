using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Notifications;

/// <summary>Admin endpoints of the outbox: list rows by state, send a failed row again.</summary>
public static class OutboxApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>An outbox row as the admin API shows it (no bodies, no unsubscribe token).</summary>
    public sealed record OutboxItem(
        long Id,
        string AlertKey,
        string Recipient,
        string Kind,
        string Subject,
        string State,
        int Attempts,
        DateTimeOffset NextAttemptAt,
        string? LastError,
        string? ClaimedBy,
        DateTimeOffset? ClaimedUntil,
        DateTimeOffset CreatedAt,
        DateTimeOffset? SentAt,
        bool HasHtml,
        bool HasUnsubscribe)
    {
        public static OutboxItem From(OutboxRow r) => new(
            r.Id, r.AlertKey, r.Recipient, r.Kind, r.Subject, OutboxStates.Name(r.State), r.Attempts, r.NextAttemptAt,
            r.LastError, r.ClaimedBy, r.ClaimedUntil, r.CreatedAt, r.SentAt, r.HtmlBody is not null, r.UnsubscribeUrl is not null);
    }

    /// <summary>One page, newest first; <c>next_before</c> is the <c>before</c> of the next page (null on the last).</summary>
    public sealed record OutboxListing(IReadOnlyList<OutboxItem> Items, long? NextBefore);

    public static IEndpointRouteBuilder MapOutboxApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/outbox").WithTags("Admin").RequireAdmin();
        group.MapGet("", List)
            .WithSummary("Outbox rows, newest first: ?state=pending|sending|sent|failed|folded|discarded|digested (default all), &limit= (1-500, default 50), &before=<id> for the next page");
        group.MapPost("/{id:long}/retry", Retry)
            .WithSummary("Send a failed row again: back to pending with its attempts reset (404 unknown id, 409 not failed)");
        return app;
    }

    internal static async Task<Results<JsonHttpResult<OutboxListing>, ProblemHttpResult>> List(
        string? state, int? limit, long? before, IOutboxStore store, CancellationToken ct)
    {
        OutboxState? filter = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (!OutboxStates.TryParse(state, out var s))
            {
                return TypedResults.Problem(statusCode: 400, title: "bad state",
                    detail: $"state '{state}' is not one of pending, sending, sent, failed, folded, discarded, digested");
            }
            filter = s;
        }
        int n = limit ?? DefaultLimit;
        if (n is < 1 or > MaxLimit)
        {
            return TypedResults.Problem(statusCode: 400, title: "bad limit", detail: $"limit must be between 1 and {MaxLimit}");
        }
        var page = await store.ListAsync(filter, n, before, ct);
        return TypedResults.Json(new OutboxListing(page.Rows.Select(OutboxItem.From).ToList(), page.NextBefore), Json);
    }

    internal static async Task<Results<JsonHttpResult<OutboxItem>, ProblemHttpResult>> Retry(
        long id, IOutboxStore store, TimeProvider time, CancellationToken ct)
    {
        switch (await store.RetryFailedAsync(id, time.GetUtcNow(), ct))
        {
            case OutboxRetryResult.NotFound:
                return TypedResults.Problem(statusCode: 404, title: "no such outbox row", detail: $"no outbox row has id {id}");
            case OutboxRetryResult.NotFailed:
                var current = await store.GetAsync(id, ct);
                return TypedResults.Problem(statusCode: 409, title: "not failed",
                    detail: $"row {id} is {(current is null ? "gone" : OutboxStates.Name(current.State))}; only failed rows can be retried");
            default:
                var row = await store.GetAsync(id, ct) ?? throw new InvalidOperationException($"outbox row {id} vanished after its retry");
                return TypedResults.Json(OutboxItem.From(row), Json);
        }
    }
}
