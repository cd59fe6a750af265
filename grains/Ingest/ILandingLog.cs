namespace Telemetry.Grains.Ingest;

/// <summary>A submission to store: what was received and when.</summary>
public sealed record LandingEntry(string DocId, int Partition, DateOnly SubmissionDate, DateTimeOffset ReceivedAt, string Path, ReadOnlyMemory<byte> Body, string? Country);

/// <summary>A stored submission as read back for recovery or reprocessing.</summary>
public sealed record LandedRow(long BatchId, int Partition, string DocId, DateOnly SubmissionDate, DateTimeOffset ReceivedAt, string Path, byte[] Body, string? Country);

/// <summary>A batch id that has rows in a partition, with its oldest receive time.</summary>
public readonly record struct LandedBatch(long BatchId, DateTimeOffset OldestReceivedAt);

/// <summary>The result of one group commit: its batch id and, per entry, whether it was new.</summary>
public sealed record AppendResult(long BatchId, bool[] Inserted);

/// <summary>
/// The durable landing log (docs/exactly-once.md): every accepted submission is appended here before the
/// client gets its 200. Rows carry the batch id of the group commit that wrote them; a
/// (partition, batch id) pair is the unit the aggregates apply exactly once.
/// </summary>
public interface ILandingLog
{
    /// <summary>True when the log survives a restart.</summary>
    bool IsDurable { get; }

    /// <summary>Appends entries in one transaction; entries whose docId is already stored are not inserted.</summary>
    Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct);

    /// <summary>The highest batch id handed out so far (committed or not).</summary>
    Task<long> GetLastBatchIdAsync(CancellationToken ct);

    /// <summary>A batch id such that every batch with an id at or below it is committed or abandoned for good.</summary>
    Task<long> GetSettledHorizonAsync(CancellationToken ct);

    /// <summary>Batches with rows in <paramref name="partition"/> and an id above <paramref name="afterBatch"/>, ascending.</summary>
    Task<IReadOnlyList<LandedBatch>> ListBatchesAsync(int partition, long afterBatch, int limit, CancellationToken ct);

    /// <summary>The rows of one batch in one partition.</summary>
    Task<IReadOnlyList<LandedRow>> ReadBatchAsync(int partition, long batchId, CancellationToken ct);

    /// <summary>Rows of a partition received on the given submission dates with batch ids up to <paramref name="maxBatch"/>, in batch order, paged by (batch id, doc id).</summary>
    Task<IReadOnlyList<LandedRow>> ReadForRebuildAsync(int partition, long maxBatch, DateOnly? fromDate, DateOnly? toDate, (long BatchId, string DocId)? after, int limit, CancellationToken ct);

    /// <summary>
    /// Deletes rows whose submission date is before <paramref name="cutoff"/> and whose batch id is at most
    /// <paramref name="maxBatchId"/> (the lowest partition checkpoint: a row that may still be replayed is kept); returns how many.
    /// </summary>
    Task<long> DeleteBeforeAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct);

    /// <summary>
    /// When the submission stored under <paramref name="docId"/> was received, or null when none is.
    /// Tells a retried append whose earlier attempt failed on the client side but committed (it
    /// finds its own row, with its own receive time) from a true duplicate.
    /// </summary>
    Task<DateTimeOffset?> GetReceivedAtAsync(string docId, CancellationToken ct);

    /// <summary>Number of stored rows (for operations and tests).</summary>
    Task<long> CountAsync(CancellationToken ct);
}
