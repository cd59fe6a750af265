using Telemetry.Portal.Components;
using Telemetry.Portal.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.UseReadableLogDefaults();
builder.UseDefaultPortalUrl();
builder.AddPortalMetrics();
builder.AddTelemetryCluster();
builder.Services.AddTelemetryPortal();

var app = builder.Build();

app.UseTelemetryPortal<App>();
app.MapPrometheusScrapingEndpoint();
app.PrintListeningUrls();

app.Run();
