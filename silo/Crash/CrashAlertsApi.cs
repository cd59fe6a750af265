using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Crash;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Crash;

/// <summary>Crash-rate alerts: the list (public, like the crash rates) and the admin trigger of an evaluation (docs/crash-alerts.md, "HTTP").</summary>
public static class CrashAlertsApi
{
    public static IEndpointRouteBuilder MapCrashAlertsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/crash-alerts").WithTags("Crash-rate alerts");
        group.MapGet("", List).WithSummary("Crash-rate alerts, newest window first, filtered by channel and state");
        group.MapPost("/evaluate", Evaluate).RequireAdmin()
            .WithSummary("Evaluates every active crash_rate subscription now; returns the rules that hold (with their alerts) and why the others do not");
        return app;
    }

    internal static async Task<IResult> List(HttpRequest request, [FromServices] IAlertReader alerts, CancellationToken ct)
    {
        var q = request.Query;
        var unknown = q.Keys.FirstOrDefault(k => k is not ("channel" or "state"));
        if (unknown is not null)
        {
            return BadRequest(unknown, "unknown parameter; allowed: channel, state");
        }
        AlertState? state = null;
        if (q.ContainsKey("state"))
        {
            if (!AlertStates.TryParse(q["state"], out var s))
            {
                return BadRequest("state", "one of " + string.Join(", ", Enum.GetValues<AlertState>().Select(AlertStates.Name)));
            }
            state = s;
        }
        string? channel = q.ContainsKey("channel") ? q["channel"].ToString() : null;
        var records = await alerts.ListAsync(new AlertQuery(Kind: AlertKinds.CrashRate, State: state, Channel: channel), ct);
        var list = new JsonArray();
        foreach (var record in records)
        {
            list.Add(ToJson(record));
        }
        return TypedResults.Json(new JsonObject { ["alerts"] = list });
    }

    internal static async Task<IResult> Evaluate(IGrainFactory grains)
    {
        var run = await grains.GetGrain<ICrashAlertGrain>(CrashAlertRun.GrainKey).Evaluate();
        return TypedResults.Json(new
        {
            evaluated_at = run.EvaluatedAt,
            today = CrashDimensions.FormatDate(run.Today),
            subscriptions = run.Subscriptions,
            fired = run.Fired.Select(f => new
            {
                subscription_id = f.SubscriptionId,
                rule = f.Rule,
                channel = f.Channel,
                version = f.Version,
                window_end = CrashDimensions.FormatDate(f.WindowEnd),
                rate = f.Rate,
                reason = f.Reason,
                alert_id = f.AlertId,
                alert_key = f.AlertKey,
                recorded = f.Recorded,
                state = f.AlertState,
            }),
            quiet = run.Quiet.Select(n => new { subscription_id = n.SubscriptionId, rule = n.Rule, reason = n.Reason, failed = n.Failed }),
        });
    }

    /// <summary>
    /// One alert as the list shows it: the alert's identity and state around the figures the evaluator stored
    /// with it (<see cref="CrashAlertDrafts.DetailsJson"/>).
    /// </summary>
    internal static JsonObject ToJson(AlertRecord record)
    {
        JsonObject details;
        try
        {
            details = JsonNode.Parse(record.DetailsJson) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            details = new JsonObject(); // the record's own fields still describe it
        }
        var target = record.Target;
        var o = new JsonObject
        {
            ["id"] = record.Id,
            ["subscription_id"] = target.SubscriptionId,
            ["channel"] = target.Channel,
            ["version"] = target.Subject,
            ["filters"] = Take(details, "filters") ?? new JsonObject(),
            ["rule"] = target.Detector,
            ["measure"] = Take(details, "measure"),
            ["days"] = Take(details, "days"),
            ["window_start"] = Take(details, "window_start"),
            ["window_end"] = target.OccurredOn is { } end ? CrashDimensions.FormatDate(end) : Take(details, "window_end"),
            ["rate"] = target.Score,
            ["ci95"] = Take(details, "ci95"),
            ["usage_hours"] = Take(details, "usage_hours"),
            ["crashes"] = Take(details, "crashes"),
        };
        if (target.Detector == CrashAlertRule.Relative)
        {
            o["relative_increase_pct"] = Take(details, "relative_increase_pct");
            o["increase_pct"] = Take(details, "increase_pct");
            o["baseline"] = Take(details, "baseline");
        }
        else
        {
            o["threshold"] = Take(details, "threshold");
        }
        o["min_usage_hours"] = Take(details, "min_usage_hours");
        o["title"] = record.Title;
        o["reason"] = Take(details, "reason");
        o["state"] = AlertStates.Name(record.State);
        o["detected_at"] = record.CreatedAt;
        o["updated_at"] = record.UpdatedAt;
        return o;
    }

    private static JsonNode? Take(JsonObject details, string name) => details[name]?.DeepClone();

    private static IResult BadRequest(string parameter, string detail) =>
        TypedResults.Problem(statusCode: 400, title: $"bad parameter '{(parameter.Length > 64 ? parameter[..64] : parameter)}'", detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });
}
