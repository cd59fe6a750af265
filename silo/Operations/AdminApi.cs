using Microsoft.AspNetCore.Http.HttpResults;
using Telemetry.Contracts.Jobs;
using Telemetry.Silo.Ingest;

namespace Telemetry.Silo.Operations;

/// <summary>Admin endpoints: raw-log import and job progress.</summary>
public static class AdminApi
{
    public const long MaxImportBytes = 8L * 1024 * 1024 * 1024;

    public sealed record JobStarted(string JobId, string StatusUrl);

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api").WithTags("Admin").RequireAdmin();
        group.MapPost("/import/raw-log", ImportRawLog)
            .WithSummary("Import a raw log file of the seed telemetry server (body = the file); returns a job id to poll")
            .DisableAntiforgery()
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxImportBytes));
        group.MapPost("/reprocess", Reprocess)
            .WithSummary("Rebuild the aggregates of a submission-date range from the raw rows (body {\"from\":\"2026-11-01\",\"to\":\"2026-11-02\"}); returns a job id");
        group.MapGet("/jobs/{id}", GetJob).WithSummary("Progress of an import or reprocessing job");
        group.MapGet("/ingest/rejects", IngestRejects)
            .WithSummary("Rejected submissions by reason since the counters began, with up to ?samples= (0-10, default 5) recent ones of each reason");
        return app;
    }

    internal static async Task<Results<Accepted<JobStarted>, ProblemHttpResult>> ImportRawLog(HttpRequest request, ImportJobs jobs)
    {
        var file = Path.Combine(Path.GetTempPath(), "telemetry-import-" + Guid.NewGuid().ToString("N") + ".log");
        long length;
        await using (var output = File.Create(file))
        {
            await request.Body.CopyToAsync(output);
            length = output.Length;
        }
        if (length == 0)
        {
            File.Delete(file);
            return TypedResults.Problem(statusCode: 400, title: "empty file");
        }
        var id = await jobs.StartAsync(file, length);
        return TypedResults.Accepted($"/api/jobs/{id}", new JobStarted(id, $"/api/jobs/{id}"));
    }

    public sealed record ReprocessRequest(DateOnly? From, DateOnly? To);

    internal static async Task<Results<Accepted<JobStarted>, ProblemHttpResult>> Reprocess(ReprocessRequest body, ReprocessJobs jobs)
    {
        if (body.From is not { } from || body.To is not { } to)
        {
            return TypedResults.Problem(statusCode: 400, title: "from and to are required (yyyy-MM-dd)");
        }
        if (to < from || to.DayNumber - from.DayNumber > 366)
        {
            return TypedResults.Problem(statusCode: 400, title: "bad range", detail: "to must not be before from, and the range at most 366 days");
        }
        var (id, running) = await jobs.StartAsync(from, to);
        if (id is null)
        {
            return TypedResults.Problem(statusCode: 409, title: "a reprocessing job is running",
                detail: $"job {running} is running (GET /api/jobs/{running}); one job runs at a time, start this one when it has ended",
                extensions: new Dictionary<string, object?> { ["running_job"] = running });
        }
        return TypedResults.Accepted($"/api/jobs/{id}", new JobStarted(id, $"/api/jobs/{id}"));
    }

    public const int DefaultRejectSamples = 5;

    public sealed record RejectSampleView(DateTimeOffset At, string Path, string Message, long Bytes, string BodyStart);

    public sealed record RejectReasonView(string Reason, long Count, IReadOnlyList<RejectSampleView> Samples);

    public sealed record RejectsView(long Total, IReadOnlyList<RejectReasonView> Reasons);

    /// <summary>Counts are cluster-wide and durable; samples are the stats grain's recent in-memory ones.</summary>
    internal static async Task<Results<JsonHttpResult<RejectsView>, ProblemHttpResult>> IngestRejects(int? samples, IGrainFactory grains)
    {
        int n = samples ?? DefaultRejectSamples;
        if (n is < 0 or > Telemetry.Grains.Ingest.IngestStatsGrain.MaxSamplesPerReason)
        {
            return TypedResults.Problem(statusCode: 400, title: "bad samples",
                detail: $"samples must be between 0 and {Telemetry.Grains.Ingest.IngestStatsGrain.MaxSamplesPerReason}");
        }
        var rejects = await grains.GetGrain<Telemetry.Contracts.Ingest.IIngestStatsGrain>(0).GetRejects(n);
        var reasons = rejects.Counts.Keys.Union(rejects.Samples.Keys, StringComparer.Ordinal)
            .Select(r => new RejectReasonView(
                r,
                rejects.Counts.GetValueOrDefault(r),
                [.. rejects.Samples.GetValueOrDefault(r, []).Select(x => new RejectSampleView(x.At, x.Path, x.Message, x.Bytes, x.BodyStart))]))
            .OrderByDescending(r => r.Count).ThenBy(r => r.Reason, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Json(new RejectsView(rejects.Counts.Values.Sum(), reasons), SnakeCase);
    }

    private static readonly System.Text.Json.JsonSerializerOptions SnakeCase =
        new(System.Text.Json.JsonSerializerDefaults.Web) { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower };

    internal static async Task<Results<Ok<JobStatus>, NotFound>> GetJob(string id, IGrainFactory grains)
    {
        var status = await grains.GetGrain<IJobGrain>(id).Get();
        return status is null ? TypedResults.NotFound() : TypedResults.Ok(status);
    }
}
