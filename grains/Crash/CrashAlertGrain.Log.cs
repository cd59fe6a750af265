using Microsoft.Extensions.Logging;

namespace Telemetry.Grains.Crash;

public sealed partial class CrashAlertGrain
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Crash-rate alerts: {Subscriptions} subscriptions evaluated, {Holding} rules hold, {Recorded} alerts recorded, {Failed} failed")]
    private static partial void LogRun(ILogger logger, int subscriptions, int holding, int recorded, int failed);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Crash-rate alert {AlertId} for subscription {SubscriptionId} on {Channel} {Version}: {Reason}")]
    private static partial void LogFired(ILogger logger, long alertId, long subscriptionId, string channel, string version, string reason);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Evaluating crash-rate subscription {SubscriptionId} failed: {Reason}")]
    private static partial void LogSubscriptionFailed(ILogger logger, long subscriptionId, string reason);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Error, Message = "Crash-rate alert evaluation failed; the next reminder tick tries again")]
    private static partial void LogRunFailed(ILogger logger, Exception exception);
}
