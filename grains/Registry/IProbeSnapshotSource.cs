namespace Telemetry.Grains.Registry;

/// <summary>The silo-local, regularly refreshed view of the probe registry.</summary>
public interface IProbeSnapshotSource
{
    ProbeSnapshot Current { get; }
}
