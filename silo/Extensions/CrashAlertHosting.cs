using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Crash;
using Telemetry.Silo.Crash;

namespace Telemetry.Silo.Extensions;

public static class CrashAlertHosting
{
    /// <summary>
    /// Crash-rate alerts (docs/crash-alerts.md): section <c>CrashAlerts</c>, and the start of the evaluation
    /// reminder. The grain takes the notification core's <see cref="Telemetry.Grains.Alerts.IAlertPublisher"/>
    /// and <see cref="Telemetry.Grains.Alerts.ISubscriptionStore"/> from the services.
    /// </summary>
    public static IServiceCollection AddCrashAlerts(this IServiceCollection services)
    {
        services.AddOptions<CrashAlertOptions>().BindConfiguration(CrashAlertOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrashAlertOptions>, CrashAlertOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        // Every silo makes sure the one evaluation reminder exists (the grain re-times it when the period changed).
        services.AddGrainStarter("the crash-rate alert reminder",
            sp => sp.GetRequiredService<IGrainFactory>().GetGrain<Telemetry.Contracts.Crash.ICrashAlertGrain>(Telemetry.Contracts.Crash.CrashAlertRun.GrainKey).Start());
        return services;
    }
}
