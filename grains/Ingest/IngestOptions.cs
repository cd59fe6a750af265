using System.ComponentModel.DataAnnotations;

namespace Telemetry.Grains.Ingest;

/// <summary>
/// Settings of section <c>Ingest</c> (docs/exactly-once.md). The ranges are checked at start, with the
/// rules between settings (silo's IngestOptionsValidator).
/// </summary>
public sealed class IngestOptions
{
    public const string Section = "Ingest";

    /// <summary>Largest accepted body, compressed size.</summary>
    [Range(1024, 1L << 31)] public long MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest inflated body; inflation stops there (zip bombs).</summary>
    [Range(1024, 1L << 31)] public long MaxInflatedBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>Number of landing-log partitions (one partition grain each). Must not change while data is unprocessed.</summary>
    [Range(1, 1024)] public int Partitions { get; set; } = 8;

    /// <summary>Days raw submissions are kept for reprocessing.</summary>
    [Range(1, 3650)] public int RetentionDays { get; set; } = 14;

    /// <summary>Most submissions written by one group commit.</summary>
    [Range(1, 10000)] public int GroupCommitMaxBatch { get; set; } = 500;

    /// <summary>Group commits in flight at once (each holds one database connection while it writes).</summary>
    [Range(1, 32)] public int GroupCommitWriters { get; set; } = 2;

    /// <summary>How long the first submission of a group commit waits for company, in milliseconds.</summary>
    [Range(0, 1000)] public int GroupCommitDelayMs { get; set; } = 10;

    /// <summary>How often a silo sends its decoded batches to the partition grains, in milliseconds.</summary>
    [Range(10, 10000)] public int PushIntervalMs { get; set; } = 100;

    /// <summary>How often a partition grain looks in the landing log for batches it has not applied, in milliseconds.</summary>
    [Range(100, 60000)] public int PollIntervalMs { get; set; } = 1000;

    /// <summary>How old a landed batch must be before a partition reads it from the log instead of waiting for its push, in milliseconds.</summary>
    /// <remarks>0 reads every batch from the log; otherwise at least twice <see cref="PushIntervalMs"/> (checked at start).</remarks>
    [Range(0, 60000)] public int PushGraceMs { get; set; } = 2000;

    /// <summary>How often a partition makes its aggregates persist and moves its checkpoint, in seconds.</summary>
    [Range(1, 600)] public int CheckpointSeconds { get; set; } = 5;

    /// <summary>
    /// An aggregate writes its state at most this often, in seconds (every write rewrites the whole
    /// state); partition checkpoints wait for those writes. Longer means less database work per
    /// ping and, after an unclean stop, more landed batches read again (about this many seconds).
    /// </summary>
    /// <remarks>At most 10 minutes: recovery after an unclean stop, and the embedded log's memory, grow with it.</remarks>
    [Range(0, 600)] public int PersistSeconds { get; set; } = 30;

    /// <summary>A reprocessing job's hold on the partitions' pause and on the one-job slot; renewed four times per lease while it runs.</summary>
    [Range(2, 86400)] public int ReprocessLeaseSeconds { get; set; } = 900;

    /// <summary>A partition whose checkpoint trails its applied batches by more than this makes <c>/health/ready</c> report Degraded.</summary>
    [Range(10, 86400)] public int CheckpointAgeLimitSeconds { get; set; } = 300;

    /// <summary>Limit on the in-memory landing log of the embedded mode (bodies), in bytes; the oldest checkpointed rows go first.</summary>
    [Range(1024 * 1024, 1L << 40)] public long MemoryLogMaxBytes { get; set; } = 512L * 1024 * 1024;
}
