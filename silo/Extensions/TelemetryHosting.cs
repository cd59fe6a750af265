using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Runtime.Hosting;
using Telemetry.Grains;
using Telemetry.Grains.Ingest;
using Telemetry.Grains.Registry;
using Telemetry.Grains.Crash;
using Telemetry.Silo.Aggregates;
using Telemetry.Silo.Crash;
using Telemetry.Silo.Ingest;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Operations;
using Telemetry.Silo.Probes;
using Telemetry.Silo.Sentry;
using Telemetry.Silo.Storage;
using Telemetry.Silo.Storage.Bodies;

namespace Telemetry.Silo.Extensions;

/// <summary>Section <c>Orleans</c>.</summary>
public sealed class ClusterSettings
{
    public const string Section = "Orleans";
    public string ClusterId { get; set; } = "telemetry";
    public string ServiceId { get; set; } = "telemetry-orleans";
    [System.ComponentModel.DataAnnotations.Range(1, 65535)] public int SiloPort { get; set; } = 11111;
    [System.ComponentModel.DataAnnotations.Range(1, 65535)] public int GatewayPort { get; set; } = 30000;
    /// <summary>Address other silos reach this one at (PostgreSQL mode).</summary>
    public string AdvertisedIp { get; set; } = "127.0.0.1";
    /// <summary>
    /// How often the Orleans dashboard samples every Orleans counter. Its own default, 1 s, cost about
    /// 1 % of a busy silo's CPU (docs/benchmarks.md, issue 12); fine-grained monitoring is /metrics.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1000, 3_600_000)] public int DashboardCounterIntervalMs { get; set; } = 5000;
}

public static class TelemetryHosting
{
    public const string ConnectionStringName = "Telemetry";

    /// <summary>The OpenTelemetry <c>service.name</c> of a silo (<c>OTEL_SERVICE_NAME</c> overrides it).</summary>
    public const string ServiceName = "telemetry-silo";

    /// <summary>The PostgreSQL connection string, or null for the embedded mode.</summary>
    public static string? ConnectionString(this IConfiguration config) =>
        config.GetConnectionString(ConnectionStringName) is { Length: > 0 } cs ? cs : null;

