using Microsoft.Extensions.Logging;

namespace Telemetry.Grains.Regressions;

public sealed partial class RegressionChannelGrain
{
    [LoggerMessage(EventId = 5311, Level = LogLevel.Information,
        Message = "Regressions {Channel}: detection ({Reason}) over {Metrics} metrics: {Findings} findings, {New} new, {Failures} metrics failed")]
    private static partial void LogRun(ILogger logger, string channel, string? reason, int metrics, int findings, int @new, int failures);

    [LoggerMessage(EventId = 5312, Level = LogLevel.Warning, Message = "Regressions {Channel}: check failed, trying again at the next one")]
    private static partial void LogCheckFailed(ILogger logger, string channel, Exception exception);

    [LoggerMessage(EventId = 5313, Level = LogLevel.Warning, Message = "Regressions {Channel}: detection of {Metric} failed")]
    private static partial void LogSeriesFailed(ILogger logger, string channel, string metric, Exception exception);
}
