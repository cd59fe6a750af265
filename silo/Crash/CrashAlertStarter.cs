using Telemetry.Contracts.Crash;

namespace Telemetry.Silo.Crash;

/// <summary>
/// Makes sure the crash-rate evaluation reminder exists once the silo is up. Every silo does it; the grain
/// registers the one reminder (or re-times it when <c>CrashAlerts:PeriodMinutes</c> changed).
/// </summary>
public sealed partial class CrashAlertStarter(IGrainFactory grains, ILogger<CrashAlertStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (int attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<ICrashAlertGrain>(CrashAlertRun.GrainKey).Start();
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStartFailed(logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 2 << Math.Min(attempt, 5))), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Starting the crash-rate alert reminder failed (attempt {Attempt}): {Message}")]
    private static partial void LogStartFailed(ILogger logger, int attempt, string message);
}
