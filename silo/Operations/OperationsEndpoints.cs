using Orleans.Dashboard;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Telemetry.Silo.Ingest;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Operations;

public static class OperationsEndpoints
{
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }

    public static WebApplication MapOperations(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        // 200 for Healthy and Degraded (the silo serves; a Degraded checkpoint is a cluster matter, not a
        // reason to take this silo out of a load balancer), 503 for Unhealthy; the body says which check and why.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealthAsync });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi/v1.json");
        // The dashboard shows cluster internals: admins only unless bound to loopback.
        var dashboard = app.MapOrleansDashboard(routePrefix: "/dashboard");
        if (!OnlyLoopback(app))
        {
            dashboard.RequireAdmin();
        }
        return app;
    }

    private static bool OnlyLoopback(WebApplication app)
    {
        var urls = app.Configuration["urls"] ?? app.Configuration["ASPNETCORE_URLS"] ?? "";
        return urls.Length > 0 && urls.Split(';').All(u => u.Contains("127.0.0.1") || u.Contains("localhost") || u.Contains("[::1]"));
    }
}

/// <summary>Ready when the landing log answers.</summary>
public sealed class StorageHealthCheck(ILandingLog log) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(3));
            await log.CountAsync(cts.Token);
            return HealthCheckResult.Healthy(log.IsDurable ? "PostgreSQL" : "in memory (not persisted)");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("landing log unreachable", e);
        }
    }
}

/// <summary>Ready when this silo is an active member of the cluster.</summary>
public sealed class ClusterHealthCheck(ISiloStatusOracle oracle) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(oracle.CurrentStatus == SiloStatus.Active
            ? HealthCheckResult.Healthy("silo active")
            : HealthCheckResult.Unhealthy($"silo {oracle.CurrentStatus}"));
}

/// <summary>
/// Degraded when a partition's checkpoint trails its applied batches by more than
/// <c>Ingest:CheckpointAgeLimitSeconds</c>: ingestion and the API still work, but a crash now would read
/// that much of the log again, and the applied-batch records keep growing (docs/exactly-once.md).
/// </summary>
public sealed class CheckpointHealthCheck(IngestStatsReporter reporter, Microsoft.Extensions.Options.IOptions<Telemetry.Grains.Ingest.IngestOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var (partitions, _) = reporter.LastSeen;
        int limit = options.Value.CheckpointAgeLimitSeconds;
        var stale = partitions.Where(p => p.CheckpointAgeSeconds > limit).ToList();
        if (stale.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy(partitions.Count == 0
                ? "partitions not seen yet"
                : $"checkpoint age at most {partitions.Max(p => p.CheckpointAgeSeconds):0} s"));
        }
        var worst = stale.MaxBy(p => p.CheckpointAgeSeconds)!;
        return Task.FromResult(HealthCheckResult.Degraded(
            $"{stale.Count} partition(s) have not checkpointed for over {limit} s (partition {worst.Partition}: {worst.CheckpointAgeSeconds:0} s, {worst.AppliedAboveCheckpoint} batches above the checkpoint)"));
    }
}

