namespace Telemetry.Silo.Extensions;

/// <summary>
/// Activates grains once the silo is up (partitions, regression channels, the crash-alert reminder), retrying
/// with a back-off of 2 s doubling up to 60 s until it works or the silo stops; the grains keep themselves
/// going with reminders after that. One per <see cref="AddGrainStarter"/> call.
/// </summary>
public sealed partial class GrainStarter(string what, Func<IServiceProvider, Task> start, IServiceProvider services, ILogger<GrainStarter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (int attempt = 0; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await start(services);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogStartFailed(logger, what, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(60, 2 << Math.Min(attempt, 5))), stoppingToken);
            }
        }
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Starting {What} failed (attempt {Attempt}): {Message}")]
    private static partial void LogStartFailed(ILogger logger, string what, int attempt, string message);
}

public static class GrainStarterExtensions
{
    /// <summary>Registers a <see cref="GrainStarter"/> that runs <paramref name="start"/> (e.g. activating grains) once the silo is up.</summary>
    public static IServiceCollection AddGrainStarter(this IServiceCollection services, string what, Func<IServiceProvider, Task> start)
    {
        // Not AddHostedService: it drops a second registration of the same implementation type.
        services.AddSingleton<IHostedService>(sp => new GrainStarter(what, start, sp, sp.GetRequiredService<ILogger<GrainStarter>>()));
        return services;
    }
}
