using Microsoft.Extensions.Configuration.Memory;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Telemetry.Portal.Extensions;

public static class ObservabilityExtensions
{
    /// <summary>The OpenTelemetry <c>service.name</c> of a portal (<c>OTEL_SERVICE_NAME</c> overrides it).</summary>
    public const string ServiceName = "telemetry-portal";

    /// <summary>
    /// Default log levels a person can read: the framework at Warning, the portal's own messages at
    /// Information. The first configuration source, so anything configured overrides it
    /// (<c>--Logging:LogLevel:Default=Information</c> brings back the per-request framework logs).
    /// </summary>
    public static WebApplicationBuilder UseReadableLogDefaults(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Telemetry"] = "Information",
                // While no silo answers, Orleans logs every refused connection with a stack trace; the
                // portal's own retry log (Telemetry.Portal.Cluster) reports the same thing once.
                ["Logging:LogLevel:Orleans.Runtime.Messaging.ConnectionManager"] = "Error",
            },
        });
        return builder;
    }

    /// <summary>OpenTelemetry metrics (ASP.NET Core, Orleans client) under the portal's service name, scraped at <c>/metrics</c>.</summary>
    public static WebApplicationBuilder AddPortalMetrics(this WebApplicationBuilder builder)
    {
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(
                serviceName: builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : ServiceName,
                serviceVersion: typeof(ObservabilityExtensions).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithMetrics(m => m
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.Orleans")
                .AddPrometheusExporter());
        return builder;
    }
}
