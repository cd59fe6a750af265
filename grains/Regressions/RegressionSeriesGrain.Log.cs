using Microsoft.Extensions.Logging;

namespace Telemetry.Grains.Regressions;

public sealed partial class RegressionSeriesGrain
{
    [LoggerMessage(EventId = 5301, Level = LogLevel.Information, Message = "Regression recorded: {Key} (alert {AlertId}, score {Score})")]
    private static partial void LogRecorded(ILogger logger, string key, long alertId, double score);
}
