using System.Collections.Immutable;
using System.Net;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

/// <summary>An in-memory <see cref="IAdminSource"/> for page tests: answers what it was given and records what was asked.</summary>
internal sealed class FakeAdminSource : IAdminSource
{
    public Exception? Failure { get; set; }
    public List<string> Bearers { get; } = [];

    public List<ProbeRevision> Revisions { get; } = [];
    public ProbeUploadOutcome UploadAnswer { get; set; } = new(0, []);
    public List<(string Revision, byte[] Document)> Uploads { get; } = [];
    public List<(string Channel, string Revision)> Mappings { get; } = [];

    public ReleaseCalendarView Calendar { get; set; } = new("file", null, 28, null, []);
    public List<IReadOnlyList<CalendarTrain>> CalendarPuts { get; } = [];

    public List<(DateOnly From, DateOnly To)> Reprocesses { get; } = [];
    public Queue<AdminJob> JobAnswers { get; } = new();
    private AdminJob? _lastJob;

    public IngestRejectsView Rejects { get; set; } = new(0, []);
    public DeadLetterListing DeadLetters { get; set; } = new([], new Dictionary<string, long>());

    public List<OutboxEntry> Outbox { get; } = [];
    public List<string?> OutboxStatesAsked { get; } = [];
    public List<long> Retried { get; } = [];

    private Task Check(string bearer)
    {
        Bearers.Add(bearer);
        return Failure is null ? Task.CompletedTask : Task.FromException(Failure);
    }

    public async Task<IReadOnlyList<ProbeRevision>> GetRevisionsAsync(string bearer, CancellationToken ct)
    {
        await Check(bearer);
        return [.. Revisions];
    }

    public async Task<ProbeUploadOutcome> UploadHistogramsAsync(string bearer, string revision, byte[] document, CancellationToken ct)
    {
        await Check(bearer);
        Uploads.Add((revision, document));
        return UploadAnswer;
    }

    public async Task MapChannelAsync(string bearer, string channel, string revision, CancellationToken ct)
    {
        await Check(bearer);
        Mappings.Add((channel, revision));
    }

    public async Task<ReleaseCalendarView> GetCalendarAsync(string bearer, CancellationToken ct)
    {
        await Check(bearer);
        return Calendar;
    }

    public async Task<ReleaseCalendarView> PutCalendarAsync(string bearer, IReadOnlyList<CalendarTrain> versions, string? comment, CancellationToken ct)
    {
        await Check(bearer);
        CalendarPuts.Add(versions);
        Calendar = Calendar with { Source = "upload", UpdatedAt = DateTimeOffset.UtcNow, Versions = versions, Comment = comment };
        return Calendar;
    }

    public async Task<string> StartReprocessAsync(string bearer, DateOnly from, DateOnly to, CancellationToken ct)
    {
        await Check(bearer);
        Reprocesses.Add((from, to));
        return "job-1";
    }

    public async Task<AdminJob?> GetJobAsync(string bearer, string id, CancellationToken ct)
    {
        await Check(bearer);
        if (JobAnswers.TryDequeue(out var next))
        {
            _lastJob = next;
        }
        return _lastJob;
    }

    public async Task<IngestRejectsView> GetRejectsAsync(string bearer, CancellationToken ct)
    {
        await Check(bearer);
        return Rejects;
    }

    public async Task<DeadLetterListing> GetDeadLettersAsync(string bearer, int limit, CancellationToken ct)
    {
        await Check(bearer);
        return DeadLetters;
    }

    public async Task<OutboxPage> GetOutboxAsync(string bearer, string? state, int limit, CancellationToken ct)
    {
        await Check(bearer);
        OutboxStatesAsked.Add(state);
        return new OutboxPage([.. Outbox.Where(o => state is null || o.State == state)], null);
    }

    public async Task RetryOutboxAsync(string bearer, long id, CancellationToken ct)
    {
        await Check(bearer);
        Retried.Add(id);
        int i = Outbox.FindIndex(o => o.Id == id);
        Outbox[i] = Outbox[i] with { State = "pending", Attempts = 0 };
    }

    public static AdminJob Job(string state, double progress, string? detail = null, string? error = null) =>
        new("job-1", "reprocess", state, progress, ImmutableDictionary<string, long>.Empty.Add("rows", (long)(progress * 1000)),
            error, detail, DateTimeOffset.UtcNow, state == "running" ? null : DateTimeOffset.UtcNow);

    public static SiloApiException Unreachable() =>
        new(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");
}
