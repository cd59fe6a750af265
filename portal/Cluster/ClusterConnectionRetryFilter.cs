using Microsoft.Extensions.Options;
using Orleans;

namespace Telemetry.Portal.Cluster;

/// <summary>
/// Keeps the cluster client trying to connect for as long as the portal runs (Orleans' default filter
/// gives up after a few attempts), with a doubling, capped delay.
/// </summary>
internal sealed class ClusterConnectionRetryFilter(
    ClusterConnectionState state,
    IOptions<ClusterConnectionOptions> options,
    ILogger<ClusterConnectionRetryFilter> logger) : IClientConnectionRetryFilter
{
    public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
    {
        var attempt = state.RecordFailedAttempt(exception);
        var delay = options.Value.DelayAfter(attempt);

        // Every failed attempt at Warning would be a line every few seconds for as long as the silo is down.
        if (attempt == 1 || attempt % 20 == 0)
        {
            ClusterLog.ConnectionAttemptFailed(logger, attempt, delay.TotalSeconds, state.Current.LastError ?? exception.GetType().Name);
        }
        else
        {
            ClusterLog.ConnectionAttemptFailedDetail(logger, attempt, delay.TotalSeconds, exception);
        }

        await Task.Delay(delay, cancellationToken);
        return true;
    }
}
