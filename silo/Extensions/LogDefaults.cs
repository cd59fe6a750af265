using Microsoft.Extensions.Configuration.Memory;

namespace Telemetry.Silo.Extensions;

/// <summary>
/// Default log levels a person can read on a console: the framework (ASP.NET Core, Orleans, Polly,
/// hosting) at Warning, the product's own start-up and operational messages at Information.
/// </summary>
/// <remarks>
/// Put in code rather than an appsettings file so they hold wherever the silo is started from, and
/// added as the first configuration source so appsettings, environment variables and the command
/// line all override them: <c>--Logging:LogLevel:Default=Information</c> brings back every framework
/// message (one per HTTP request, per grain placement, ...).
/// </remarks>
public static class LogDefaults
{
    public static WebApplicationBuilder UseReadableLogDefaults(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Telemetry"] = "Information",
            },
        });
        return builder;
    }
}
