using Microsoft.Extensions.Options;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo.Extensions;

public static class AlertHosting
{
    /// <summary>
    /// The notification core (docs/alerts.md): alert and subscription stores (PostgreSQL when a connection
    /// string is set, else memory), the publisher detectors use, signed links, sign-in, digests.
    /// Needs <see cref="NotificationHosting.AddOutbox"/> first.
    /// </summary>
    public static IServiceCollection AddAlerts(this IServiceCollection services, IConfiguration config, string? connectionString)
    {
        services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PortalOptions>, PortalOptionsValidator>();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>();
        services.AddOptions<AlertOptions>().BindConfiguration(AlertOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>();

        if (connectionString is null)
        {
            services.AddSingleton<IAlertStore>(sp => new MemoryAlertStore(sp.GetRequiredService<IOutboxStore>(), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ISubscriptionStore>(sp => new MemorySubscriptionStore(sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ISignInStore, MemorySignInStore>();
        }
        else
        {
            services.AddSingleton<IAlertStore>(sp => new PostgresAlertStore(connectionString, sp.GetRequiredService<PostgresOutboxStore>(), sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ISubscriptionStore>(sp => new PostgresSubscriptionStore(connectionString, sp.GetRequiredService<TimeProvider>()));
            services.AddSingleton<ISignInStore>(_ => new PostgresSignInStore(connectionString));
        }
        services.AddSingleton<IAlertReader>(sp => sp.GetRequiredService<IAlertStore>());
        services.AddSingleton<SigningKey>();
        services.AddHostedService(sp => sp.GetRequiredService<SigningKey>());
        services.AddSingleton<IUnsubscribeLinks>(sp =>
            new UnsubscribeLinks(sp.GetRequiredService<SigningKey>(), PublicUrl(sp.GetRequiredService<IOptions<AlertOptions>>().Value, config)));
        services.AddSingleton(sp => new AlertMail(sp.GetRequiredService<IOptions<PortalOptions>>().Value.BaseUrl, sp.GetRequiredService<IUnsubscribeLinks>()));
        services.AddSingleton<IAlertPublisher, AlertPublisher>();
        services.AddSingleton<DigestRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<DigestRunner>());
        return services;
    }

    public static IEndpointRouteBuilder MapAlerts(this IEndpointRouteBuilder app) =>
        app.MapAuthApi().MapSubscriptionsApi().MapAlertsApi();

    /// <summary><c>Alerts:PublicUrl</c>, else the first URL the silo listens on (with a wildcard host made 127.0.0.1).</summary>
    internal static string PublicUrl(AlertOptions options, IConfiguration config)
    {
        if (!string.IsNullOrWhiteSpace(options.PublicUrl))
        {
            return options.PublicUrl;
        }
        string urls = config["urls"] ?? config["ASPNETCORE_URLS"] ?? "http://127.0.0.1:8080";
        string first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "http://127.0.0.1:8080";
        return first.Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://+", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal);
    }
}
