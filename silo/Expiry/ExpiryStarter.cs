using Telemetry.Contracts.Expiry;

namespace Telemetry.Silo.Expiry;

/// <summary>
/// At silo start, catches up the expiry schedule (every day since the last evaluated one) and, by
/// activating the expiry grain, makes sure its daily reminder is registered. Started after the probe
/// cache has loaded the registry, and before the silo serves HTTP, so that an admin's run for a past
/// day never races the catch-up (docs/expiry.md, "When it runs").
/// </summary>
public sealed partial class ExpiryStarter(IGrainFactory grains, ILogger<ExpiryStarter> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var report = await grains.GetGrain<IExpiryGrain>(0).CatchUp().WaitAsync(cancellationToken);
            LogCaughtUp(logger, report.From, report.AsOf, report.Mails.Count(m => !m.AlreadySent));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The last evaluated day did not move: the daily reminder catches these days up.
            LogCatchUpFailed(logger, e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 9311, Level = LogLevel.Information, Message = "Expiry schedule evaluated from {From} to {AsOf} at start: {Mails} mails queued")]
    private static partial void LogCaughtUp(ILogger logger, DateOnly from, DateOnly asOf, int mails);

    [LoggerMessage(EventId = 9312, Level = LogLevel.Error, Message = "Expiry catch-up at start failed; the daily reminder retries")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception exception);
}
