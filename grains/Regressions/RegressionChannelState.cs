namespace Telemetry.Grains.Regressions;

/// <summary>The persisted state of a channel's detection schedule (Orleans serializer: keep ids stable).</summary>
[GenerateSerializer]
public sealed class RegressionChannelState
{
    [Id(0)] public int SchemaVersion { get; set; } = 1;

    /// <summary>When the schedule last ran detection (requests through the API do not count).</summary>
    [Id(1)] public DateTimeOffset? LastRunAt { get; set; }

    [Id(2)] public string? LastRunReason { get; set; }

    /// <summary>Build dates of the window that reached the ready threshold and triggered (or joined) a run.</summary>
    [Id(3)] public HashSet<DateOnly> ReadyDates { get; set; } = new();

    [Id(4)] public int Runs { get; set; }
}
