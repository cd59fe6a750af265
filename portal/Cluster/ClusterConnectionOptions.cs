namespace Telemetry.Portal.Cluster;

/// <summary>How the portal connects to the cluster and how long it waits for an answer (section <c>Portal:Cluster</c>).</summary>
public sealed class ClusterConnectionOptions
{
    public const string Section = "Portal:Cluster";

    /// <summary>Wait after the first failed connection attempt; doubles per attempt up to <see cref="RetryDelayMax"/>. Default 1 s.</summary>
    public TimeSpan RetryDelayMin { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait between two connection attempts. Default 5 s.</summary>
    public TimeSpan RetryDelayMax { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a page waits for a grain call before it reports the cluster unavailable. Default 10 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Wait before the next connection attempt after <paramref name="failedAttempts"/> failures in a row.</summary>
    public TimeSpan DelayAfter(int failedAttempts)
    {
        var factor = Math.Pow(2, Math.Clamp(failedAttempts - 1, 0, 16));
        var ticks = Math.Min(RetryDelayMin.Ticks * factor, RetryDelayMax.Ticks);
        return TimeSpan.FromTicks(Math.Max((long)ticks, RetryDelayMin.Ticks));
    }
}
