namespace Telemetry.Grains;

/// <summary>Names of the Orleans providers the grains use; the silo registers them.</summary>
public static class StorageNames
{
    /// <summary>Grain state of every telemetry grain.</summary>
    public const string Telemetry = "telemetry";

    /// <summary>
    /// Aggregate states (<c>AggregateState</c>): in PostgreSQL mode stored as rows, so a write stores
    /// only what changed (docs/ingest-cost.md, "Aggregate state writes").
    /// </summary>
    public const string Aggregates = "aggregates";
}
