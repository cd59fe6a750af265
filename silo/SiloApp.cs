using Telemetry.Silo.Extensions;
using Telemetry.Silo.Storage;

namespace Telemetry.Silo;

/// <summary>Builds the silo host; Program.cs and the tests both use it.</summary>
public static class SiloApp
{
    public static async Task<WebApplication> BuildAsync(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.UseReadableLogDefaults();
        builder.UseBoundedShutdownDefaults();
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:8080");
        }
        using var loggerFactory = LoggerFactory.Create(l => l.AddConsole());
        var logger = loggerFactory.CreateLogger("Telemetry.Silo");
        if (builder.Configuration.ConnectionString() is { } cs)
        {
            await SchemaMigrator.MigrateAsync(cs, logger);
            var bodies = builder.Configuration.GetSection(Storage.Bodies.BodyStoreOptions.Section).Get<Storage.Bodies.BodyStoreOptions>() ?? new();
            logger.LogInformation("Raw submission bodies: {Where}", bodies.Kind.Trim().ToLowerInvariant() switch
            {
                Storage.Bodies.BodyStoreOptions.FileSystem => $"filesystem store in {Path.GetFullPath(bodies.Path)}",
                Storage.Bodies.BodyStoreOptions.S3 => $"S3 bucket {bodies.Bucket} ({(string.IsNullOrWhiteSpace(bodies.ServiceUrl) ? "AWS " + bodies.Region : bodies.ServiceUrl)}), keys under {bodies.Prefix}",
                _ => "in the PostgreSQL rows",
            });
        }
        else
        {
            const string warning = "Embedded mode: grain state, reminders and the landing log are IN MEMORY and lost at exit. " +
                "Set ConnectionStrings__Telemetry to a PostgreSQL connection string to persist them.";
            Console.WriteLine("WARNING: " + warning);
            logger.LogWarning(warning);
        }
        builder.AddTelemetryOrleans().AddTelemetryServices();
        var app = builder.Build();
        BoundedShutdown.ShortenMembershipRetriesOnStop(app);
        // Created now so that a generated admin token is printed at start, not at the first admin call.
        app.Services.GetRequiredService<Telemetry.Silo.Operations.AdminTokens>();
        app.MapTelemetry();
        return app;
    }
}
