namespace Telemetry.Portal.Cluster;

internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning,
        Message = "Cluster connection attempt {Attempt} failed, retrying in {DelaySeconds} s: {Error}")]
    public static partial void ConnectionAttemptFailed(ILogger logger, int attempt, double delaySeconds, string error);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Debug,
        Message = "Cluster connection attempt {Attempt} failed, retrying in {DelaySeconds} s")]
    public static partial void ConnectionAttemptFailedDetail(ILogger logger, int attempt, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Connected to the Orleans cluster")]
    public static partial void Connected(ILogger logger);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information,
        Message = "Portal stopping before the cluster answered ({Attempts} failed connection attempts)")]
    public static partial void StoppedBeforeConnecting(ILogger logger, int attempts);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Critical,
        Message = "The cluster client failed and will not retry; restart the portal")]
    public static partial void ClientFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Warning,
        Message = "Grain call {Call} failed: the cluster did not answer")]
    public static partial void GrainCallUnavailable(ILogger logger, string call, Exception exception);
}