    /// <summary>Orleans with localhost clustering and memory storage, or ADO.NET on PostgreSQL.</summary>
    public static WebApplicationBuilder AddTelemetryOrleans(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var cluster = config.GetSection(ClusterSettings.Section).Get<ClusterSettings>() ?? new ClusterSettings();
        OptionRules.ThrowIfFailed<ClusterSettings>(ClusterSettings.Section, ClusterSettingsValidator.Validate(cluster));
        string? cs = config.ConnectionString();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            if (cs is null)
            {
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort);
                silo.AddMemoryGrainStorage(StorageNames.Telemetry);
                silo.AddMemoryGrainStorage(StorageNames.Aggregates);
                silo.UseInMemoryReminderService();
            }
            else
            {
                silo.ConfigureEndpoints(System.Net.IPAddress.Parse(cluster.AdvertisedIp), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: false);
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                });
                silo.AddAdoNetGrainStorage(StorageNames.Telemetry, o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = cs;
                });
                // State classes are [GenerateSerializer] types: the Orleans serializer keeps them compact and version tolerant.
                // Aggregate states stored here before they had tables of their own (below) were in a compact form
                // (AggregateStateCodec, docs/ingest-cost.md) or, older still, the Orleans form: both are still read.
                silo.Services.AddOptions<Orleans.Configuration.AdoNetGrainStorageOptions>(StorageNames.Telemetry)
                    .Configure<IServiceProvider>((o, sp) => o.GrainStorageSerializer = new Telemetry.Grains.Aggregates.TelemetryGrainStorageSerializer(
                        new Orleans.Storage.OrleansGrainStorageSerializer(sp.GetRequiredService<Orleans.Serialization.Serializer>())));
                // Aggregate states are stored as a header and parts, a write storing the series that changed (docs/ingest-cost.md,
                // "Aggregate state writes"); states the ADO.NET storage holds from before are read through it and moved.
                silo.Services.AddGrainStorage(StorageNames.Aggregates, (sp, _) => new PostgresAggregateStorage(cs,
                    sp.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Telemetry),
                    sp.GetRequiredService<ILogger<PostgresAggregateStorage>>()));
            }
            silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(30));
            silo.AddDashboard();
            silo.Services.Configure<DashboardOptions>(o => o.CounterUpdateIntervalMs = cluster.DashboardCounterIntervalMs);
        });
        return builder;
    }

    /// <summary>Options, the landing log, the ingest pipeline and the probe cache.</summary>
    public static WebApplicationBuilder AddTelemetryServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Each options class has a validator whose messages name the key to change; ValidateOnStart
        // makes a bad value stop the process at start instead of at first use.
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AggregatesOptions>().BindConfiguration(AggregatesOptions.Section)
            .PostConfigure<IConfiguration>(AggregatesOptions.ApplyDefaults).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AggregatesOptions>, AggregatesOptionsValidator>();
        services.AddOptions<ProbeOptions>().BindConfiguration(ProbeOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProbeOptions>, ProbeOptionsValidator>();
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        services.AddOptions<CountryOptions>().BindConfiguration(CountryOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CountryOptions>, CountryOptionsValidator>();
        services.AddOptions<BodyStoreOptions>().BindConfiguration(BodyStoreOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<BodyStoreOptions>, BodyStoreOptionsValidator>();
        services.AddOptions<CrashOptions>().BindConfiguration(CrashOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CrashOptions>, CrashOptionsValidator>();
        services.AddSingleton(sp => new DecodeSettings(sp.GetRequiredService<IOptions<AggregatesOptions>>().Value.ExcludedMetrics));

        string? cs = builder.Configuration.ConnectionString();
        if (cs is null)
        {
            services.AddSingleton<ILandingLog>(sp => new MemoryLandingLog(sp.GetRequiredService<IOptions<IngestOptions>>().Value.MemoryLogMaxBytes));
            services.AddSingleton<ICrashProjectionStore, NoCrashProjection>();
        }
        else
        {
            services.AddSingleton<ILandingLog>(sp =>
            {
                var bodies = sp.GetRequiredService<IOptions<BodyStoreOptions>>().Value;
                return new PostgresLandingLog(cs, BodyStores.Create(bodies), bodies.Prefix, ownsBodies: true);
            });
            services.AddSingleton<ICrashProjectionStore>(_ => new PostgresCrashProjectionStore(cs));
        }
        services.AddOutbox(cs);
        services.AddAlerts(builder.Configuration, cs);
        services.AddCrashAlerts();
        services.AddSentry(cs);
        builder.AddRegressions();
        services.AddSingleton<ProbeSnapshotCache>();
        services.AddSingleton<IProbeSnapshotSource>(sp => sp.GetRequiredService<ProbeSnapshotCache>());
        services.AddHostedService(sp => sp.GetRequiredService<ProbeSnapshotCache>());
        services.AddExpiry(builder.Configuration);
        services.AddSingleton<IngestCounters>();
        services.AddSingleton<AggregationFeeder>();
        services.AddHostedService(sp => sp.GetRequiredService<AggregationFeeder>());
        services.AddSingleton<GroupCommitter>();
        services.AddHostedService(sp => sp.GetRequiredService<GroupCommitter>());
        services.AddGrainStarter("partitions", sp => Task.WhenAll(Enumerable.Range(0, sp.GetRequiredService<IOptions<IngestOptions>>().Value.Partitions)
            .Select(p => sp.GetRequiredService<IGrainFactory>().GetGrain<Telemetry.Contracts.Ingest.IPartitionGrain>(p).Start())));
        services.AddSingleton<IngestStatsReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<IngestStatsReporter>());
        services.AddHostedService<RetentionService>();
        services.AddSingleton<AdminTokens>();
        services.AddSingleton<ImportJobs>();
        services.AddSingleton<ReprocessJobs>();

        services.AddCors(o => o.AddPolicy(AggregatesApi.CorsPolicy, p => p.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET").WithExposedHeaders("ETag")));
        services.AddOpenApi();
        services.AddProblemDetails();
        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: ["ready"])
            .AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"])
            .AddCheck<CheckpointHealthCheck>("checkpoints", tags: ["ready"]);
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(
                serviceName: builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : ServiceName,
                serviceVersion: typeof(TelemetryHosting).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: $"{Environment.MachineName}:{builder.Configuration.GetValue(ClusterSettings.Section + ":SiloPort", 11111)}"))
            .WithMetrics(m => m
            .AddMeter(IngestCounters.MeterName, Telemetry.Grains.Sentry.SentryMetrics.MeterName, "Microsoft.Orleans")
            .AddPrometheusExporter());
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 64L * 1024 * 1024;
            k.Limits.MaxRequestLineSize = 16 * 1024;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        });
        return builder;
    }

    /// <summary>Every HTTP feature of the silo.</summary>
    public static WebApplication MapTelemetry(this WebApplication app)
    {
        app.UseCors();
        app.MapIngestApi();
        app.MapAggregatesApi();
        app.MapCrashApi();
        app.MapProbesApi();
        app.MapAdminApi();
        app.MapOutboxApi();
        app.MapAlerts();
        app.MapCrashAlertsApi();
        app.MapSentryApi();
        app.MapExpiryApi();
        app.MapRegressionsApi();
        app.MapOperations();
        app.MapBenchEndpoints();
        return app;
    }
}
