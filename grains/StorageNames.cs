namespace Telemetry.Grains;

/// <summary>Names of the Orleans providers the grains use; the silo registers them.</summary>
public static class StorageNames
{
    /// <summary>Grain state of every telemetry grain.</summary>
    public const string Telemetry = "telemetry";
}
