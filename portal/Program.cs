using Telemetry.Portal.Components;
using Telemetry.Portal.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.UseDefaultPortalUrl();
builder.AddTelemetryCluster();
builder.Services.AddTelemetryPortal();

var app = builder.Build();

app.UseTelemetryPortal<App>();
app.PrintListeningUrls();

app.Run();
