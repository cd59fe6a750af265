using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>Section <c>Portal:Silo</c>: where the portal reaches the silos' HTTP API (docs/portal.md).</summary>
public sealed class SiloApiOptions
{
    public const string Section = "Portal:Silo";

    /// <summary>A silo's (or a load balancer's) base URL.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8080";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the portal checks that the silo answers, for the unreachable banner. Default 5 s.</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// A read token of the silo's <c>Aggregates:ReadTokens</c>, sent with the aggregates explorer's reads so it can
    /// show restricted channels; empty = restricted channels answer "not allowed".
    /// </summary>
    public string? ReadToken { get; set; }
}

/// <summary>The silo answered with an error; <see cref="Message"/> is the readable part of its answer.</summary>
public sealed class SiloApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The portal's client of the silo HTTP API (docs/portal.md, "Data"): the same routes scripts use, called
/// from the server with the signed-in person's own session token, so the silo enforces who may read and
/// change what. Live cluster figures come from grains instead (<see cref="OverviewService"/>).
/// </summary>
public sealed class SiloApi(HttpClient http, SiloReachability? reachability = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>GET a JSON document; null on 404.</summary>
    public async Task<JsonElement?> GetAsync(string path, string? bearer = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var (status, body) = await SendAsync(request, bearer, ct);
        return status == HttpStatusCode.NotFound ? null : body;
    }

    /// <summary>Sends a JSON body (or none); the answer's JSON, or throws <see cref="SiloApiException"/> with the silo's reason.</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, string? bearer, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }
        var (status, answer) = await SendAsync(request, bearer, ct);
        if (status == HttpStatusCode.NotFound)
        {
            throw new SiloApiException(status, "not found");
        }
        return answer ?? default;
    }

    /// <summary>Sends raw bytes (uploads).</summary>
    public async Task<JsonElement> SendBytesAsync(HttpMethod method, string path, byte[] content, string contentType, string? bearer, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new ByteArrayContent(content) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var (_, answer) = await SendAsync(request, bearer, ct);
        return answer ?? default;
    }

    private async Task<(HttpStatusCode Status, JsonElement? Body)> SendAsync(HttpRequestMessage request, string? bearer, CancellationToken ct)
    {
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            reachability?.MarkUnreachable(e.Message);
            throw new SiloApiException(HttpStatusCode.ServiceUnavailable, $"the silo at {http.BaseAddress} cannot be reached ({e.Message})");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            reachability?.MarkUnreachable($"no answer within {http.Timeout.TotalSeconds:0} s");
            throw new SiloApiException(HttpStatusCode.GatewayTimeout, $"the silo at {http.BaseAddress} did not answer in time");
        }
        reachability?.MarkReachable();
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(ct);
            JsonElement? json = null;
            if (text.Length > 0)
            {
                try
                {
                    using var doc = JsonDocument.Parse(text);
                    json = doc.RootElement.Clone();
                }
                catch (JsonException)
                {
                    json = null;
                }
            }
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound)
            {
                return (response.StatusCode, json);
            }
            throw new SiloApiException(response.StatusCode, Reason(response.StatusCode, json, text));
        }
    }

    /// <summary>The readable reason of an error answer: a problem's detail, an error or reason field, else the status.</summary>
    private static string Reason(HttpStatusCode status, JsonElement? json, string text)
    {
        if (json is { ValueKind: JsonValueKind.Object } o)
        {
            foreach (var name in new[] { "detail", "error", "reason", "title" })
            {
                if (o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s)
                {
                    return s;
                }
            }
        }
        return status switch
        {
            HttpStatusCode.Unauthorized => "sign in again: the session has expired",
            HttpStatusCode.Forbidden => "this needs an administrator",
            _ => text.Length is > 0 and < 300 ? text : $"the silo answered {(int)status} {status}",
        };
    }
}
