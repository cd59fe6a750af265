using Orleans.Configuration;
using Telemetry.Portal.Cluster;

namespace Telemetry.Portal.Extensions;

public static class ClusterExtensions
{
    public const int DefaultGatewayPort = 30000;
    public const string DefaultClusterId = "telemetry";
    public const string DefaultServiceId = "telemetry-orleans";

    /// <summary>
    /// Joins the Orleans cluster as a client: ADO.NET (PostgreSQL) clustering when
    /// <c>ConnectionStrings:Telemetry</c> is set, the local silo's gateway otherwise.
    /// </summary>
    /// <remarks>
    /// The client connects in the background (<see cref="ClusterConnector"/>) and keeps retrying, so the
    /// portal serves HTTP, and says the cluster is unavailable, while no gateway answers.
    /// </remarks>
    public static WebApplicationBuilder AddTelemetryCluster(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var connectionString = configuration.GetConnectionString("Telemetry");
        var clusterId = configuration["Orleans:ClusterId"] ?? DefaultClusterId;
        var serviceId = configuration["Orleans:ServiceId"] ?? DefaultServiceId;
        var gatewayPort = configuration.GetValue("Orleans:GatewayPort", DefaultGatewayPort);
        ValidateClusterIdentity(gatewayPort, clusterId, serviceId);

        builder.Services.AddOptions<ClusterConnectionOptions>()
            .BindConfiguration(ClusterConnectionOptions.Section)
            .Validate(o => o.RetryDelayMin > TimeSpan.Zero && o.RetryDelayMax >= o.RetryDelayMin,
                "Portal:Cluster:RetryDelayMin must be positive and not above RetryDelayMax.")
            .Validate(o => o.CallTimeout > TimeSpan.Zero, "Portal:Cluster:CallTimeout must be positive.")
            .ValidateOnStart();

        // Created here rather than by the container so the same instance is both the client's
        // connection status observer and what the pages read.
        var connectionState = new ClusterConnectionState(TimeProvider.System);
        builder.Services.AddSingleton(connectionState);
        builder.Services.AddSingleton(new ClusterDescription(
            string.IsNullOrWhiteSpace(connectionString)
                ? $"localhost gateway on port {gatewayPort}"
                : "ADO.NET clustering (PostgreSQL)",
            clusterId,
            serviceId));

        var hostedServicesBefore = builder.Services.Where(d => d.ServiceType == typeof(IHostedService)).ToList();

        builder.UseOrleansClient(client =>
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                client.UseLocalhostClustering(gatewayPort: gatewayPort, serviceId: serviceId, clusterId: clusterId);
            }
            else
            {
                client.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = connectionString;
                });
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = serviceId;
                });
            }

            client.UseConnectionRetryFilter<ClusterConnectionRetryFilter>();
            client.AddClusterConnectionStatusObserver(connectionState);
        });

        // UseOrleansClient registers the client itself as a hosted service whose StartAsync only returns once
        // a gateway answers; hosted services start before Kestrel, so the portal would not serve a single page
        // while the cluster is down. Take that registration out and start the client from ClusterConnector,
        // a BackgroundService, instead.
        var clientHostedServices = builder.Services
            .Where(d => d.ServiceType == typeof(IHostedService) && !hostedServicesBefore.Contains(d))
            .ToList();
        if (clientHostedServices.Count != 1)
        {
            throw new InvalidOperationException(
                $"Expected UseOrleansClient to register exactly one hosted service (the cluster client), found {clientHostedServices.Count}.");
        }

        builder.Services.Remove(clientHostedServices[0]);
        builder.Services.AddHostedService<ClusterConnector>();
        return builder;
    }

    /// <summary>
    /// The <c>Orleans</c> settings the portal shares with the silos, checked before the client is
    /// configured with them: a bad value stops the portal at start with a message naming the key.
    /// </summary>
    private static void ValidateClusterIdentity(int gatewayPort, string clusterId, string serviceId)
    {
        var failures = new List<string>();
        if (gatewayPort is < 1 or > 65535)
        {
            failures.Add($"Orleans:GatewayPort must be between 1 and 65535 (is {gatewayPort}).");
        }
        if (string.IsNullOrWhiteSpace(clusterId))
        {
            failures.Add("Orleans:ClusterId must not be empty.");
        }
        if (string.IsNullOrWhiteSpace(serviceId))
        {
            failures.Add("Orleans:ServiceId must not be empty.");
        }
        if (failures.Count > 0)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException("Orleans", typeof(ClusterDescription), failures);
        }
    }
}
