using Orleans.Dashboard;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orleans.Runtime;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Operations;

public static class OperationsEndpoints
{
    public static WebApplication MapOperations(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
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
