namespace Telemetry.Contracts.Jobs;

/// <summary>
/// Admits one reprocessing job at a time, cluster-wide (key 0). A job holds the slot with a lease that
/// its runner renews; a runner that died frees the slot when its lease runs out.
/// </summary>
public interface IReprocessCoordinatorGrain : IGrainWithIntegerKey
{
    /// <summary>Takes the slot for <paramref name="jobId"/>; returns null on success, else the id of the job holding it.</summary>
    Task<string?> TryBegin(string jobId, TimeSpan lease);

    /// <summary>Extends <paramref name="jobId"/>'s lease; false when it no longer holds the slot.</summary>
    Task<bool> Renew(string jobId, TimeSpan lease);

    /// <summary>Frees the slot if <paramref name="jobId"/> holds it.</summary>
    Task End(string jobId);
}
