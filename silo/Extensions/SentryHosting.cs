using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Telemetry.Grains.Sentry;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Sentry;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo.Extensions;

public static class SentryHosting
{
    /// <summary>
    /// Browser error alerts from Sentry (docs/sentry.md): section <c>Sentry</c>, the issue store (PostgreSQL when
    /// a connection string is set, else memory), the ingest path shared by the SQS consumers and the webhook,
    /// and the start of the evaluation reminder. Needs the notification core (<see cref="AlertHosting.AddAlerts"/>).
    /// </summary>
    public static IServiceCollection AddSentry(this IServiceCollection services, string? connectionString)
    {
        services.AddOptions<SentryOptions>().BindConfiguration(SentryOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        if (connectionString is null)
        {
            services.AddSingleton<ISentryStore>(sp => new MemorySentryStore(sp.GetRequiredService<Serializer>()));
        }
        else
        {
            services.AddSingleton<ISentryStore>(sp => new PostgresSentryStore(connectionString, sp.GetRequiredService<Serializer>()));
        }
        services.AddSingleton<SentryMetrics>();
        services.AddSingleton(sp => new SentryPortal(sp.GetRequiredService<IOptions<PortalOptions>>().Value.BaseUrl));
        services.AddSingleton<SentryIngest>();
        // Registered after the silo, so it stops first: its last batch is recorded while grains still answer.
        services.AddSingleton<SqsConsumer>();
        services.AddHostedService(sp => sp.GetRequiredService<SqsConsumer>());
        services.AddGrainStarter("the Sentry rule evaluator",
            sp => sp.GetRequiredService<IGrainFactory>().GetGrain<Telemetry.Contracts.Sentry.ISentryEvaluatorGrain>(0).Start());
        return services;
    }
}
