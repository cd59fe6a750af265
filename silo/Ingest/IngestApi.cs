using System.Buffers;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Ingest;
using Telemetry.Grains.Registry;

namespace Telemetry.Silo.Ingest;

/// <summary>The submit endpoint and the seed's <c>/status</c> health check.</summary>
public static partial class IngestApi
{
    public static IEndpointRouteBuilder MapIngestApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status", () => TypedResults.Text("OK")).WithTags("Ingest").WithSummary("Seed-compatible health check");
        string[] methods = ["POST", "PUT"];
        app.MapMethods("/submit/telemetry/{**rest}", methods, Submit).WithTags("Ingest")
            .WithSummary("Submit a ping: /submit/telemetry/{docId}/{docType}/{appName}/{appVersion}/{appUpdateChannel}/{appBuildId}")
            .DisableAntiforgery();
        app.MapMethods("/submit/telemetry", methods, Submit).ExcludeFromDescription();
        app.MapMethods("/submit/telemetry/{**rest}", ["GET", "DELETE", "PATCH", "HEAD", "OPTIONS"], MethodNotAllowed).ExcludeFromDescription();
        app.MapMethods("/submit/telemetry", ["GET", "DELETE", "PATCH", "HEAD", "OPTIONS"], MethodNotAllowed).ExcludeFromDescription();
        return app;
    }

    private static IResult MethodNotAllowed(HttpContext ctx)
    {
        ctx.Response.Headers.Allow = "POST, PUT";
        return Error(ctx, StatusCodes.Status405MethodNotAllowed, "method_not_allowed", "use POST or PUT");
    }

    internal static async Task<IResult> Submit(
        HttpContext ctx,
        GroupCommitter committer,
        IngestCounters counters,
        IProbeSnapshotSource probes,
        DecodeSettings decodeSettings,
        IOptions<IngestOptions> options,
        IOptions<CountryOptions> countryOptions,
        string? rest = null)
    {
        var opts = options.Value;
        var request = ctx.Request;
        long declaredLength = request.ContentLength ?? -1;
        SubmissionPath path;
        try
        {
            path = SubmissionPath.Parse(rest ?? "");
        }
        catch (PingFormatException e)
        {
            counters.Rejected(PingRejections.Name(e.Reason), Math.Max(0, declaredLength), rest ?? "", e.Message, []);
            return Error(ctx, PingRejections.StatusCode(e.Reason), PingRejections.Name(e.Reason), e.Message);
        }
        if (declaredLength > opts.MaxBodyBytes)
        {
            counters.Rejected("too_large", 0, rest ?? "", $"declared body of {declaredLength} bytes is larger than {opts.MaxBodyBytes} bytes", []);
            return Error(ctx, StatusCodes.Status413PayloadTooLarge, "too_large", $"body larger than {opts.MaxBodyBytes} bytes");
        }
        byte[]? rented = null;
        try
        {
            int length;
            (rented, length) = await ReadBodyAsync(request, opts.MaxBodyBytes, ctx.RequestAborted);
            if (length < 0)
            {
                counters.Rejected("too_large", opts.MaxBodyBytes, rest ?? "", $"body larger than {opts.MaxBodyBytes} bytes", []);
                return Error(ctx, StatusCodes.Status413PayloadTooLarge, "too_large", $"body larger than {opts.MaxBodyBytes} bytes");
            }
            var body = new ReadOnlyMemory<byte>(rented, 0, length);
            var receivedAt = DateTimeOffset.UtcNow;
            var submissionDate = DateOnly.FromDateTime(receivedAt.UtcDateTime);
            bool declaredGzip = request.Headers.ContentEncoding.ToString().Contains("gzip", StringComparison.OrdinalIgnoreCase);
            string? country = CountryOf(request, countryOptions.Value);
            LandingDecode ping;
            try
            {
                ping = SubmissionDecoder.DecodeForLanding(body, declaredGzip, opts.MaxInflatedBytes, path, submissionDate, probes.Current, decodeSettings, country);
            }
            catch (PingFormatException e)
            {
                counters.Rejected(PingRejections.Name(e.Reason), length, rest ?? "", e.Message, body.Span);
                return Error(ctx, PingRejections.StatusCode(e.Reason), PingRejections.Name(e.Reason), e.Message);
            }
            var entry = new LandingEntry(path.DocId, SubmissionDecoder.PartitionOf(path.DocId, opts.Partitions), submissionDate, receivedAt,
                string.Join('/', path.DocId, path.DocType, path.AppName, path.AppVersion, path.Channel, path.BuildId),
                body, country);
            LandingOutcome outcome;
            try
            {
                // The entry points into the pooled body buffer: LandAsync returns only after the
                // commit that reads it (the buffer goes back to the pool in the finally below).
                outcome = await committer.LandAsync(entry, ping.Aggregates, ctx.RequestAborted);
            }
            catch (LandingUnavailableException)
            {
                ctx.Response.Headers.RetryAfter = "5";
                return Error(ctx, StatusCodes.Status503ServiceUnavailable, "unavailable", "storage unavailable, retry later");
            }
            counters.Accepted(length, outcome == LandingOutcome.Duplicate);
            if (outcome == LandingOutcome.Stored)
            {
                counters.InvalidHistograms(ping.InvalidHistograms);
                counters.DimensionMismatches(ping.DimensionMismatches);
                counters.CrashOutcome(ping.Crash);
            }
            return TypedResults.Text(outcome == LandingOutcome.Duplicate ? "OK (duplicate)" : "OK");
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static string? CountryOf(HttpRequest request, CountryOptions options)
    {
        var value = request.Headers[options.CountryHeader].ToString();
        return value.Length == 2 && char.IsAsciiLetter(value[0]) && char.IsAsciiLetter(value[1]) ? value.ToUpperInvariant() : null;
    }

    /// <summary>Reads the body into a pooled buffer; length -1 when it exceeds <paramref name="max"/>.</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, long max, CancellationToken ct)
    {
        int initial = (int)Math.Min(max + 1, request.ContentLength is > 0 and var cl ? cl + 1 : 64 * 1024);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 4096));
        int used = 0;
        var stream = request.Body;
        while (true)
        {
            if (used == buffer.Length)
            {
                if (used > max)
                {
                    return (buffer, -1);
                }
                var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, max + 1));
                Buffer.BlockCopy(buffer, 0, bigger, 0, used);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = bigger;
            }
            int n = await stream.ReadAsync(buffer.AsMemory(used), ct);
            if (n == 0)
            {
                break;
            }
            used += n;
            if (used > max)
            {
                return (buffer, -1);
            }
        }
        return (buffer, used);
    }

    /// <summary>A short error naming the reason: problem+json when the client asks for JSON, else text.</summary>
    internal static IResult Error(HttpContext ctx, int status, string reason, string message)
    {
        if (ctx.Request.Headers.Accept.ToString().Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(detail: message, statusCode: status, title: reason,
                extensions: new Dictionary<string, object?> { ["reason"] = reason });
        }
        return TypedResults.Text($"{reason}: {message}", "text/plain", statusCode: status);
    }
}

/// <summary>Section <c>Crash</c>: where the country comes from.</summary>
public sealed class CountryOptions
{
    public const string Section = "Crash";

    /// <summary>Request header set by a trusted proxy with the client's two-letter country.</summary>
    public string CountryHeader { get; set; } = "X-Geo-Country";
}
