using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Regressions;
using Telemetry.Silo.Regressions;

namespace Telemetry.Silo.Extensions;

/// <summary>Histogram-regression detection (docs/regressions.md): options, the channels' start and the HTTP API.</summary>
public static class RegressionHosting
{
    /// <summary>
    /// Section <c>Regressions</c> and the start of each watched channel's grain. The grains record findings through
    /// the notification core's <c>IAlertPublisher</c> and <c>IAlertReader</c>, registered by the alert hosting.
    /// </summary>
    public static WebApplicationBuilder AddRegressions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<RegressionOptions>().BindConfiguration(RegressionOptions.Section)
            .PostConfigure<IConfiguration>(RegressionOptions.ApplyDefaults).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RegressionOptions>, RegressionOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddGrainStarter("regression detection", sp => Task.WhenAll(sp.GetRequiredService<IOptions<RegressionOptions>>().Value.Channels
            .Select(c => sp.GetRequiredService<IGrainFactory>().GetGrain<Telemetry.Contracts.Regressions.IRegressionChannelGrain>(c).Start())));
        return builder;
    }

    /// <summary><c>/api/regressions</c>: the list, one record, and detection on demand (admin).</summary>
    public static WebApplication MapRegressionsApi(this WebApplication app)
    {
        RegressionsApi.Map(app);
        return app;
    }
}
