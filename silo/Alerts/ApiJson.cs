using System.Text.Json;

namespace Telemetry.Silo.Alerts;

/// <summary>JSON conventions of the alert, subscription and sign-in APIs: snake_case, problems naming the field.</summary>
public static class ApiJson
{
    public const int MaxBodyBytes = 64 * 1024;

    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Plain "+" in times and "<" in texts: these documents are read by people and scripts, never inlined in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The request body as a JSON object, or a message saying what is wrong with it.</summary>
    public static async Task<(JsonElement? Body, string? Error)> ReadObjectAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is > MaxBodyBytes)
        {
            return (null, $"the body is larger than {MaxBodyBytes} bytes");
        }
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            if (buffer.Length > MaxBodyBytes)
            {
                return (null, $"the body is larger than {MaxBodyBytes} bytes");
            }
            using var doc = JsonDocument.Parse(buffer.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, "the body must be a JSON object");
            }
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException e)
        {
            return (null, $"the body is not JSON: {e.Message}");
        }
    }

    public static IResult BadRequest(string detail) => TypedResults.Problem(statusCode: 400, title: "bad request", detail: detail);

    public static IResult NotFound(string detail) => TypedResults.Problem(statusCode: 404, title: "not found", detail: detail);
}
