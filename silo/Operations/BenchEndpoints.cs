using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Operations;

/// <summary>
/// Reference endpoints for the benchmark (enabled with <c>Bench:Endpoints=true</c>): one that reads
/// and discards the body (the HTTP ceiling) and one that only inflates and tokenizes it (the
/// parsing ceiling). The real submit endpoint is measured against both in one run.
/// </summary>
public static class BenchEndpoints
{
    public static IEndpointRouteBuilder MapBenchEndpoints(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue("Bench:Endpoints", false))
        {
            return app;
        }
        app.MapPost("/bench/discard/{**rest}", Discard).ExcludeFromDescription();
        app.MapPost("/bench/tokenize/{**rest}", Tokenize).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> Discard(HttpRequest request)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (await request.Body.ReadAsync(buffer) > 0) { }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return TypedResults.Text("OK");
    }

    private static async Task<IResult> Tokenize(HttpRequest request, IOptions<IngestOptions> options)
    {
        using var ms = new MemoryStream();
        await request.Body.CopyToAsync(ms);
        var json = PayloadInflater.Inflate(ms.GetBuffer().AsMemory(0, (int)ms.Length), false, options.Value.MaxInflatedBytes, out var rented);
        try
        {
            var reader = new Utf8JsonReader(json);
            int tokens = 0;
            while (reader.Read())
            {
                tokens++;
            }
            return TypedResults.Text(tokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            PayloadInflater.Release(rented);
        }
    }
}
