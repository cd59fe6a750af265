using Orleans;

namespace Telemetry.Portal.Cluster;

/// <summary>
/// Starts the cluster client in the background so the web host serves pages while no gateway answers;
/// the retry filter keeps the connection attempt going until one does or the portal stops.
/// </summary>
internal sealed class ClusterConnector(
    IClusterClient client,
    ClusterConnectionState state,
    ILogger<ClusterConnector> logger) : BackgroundService
{
    // The Orleans client implements IHostedService; UseOrleansClient would start it with the host.
    private IHostedService ClientLifetime => (IHostedService)client;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Leave the host's start path before the client does any work.
        await Task.Yield();
        try
        {
            await ClientLifetime.StartAsync(stoppingToken);
            state.MarkConnected();
            ClusterLog.Connected(logger);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            ClusterLog.StoppedBeforeConnecting(logger, state.Current.FailedAttempts);
        }
        catch (Exception exception)
        {
            // The retry filter retries every connection error, so this is something retrying cannot fix
            // (invalid configuration, a bug). Keep serving pages, which show the failure, rather than
            // stopping the host.
            state.MarkFailed(exception);
            ClusterLog.ClientFailed(logger, exception);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (state.Current.Status is ClusterConnectionStatus.Connected or ClusterConnectionStatus.ConnectionLost)
        {
            await ClientLifetime.StopAsync(cancellationToken);
        }
    }
}
