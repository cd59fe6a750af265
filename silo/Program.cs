using Telemetry.Silo;
using Telemetry.Silo.Cli;
using Telemetry.Silo.Extensions;

if (args.Length > 0 && CliCommands.IsCommand(args[0]))
{
    return await CliCommands.RunAsync(args);
}
var app = await SiloApp.BuildAsync(args);
app.Lifetime.ApplicationStarted.Register(() =>
    Console.WriteLine($"Telemetry silo listening on {string.Join(", ", app.Urls)} (dashboard: /dashboard, API document: /openapi/v1.json)"));
BoundedShutdown.ArmDeadline(app);
await app.RunAsync();
return 0;
