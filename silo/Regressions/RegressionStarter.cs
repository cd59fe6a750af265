using Microsoft.Extensions.Options;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Regressions;

namespace Telemetry.Silo.Regressions;

/// <summary>Starts the grain of every watched channel once the silo is up; their reminders keep them going after that.</summary>
public sealed partial class RegressionStarter(IGrainFactory grains, IOptions<RegressionOptions> options, ILogger<RegressionStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (int attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await Task.WhenAll(options.Value.Channels.Select(c => grains.GetGrain<IRegressionChannelGrain>(c).Start()));
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStartFailed(logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 5321, Level = LogLevel.Warning, Message = "Starting regression detection failed (attempt {Attempt}): {Message}")]
    private static partial void LogStartFailed(ILogger logger, int attempt, string message);
}
