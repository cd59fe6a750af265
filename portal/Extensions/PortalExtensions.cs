using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MudBlazor.Services;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Extensions;

public static class PortalExtensions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>
    /// Listens on <see cref="DefaultUrl"/> unless an address was configured the standard way
    /// (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>*_PORTS</c> or <c>Kestrel:Endpoints</c>).
    /// </summary>
    public static WebApplicationBuilder UseDefaultPortalUrl(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var configured = !string.IsNullOrWhiteSpace(configuration["urls"])
            || !string.IsNullOrWhiteSpace(configuration["http_ports"])
            || !string.IsNullOrWhiteSpace(configuration["https_ports"])
            || configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
        if (!configured)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // Static web assets of packages (MudBlazor's css and js) are only wired up automatically in
        // Development; this makes a build output run in Production serve them too. A publish folder
        // has no manifest and is unaffected.
        builder.WebHost.UseStaticWebAssets();
        return builder;
    }

    /// <summary>Razor components in Interactive Server mode, MudBlazor, and the portal's data services.</summary>
    public static IServiceCollection AddTelemetryPortal(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();

        services.AddOptions<OverviewOptions>()
            .BindConfiguration(OverviewOptions.Section)
            .Validate(o => o.RefreshInterval >= TimeSpan.FromSeconds(1), "Portal:Overview:RefreshInterval must be at least 1 second.")
            .ValidateOnStart();

        services.AddSingleton<IOverviewSource, OverviewService>();

        services.AddOptions<SiloApiOptions>().BindConfiguration(SiloApiOptions.Section)
            .Validate(o => Uri.TryCreate(o.Url, UriKind.Absolute, out _), "Portal:Silo:Url must be an absolute URL, e.g. http://127.0.0.1:8080.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "Portal:Silo:Timeout must be positive.")
            .Validate(o => o.ProbeInterval >= TimeSpan.FromSeconds(1), "Portal:Silo:ProbeInterval must be at least 1 second.")
            .Validate(o => string.IsNullOrEmpty(o.ReadToken) || (o.ReadToken.Length >= 16 && !o.ReadToken.Any(char.IsWhiteSpace)),
                "Portal:Silo:ReadToken must be one of the silo's Aggregates:ReadTokens: at least 16 characters, no whitespace.")
            .ValidateOnStart();
        services.AddHttpClient<SiloApi>((sp, http) =>
        {
            var o = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SiloApiOptions>>().Value;
            http.BaseAddress = new Uri(o.Url);
            http.Timeout = o.Timeout;
        });
        services.AddScoped<IAggregatesSource, AggregatesSource>();
        services.AddScoped<IRegressionsSource, RegressionsSource>();
        services.AddScoped<IExpiringSource, ExpiringSource>();
        services.AddScoped<ICrashRatesSource, CrashRatesSource>();
        services.AddTransient<IErrorsSource, ErrorsService>();
        services.AddTransient<ISubscriptionsSource, SubscriptionsService>();
        services.AddTransient<IAlertsSource, AlertsService>();
        services.AddPortalAuth();

        // Admin pages, overview tiles and the unreachable banner (docs/portal.md).
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SiloReachability>();
        services.AddHostedService<SiloHealthProbe>();
        services.AddOptions<PortalAdminOptions>().BindConfiguration(PortalAdminOptions.Section)
            .Validate(o => o.JobPollInterval >= TimeSpan.FromMilliseconds(200), "Portal:Admin:JobPollInterval must be at least 200 ms.")
            .Validate(o => string.IsNullOrWhiteSpace(o.DashboardUrl) || Uri.TryCreate(o.DashboardUrl, UriKind.Absolute, out _),
                "Portal:Admin:DashboardUrl must be an absolute URL, e.g. http://127.0.0.1:8080/dashboard/.")
            .ValidateOnStart();
        services.AddTransient<IAdminSource, SiloAdminSource>();
        services.AddTransient<IOverviewTilesSource, OverviewTilesService>();
        return services;
    }

    public static WebApplication UseTelemetryPortal<TApp>(this WebApplication app)
        where TApp : Microsoft.AspNetCore.Components.IComponent
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error", createScopeForErrors: true);
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UsePortalAuth();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<TApp>().AddInteractiveServerRenderMode();
        return app;
    }

    /// <summary>Prints the addresses the portal listens on, and which cluster it joins, once Kestrel is up.</summary>
    public static WebApplication PrintListeningUrls(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                ?? [];
            foreach (var address in addresses)
            {
                Console.WriteLine($"Telemetry portal listening on {address}");
            }

            var cluster = app.Services.GetRequiredService<ClusterDescription>();
            Console.WriteLine(
                $"Joining Orleans cluster '{cluster.ClusterId}' (service '{cluster.ServiceId}') through {cluster.Clustering}; pages show the connection state until a gateway answers.");
        });
        return app;
    }
}
