namespace Telemetry.Silo.Storage.Bodies;

/// <summary>What one orphan collection did: objects examined (old enough, below the settled horizon) and deleted.</summary>
public readonly record struct OrphanCollection(int Examined, int Deleted);

/// <summary>Housekeeping of a landing log whose bodies are in a body store (docs/body-store.md), run by the retention service.</summary>
public interface IBodyObjectMaintenance
{
    /// <summary>Deletes the objects all of whose rows retention has deleted (dates before <paramref name="cutoff"/>, batches up to <paramref name="maxBatchId"/>); returns how many.</summary>
    Task<int> DeleteRetiredObjectsAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct);

    /// <summary>Deletes objects older than <paramref name="grace"/> that no committed batch refers to.</summary>
    Task<OrphanCollection> CollectOrphansAsync(TimeSpan grace, CancellationToken ct);
}
