namespace Telemetry.Portal.Services;

/// <summary>
/// What the admin pages read and change, through the silo's admin API with the signed-in administrator's
/// session (<paramref name="bearer"/> in every call). Failures are <see cref="SiloApiException"/>s whose
/// message is readable as is.
/// </summary>
public interface IAdminSource
{
    Task<IReadOnlyList<ProbeRevision>> GetRevisionsAsync(string bearer, CancellationToken ct);

    Task<ProbeUploadOutcome> UploadHistogramsAsync(string bearer, string revision, byte[] document, CancellationToken ct);

    Task MapChannelAsync(string bearer, string channel, string revision, CancellationToken ct);

    Task<ReleaseCalendarView> GetCalendarAsync(string bearer, CancellationToken ct);

    Task<ReleaseCalendarView> PutCalendarAsync(string bearer, IReadOnlyList<CalendarTrain> versions, string? comment, CancellationToken ct);

    /// <summary>Starts reprocessing; returns the job id.</summary>
    Task<string> StartReprocessAsync(string bearer, DateOnly from, DateOnly to, CancellationToken ct);

    /// <summary>The job, or null when the silo does not know it.</summary>
    Task<AdminJob?> GetJobAsync(string bearer, string id, CancellationToken ct);

    Task<IngestRejectsView> GetRejectsAsync(string bearer, CancellationToken ct);

    Task<DeadLetterListing> GetDeadLettersAsync(string bearer, int limit, CancellationToken ct);

    Task<OutboxPage> GetOutboxAsync(string bearer, string? state, int limit, CancellationToken ct);

    Task RetryOutboxAsync(string bearer, long id, CancellationToken ct);
}
