using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Telemetry.Contracts.Ingest;
using Telemetry.Portal.Cluster;

namespace Telemetry.Portal.Services;

/// <summary>Reads the overview from <see cref="IIngestStatsGrain"/> (key 0) through the cluster client.</summary>
public sealed class OverviewService(
    IGrainFactory grains,
    ClusterConnectionState connection,
    IOptions<ClusterConnectionOptions> options,
    ILogger<OverviewService> logger) : IOverviewSource
{
    public const long StatsGrainKey = 0;

    public async Task<IngestOverview> GetAsync(CancellationToken cancellationToken)
    {
        var state = connection.Current;
        if (state.Status is ClusterConnectionStatus.Connecting or ClusterConnectionStatus.Failed)
        {
            // The client is not started: a grain call would throw an unhelpful InvalidOperationException.
            throw new ClusterUnavailableException(state.Describe());
        }

        try
        {
            return await grains.GetGrain<IIngestStatsGrain>(StatsGrainKey)
                .GetOverview()
                .WaitAsync(options.Value.CallTimeout, cancellationToken);
        }
        catch (Exception exception) when (exception is OrleansException or TimeoutException)
        {
            ClusterLog.GrainCallUnavailable(logger, $"{nameof(IIngestStatsGrain)}.{nameof(IIngestStatsGrain.GetOverview)}", exception);
            var reason = exception is TimeoutException
                ? $"The cluster did not answer within {options.Value.CallTimeout.TotalSeconds:0} s."
                : "The cluster could not be reached.";
            var detail = connection.Current.Status == ClusterConnectionStatus.ConnectionLost
                ? " The connection to the cluster was lost; reconnecting."
                : "";
            throw new ClusterUnavailableException(reason + detail, exception);
        }
    }
}
