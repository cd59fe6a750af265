using Microsoft.Extensions.Options;
using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Expiry;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo.Extensions;

public static class ExpiryHosting
{
    /// <summary>
    /// Expiring probes (docs/expiry.md): options, the release calendar, the once-only ledger
    /// (PostgreSQL when a connection string is set, else memory) and the catch-up at start. Call after
    /// the outbox and the probe cache are registered: the starter needs both running.
    /// </summary>
    public static IServiceCollection AddExpiry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ExpiryOptions>().BindConfiguration(ExpiryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExpiryOptions>, ExpiryOptionsValidator>();
        services.AddOptions<ReleaseCalendarOptions>().BindConfiguration(ReleaseCalendarOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReleaseCalendarOptions>, ReleaseCalendarOptionsValidator>();

        services.AddSingleton(sp => new ExpiryPortalLinks(sp.GetRequiredService<IOptions<PortalOptions>>().Value.BaseUrl));
        services.AddSingleton<ReleaseCalendarProvider>();
        services.AddSingleton<ExpiryScheduleSource>();
        if (configuration.ConnectionString() is { } cs)
        {
            services.AddSingleton<IExpiryLedger>(sp => new PostgresExpiryLedger(cs, sp.GetRequiredService<PostgresOutboxStore>(), sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.AddSingleton<IExpiryLedger>(sp => new MemoryExpiryLedger(sp.GetRequiredService<IOutboxStore>()));
        }
        services.AddHostedService<ExpiryStarter>();
        return services;
    }

    /// <summary>The release calendar, the notice runs and the expiring list (<see cref="ExpiryApi"/>).</summary>
    public static IEndpointRouteBuilder MapExpiryApi(this IEndpointRouteBuilder app) => ExpiryApi.Map(app);
}
