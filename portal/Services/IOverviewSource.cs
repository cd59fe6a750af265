using Telemetry.Contracts.Ingest;

namespace Telemetry.Portal.Services;

/// <summary>Where the overview page gets the cluster-wide ingest picture.</summary>
public interface IOverviewSource
{
    /// <summary>
    /// Returns the current overview; throws <see cref="Cluster.ClusterUnavailableException"/> when the
    /// cluster cannot answer.
    /// </summary>
    Task<IngestOverview> GetAsync(CancellationToken cancellationToken);
}
