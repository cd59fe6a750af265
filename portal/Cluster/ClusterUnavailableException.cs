namespace Telemetry.Portal.Cluster;

/// <summary>
/// The cluster could not answer (not connected yet, connection lost, call timed out). Its message is
/// written for people and is shown on pages as is.
/// </summary>
public sealed class ClusterUnavailableException : Exception
{
    public ClusterUnavailableException(string message)
        : base(message)
    {
    }

    public ClusterUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
