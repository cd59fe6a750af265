using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Ingest;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo.Extensions;

public static class NotificationHosting
{
    /// <summary>
    /// The outbox store (PostgreSQL when a connection string is set, else memory), the sender of
    /// <c>Notifications:Mode</c> and the dispatcher (docs/notifications.md).
    /// </summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services, string? connectionString)
    {
        services.AddOptions<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpOptionsValidator>();
        services.AddOptions<NotificationOptions>().BindConfiguration(NotificationOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);

        if (connectionString is null)
        {
            services.AddSingleton<IOutboxStore>(sp => new MemoryOutboxStore(sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            // Registered as itself too: an alert writer in PostgreSQL mode enqueues in its own transaction through it.
            services.AddSingleton(sp => new PostgresOutboxStore(connectionString, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<PostgresOutboxStore>());
        }
        services.AddSingleton(sp => new OutboxMetrics(sp.GetRequiredService<IngestCounters>().Meter));
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<NotificationOptions>>().Value;
            var smtp = sp.GetRequiredService<IOptions<SmtpOptions>>().Value;
            IMailSender? sender = options.EffectiveMode(smtp) switch
            {
                NotificationMode.Smtp => new SmtpMailSender(smtp, sp.GetRequiredService<ILogger<SmtpMailSender>>()),
                NotificationMode.Console => new ConsoleMailSender(sp.GetRequiredService<ILogger<ConsoleMailSender>>()),
                _ => null,
            };
            return new OutboxDispatcher(sp.GetRequiredService<IOutboxStore>(), sender, options, smtp,
                sp.GetRequiredService<OutboxMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<OutboxDispatcher>>());
        });
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        return services;
    }
}
