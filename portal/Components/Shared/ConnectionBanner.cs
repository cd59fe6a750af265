using Telemetry.Portal.Cluster;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Shared;

/// <summary>
/// What the unreachable banner says, from the cluster connection and the silo API's reachability: nothing
/// while both are fine (or the first connection attempt is still under way), else one line per problem.
/// </summary>
public static class ConnectionBanner
{
    public static IReadOnlyList<string> Lines(ClusterConnectionSnapshot cluster, SiloReachabilitySnapshot silo, string siloUrl)
    {
        var lines = new List<string>(2);
        bool clusterDown = cluster.Status switch
        {
            ClusterConnectionStatus.Connected => false,
            // The portal's very first attempt is not a problem yet: no banner flashes at start.
            ClusterConnectionStatus.Connecting => cluster.FailedAttempts > 0,
            _ => true,
        };
        if (clusterDown)
        {
            lines.Add("The portal cannot reach the Orleans cluster: live figures (ingest counters, lag) are unavailable. " + cluster.Describe());
        }
        if (!silo.Reachable)
        {
            lines.Add($"The silo's HTTP API at {siloUrl} cannot be reached ({silo.Problem?.TrimEnd('.')}): alerts, regressions, errors, subscriptions and admin pages cannot load or save. Retrying.");
        }
        return lines;
    }
}
