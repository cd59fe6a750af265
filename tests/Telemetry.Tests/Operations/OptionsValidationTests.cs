using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Crash;
using Telemetry.Grains.Ingest;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Extensions;
using Telemetry.Portal.Services;
using Telemetry.Silo;
using Telemetry.Silo.Aggregates;
using Telemetry.Silo.Ingest;
using Telemetry.Silo.Operations;
using Telemetry.Silo.Probes;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Operations;

/// <summary>
/// A bad setting stops the silo (or the portal) at start, with a message naming the key to change;
/// the defaults, and the documented special values, start.
/// </summary>
public sealed class OptionsValidationTests
{
    internal static List<string> BaseArgs() =>
    [
        // Free ports, so that a rule that failed to fire cannot start a silo on someone's ports.
        "--urls", $"http://127.0.0.1:{TestPaths.FreePort()}",
        $"--Orleans:SiloPort={TestPaths.FreePort()}",
        $"--Orleans:GatewayPort={TestPaths.FreePort()}",
        "--Logging:LogLevel:Default=Warning",
    ];

    [Theory]
    [InlineData("Ingest:Partitions", "--Ingest:Partitions=0")]
    [InlineData("Ingest:MaxBodyBytes", "--Ingest:MaxBodyBytes=100")]
    [InlineData("Ingest:MaxInflatedBytes", "--Ingest:MaxBodyBytes=65536", "--Ingest:MaxInflatedBytes=4096")]
    [InlineData("Ingest:PushGraceMs", "--Ingest:PushIntervalMs=1000", "--Ingest:PushGraceMs=1500")]
    [InlineData("Ingest:PushIntervalMs", "--Ingest:PushIntervalMs=0")]
    [InlineData("Ingest:PollIntervalMs", "--Ingest:PollIntervalMs=10")]
    [InlineData("Ingest:CheckpointSeconds", "--Ingest:CheckpointSeconds=0")]
    [InlineData("Ingest:PersistSeconds", "--Ingest:PersistSeconds=3600")]
    [InlineData("Ingest:PersistSeconds", "--Ingest:PersistSeconds=-1")]
    [InlineData("Ingest:GroupCommitWriters", "--Ingest:GroupCommitWriters=0")]
    [InlineData("Ingest:CheckpointAgeLimitSeconds", "--Ingest:CheckpointAgeLimitSeconds=40")]
    [InlineData("Ingest:CheckpointAgeLimitSeconds", "--Ingest:PersistSeconds=300")]
    [InlineData("Ingest:ReprocessLeaseSeconds", "--Ingest:ReprocessLeaseSeconds=1")]
    [InlineData("Aggregates:ReadTokens", "--Aggregates:ReadTokens:0=short")]
    [InlineData("Aggregates:ReadTokens", "--Aggregates:ReadTokens:0=has a space in it, long enough")]
    [InlineData("Aggregates:MaxDates", "--Aggregates:MaxDates=0")]
    [InlineData("Aggregates:MaxStalenessSeconds", "--Aggregates:MaxStalenessSeconds=0")]
    [InlineData("Admin:Tokens", "--Admin:Tokens:0=bench")]
    [InlineData("Admin:Tokens", "--Admin:Tokens:0=0123456789abcdef", "--Admin:Tokens:1=tab\tinside-a-long-token")]
    [InlineData("Probes:SeedDirectory", "--Probes:SeedDirectory=/nonexistent/telemetry-probes")]
    [InlineData("Probes:RefreshMs", "--Probes:RefreshMs=0")]
    [InlineData("Crash:CountryHeader", "--Crash:CountryHeader=X Geo Country")]
    [InlineData("Crash:CountryHeader", "--Crash:CountryHeader=")]
    [InlineData("Crash:ProjectionSeconds", "--Crash:ProjectionSeconds=0")]
    [InlineData("CrashAlerts:PeriodMinutes", "--CrashAlerts:PeriodMinutes=0")]
    [InlineData("Orleans:SiloPort", "--Orleans:SiloPort=0")]
    [InlineData("Orleans:GatewayPort", "--Orleans:GatewayPort=65536")]
    [InlineData("Orleans:GatewayPort", "--Orleans:SiloPort=21111", "--Orleans:GatewayPort=21111")]
    [InlineData("Orleans:AdvertisedIp", "--Orleans:AdvertisedIp=silo-1.local")]
    [InlineData("Orleans:ClusterId", "--Orleans:ClusterId= ")]
    [InlineData("Orleans:ServiceId", "--Orleans:ServiceId=")]
    [InlineData("Orleans:DashboardCounterIntervalMs", "--Orleans:DashboardCounterIntervalMs=500")]
    [InlineData("Smtp:From", "--Smtp:Host=127.0.0.1")]
    [InlineData("Notifications:ClaimDuration", "--Notifications:ClaimDuration=00:00:30")]
    public async Task A_bad_value_stops_the_silo_at_start_naming_the_key(string key, params string[] args)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            // Settings read while building fail in BuildAsync, the others in StartAsync (ValidateOnStart).
            await using var app = await SiloApp.BuildAsync([.. BaseArgs(), .. args]);
            await app.StartAsync();
        });
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_defaults_validate()
    {
        await using var app = await SiloApp.BuildAsync([.. BaseArgs()]);
        AssertValid(app.Services);
    }

    [Fact]
    public async Task Documented_special_values_validate()
    {
        await using var app = await SiloApp.BuildAsync(
        [
            .. BaseArgs(),
            "--Ingest:PushGraceMs=0", // always read batches from the log
            "--Ingest:PersistSeconds=0", // persist at every checkpoint
            "--Admin:Tokens:0=", // an empty entry is ignored
            "--Admin:Tokens:1=0123456789abcdef",
            "--Aggregates:ReadTokens:0=",
            "--Aggregates:RestrictedChannels:0=", // none restricted
            "--Probes:SeedDirectory=", // no seeds
            "--Orleans:AdvertisedIp=::1",
        ]);
        AssertValid(app.Services);
        Assert.Equal(["0123456789abcdef"], app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Tokens.Where(t => t.Length > 0));
        Assert.Empty(app.Services.GetRequiredService<IOptions<AggregatesOptions>>().Value.ReadTokens);
        Assert.Equal("", app.Services.GetRequiredService<IOptions<ProbeOptions>>().Value.SeedDirectory);
    }

    [Theory]
    [InlineData("Orleans:GatewayPort", "--Orleans:GatewayPort=70000")]
    [InlineData("Orleans:ClusterId", "--Orleans:ClusterId=")]
    [InlineData("Orleans:ServiceId", "--Orleans:ServiceId= ")]
    public void A_bad_cluster_setting_stops_the_portal_naming_the_key(string key, string arg)
    {
        var builder = WebApplication.CreateBuilder([arg]);
        var e = Assert.Throws<OptionsValidationException>(() => builder.AddTelemetryCluster());
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Portal:Cluster:RetryDelayMin", "--Portal:Cluster:RetryDelayMin=00:00:00")]
    [InlineData("Portal:Cluster:CallTimeout", "--Portal:Cluster:CallTimeout=00:00:00")]
    [InlineData("Portal:Overview:RefreshInterval", "--Portal:Overview:RefreshInterval=00:00:00.100")]
    public async Task A_bad_portal_setting_stops_the_portal_naming_the_key(string key, string arg)
    {
        var builder = WebApplication.CreateBuilder([arg]);
        builder.AddTelemetryCluster();
        builder.Services.AddTelemetryPortal();
        await using var app = builder.Build();
        var e = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = app.Services.GetRequiredService<IOptions<ClusterConnectionOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<OverviewOptions>>().Value;
        });
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    private static void AssertValid(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<IngestOptions>>().Value;
        _ = services.GetRequiredService<IOptions<AggregatesOptions>>().Value;
        _ = services.GetRequiredService<IOptions<ProbeOptions>>().Value;
        _ = services.GetRequiredService<IOptions<AdminOptions>>().Value;
        _ = services.GetRequiredService<IOptions<CountryOptions>>().Value;
        _ = services.GetRequiredService<IOptions<CrashOptions>>().Value;
        _ = services.GetRequiredService<IOptions<CrashAlertOptions>>().Value;
    }
}
