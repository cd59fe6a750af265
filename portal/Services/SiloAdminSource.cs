using System.Globalization;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary><see cref="IAdminSource"/> over the silo's HTTP API (README, "Admin").</summary>
public sealed class SiloAdminSource(SiloApi api) : IAdminSource
{
    // The probes and jobs routes answer in camelCase, the others in snake_case; both read case-insensitively.
    private static readonly JsonSerializerOptions Camel = new(JsonSerializerDefaults.Web);

    public async Task<IReadOnlyList<ProbeRevision>> GetRevisionsAsync(string bearer, CancellationToken ct) =>
        (await api.GetAsync("/api/probes/revisions", bearer, ct))?.Deserialize<List<ProbeRevision>>(Camel) ?? [];

    public async Task<ProbeUploadOutcome> UploadHistogramsAsync(string bearer, string revision, byte[] document, CancellationToken ct)
    {
        var answer = await api.SendBytesAsync(HttpMethod.Put, $"/api/probes/revisions/{Uri.EscapeDataString(revision)}/histograms",
            document, "application/json", bearer, ct);
        var result = answer.ValueKind == JsonValueKind.Object ? answer.Deserialize<UploadAnswer>(Camel) : null;
        return new ProbeUploadOutcome(result?.Loaded ?? 0, result?.Errors ?? []);
    }

    private sealed record UploadAnswer(int Loaded, List<ProbeDefinitionError>? Errors);

    public Task MapChannelAsync(string bearer, string channel, string revision, CancellationToken ct) =>
        api.SendAsync(HttpMethod.Put, $"/api/probes/channels/{Uri.EscapeDataString(channel)}", new { revision }, bearer, ct);

    public async Task<ReleaseCalendarView> GetCalendarAsync(string bearer, CancellationToken ct) =>
        (await api.GetAsync("/api/release-calendar", bearer, ct))?.Deserialize<ReleaseCalendarView>(SiloApi.Json)
        ?? throw new SiloApiException(System.Net.HttpStatusCode.NotFound, "the silo has no release calendar");

    public async Task<ReleaseCalendarView> PutCalendarAsync(string bearer, IReadOnlyList<CalendarTrain> versions, string? comment, CancellationToken ct)
    {
        var body = new
        {
            comment,
            versions = versions.Select(v => new
            {
                version = v.Version,
                nightly_start = v.NightlyStart.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                release = v.Release.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            }),
        };
        var answer = await api.SendAsync(HttpMethod.Put, "/api/release-calendar", body, bearer, ct);
        return answer.Deserialize<ReleaseCalendarView>(SiloApi.Json)!;
    }

    public async Task<string> StartReprocessAsync(string bearer, DateOnly from, DateOnly to, CancellationToken ct)
    {
        var answer = await api.SendAsync(HttpMethod.Post, "/api/reprocess", new
        {
            from = from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            to = to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        }, bearer, ct);
        return answer.GetProperty("jobId").GetString()!;
    }

    public async Task<AdminJob?> GetJobAsync(string bearer, string id, CancellationToken ct) =>
        (await api.GetAsync($"/api/jobs/{Uri.EscapeDataString(id)}", bearer, ct))?.Deserialize<AdminJob>(Camel);

    public async Task<IngestRejectsView> GetRejectsAsync(string bearer, CancellationToken ct) =>
        (await api.GetAsync("/api/ingest/rejects", bearer, ct))?.Deserialize<IngestRejectsView>(SiloApi.Json)
        ?? throw new SiloApiException(System.Net.HttpStatusCode.NotFound, "this silo has no rejects route (GET /api/ingest/rejects); update it");

    public async Task<DeadLetterListing> GetDeadLettersAsync(string bearer, int limit, CancellationToken ct) =>
        (await api.GetAsync($"/api/sentry/dead-letters?limit={limit}", bearer, ct))?.Deserialize<DeadLetterListing>(SiloApi.Json)
        ?? new DeadLetterListing([], new Dictionary<string, long>());

    public async Task<OutboxPage> GetOutboxAsync(string bearer, string? state, int limit, CancellationToken ct)
    {
        string query = $"/api/outbox?limit={limit}" + (string.IsNullOrEmpty(state) ? "" : "&state=" + Uri.EscapeDataString(state));
        return (await api.GetAsync(query, bearer, ct))?.Deserialize<OutboxPage>(SiloApi.Json) ?? new OutboxPage([], null);
    }

    public Task RetryOutboxAsync(string bearer, long id, CancellationToken ct) =>
        api.SendAsync(HttpMethod.Post, $"/api/outbox/{id}/retry", body: null, bearer, ct);
}
