using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Telemetry.Portal.Extensions;
using Telemetry.Silo;

namespace Telemetry.Tests.Operations;

/// <summary>Default log levels: framework categories at Warning, the product's own at Information, all overridable.</summary>
public sealed class LogDefaultsTests
{
    private static readonly string[] FrameworkCategories =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics", "Microsoft.AspNetCore.Routing.EndpointMiddleware", "Polly",
        "Orleans.Runtime.Placement", "Orleans.Runtime.Messaging.Gateway", "System.Net.Http.HttpClient",
    ];

    [Fact]
    public async Task Silo_logs_its_own_messages_but_no_framework_detail_by_default()
    {
        await using var app = await SiloApp.BuildAsync([]);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger("Telemetry.Silo.Probes.ProbeSnapshotCache").IsEnabled(LogLevel.Information));
        Assert.All(FrameworkCategories, c => Assert.False(loggers.CreateLogger(c).IsEnabled(LogLevel.Information), c));
        Assert.All(FrameworkCategories, c => Assert.True(loggers.CreateLogger(c).IsEnabled(LogLevel.Warning), c));
    }

    [Fact]
    public async Task Silo_brings_framework_detail_back_with_Default_Information()
    {
        await using var app = await SiloApp.BuildAsync(["--Logging:LogLevel:Default=Information"]);
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.All(FrameworkCategories, c => Assert.True(loggers.CreateLogger(c).IsEnabled(LogLevel.Information), c));
    }

    [Theory]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "--Logging:LogLevel:Default=Information" }, true)]
    public async Task Portal_defaults_are_the_same_and_overridable(string[] args, bool frameworkDetail)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.UseReadableLogDefaults();
        await using var app = builder.Build();
        var loggers = app.Services.GetRequiredService<ILoggerFactory>();

        Assert.True(loggers.CreateLogger("Telemetry.Portal.Cluster.ClusterConnector").IsEnabled(LogLevel.Information));
        Assert.All(FrameworkCategories, c => Assert.Equal(frameworkDetail, loggers.CreateLogger(c).IsEnabled(LogLevel.Information)));
    }
}
