using System.Collections.Immutable;

namespace Telemetry.Contracts.Crash;

/// <summary>The crash stats, in storage order. Each has a <c>_squared</c> twin (the per-ping value squared).</summary>
public static class CrashStatNames
{
    public static readonly ImmutableArray<string> Base =
    [
        "ping_count", "usage_hours", "main_crashes", "content_crashes",
        "plugin_crashes", "gmplugin_crashes", "gpu_crashes", "content_shutdown_crashes",
    ];

    public const int Count = 8;
    public const int UsageHours = 1;

    /// <summary>The grain key of the crash aggregate of a submission date (yyyy-MM-dd), channel and build version.</summary>
    public static string GrainKey(string submissionDate, string channel, string buildVersion) =>
        string.Join('\u001f', "crash", submissionDate, channel, buildVersion);

    public static (string SubmissionDate, string Channel, string BuildVersion) ParseGrainKey(string key)
    {
        var parts = key.Split('\u001f');
        return parts.Length == 4 && parts[0] == "crash" ? (parts[1], parts[2], parts[3]) : throw new FormatException($"not a crash aggregate key: {key}");
    }
}

/// <summary>One row key: activity date (yyyy-MM-dd) and the dimensions as canonical JSON (sorted keys).</summary>
[GenerateSerializer, Immutable]
public readonly record struct CrashRowKey
{
    [Id(0)] public required string ActivityDate { get; init; }
    [Id(1)] public required string Dimensions { get; init; }
}

/// <summary>
/// Summed stats of one row, kept as exact integers so that any summation order gives the same
/// result (reprocessing is byte-identical): usage is kept in seconds (clamped to [0, 90000] per
/// ping) and its square in seconds², converted to hours only when read.
/// </summary>
[GenerateSerializer]
public sealed class CrashStats
{
    /// <summary>8 base values then 8 squared values, in <see cref="CrashStatNames.Base"/> order.</summary>
    [Id(0)] public long[] Values { get; set; } = new long[CrashStatNames.Count * 2];

    public void Add(CrashStats other)
    {
        for (int i = 0; i < Values.Length; i++)
        {
            Values[i] += other.Values[i];
        }
    }

    public CrashStats Clone() => new() { Values = (long[])Values.Clone() };

    /// <summary>The value of stat <paramref name="index"/> (squared when <paramref name="squared"/>) in its reported unit.</summary>
    public double Get(int index, bool squared = false)
    {
        long raw = Values[squared ? index + CrashStatNames.Count : index];
        if (index != CrashStatNames.UsageHours)
        {
            return raw;
        }
        return squared ? raw / (3600.0 * 3600.0) : raw / 3600.0;
    }
}

/// <summary>What one landing batch adds to one crash aggregate.</summary>
[GenerateSerializer, Immutable]
public sealed class CrashDelta
{
    [Id(0)] public Dictionary<CrashRowKey, CrashStats> Rows { get; init; } = new();
    [Id(1)] public long Pings { get; set; }
}

/// <summary>A row of the <c>crash_aggregates</c> table.</summary>
[GenerateSerializer, Immutable]
public sealed record CrashRow
{
    [Id(0)] public required string SubmissionDate { get; init; }
    [Id(1)] public required string ActivityDate { get; init; }
    [Id(2)] public required ImmutableSortedDictionary<string, string> Dimensions { get; init; }
    [Id(3)] public required ImmutableArray<long> Values { get; init; }
}

/// <summary>Crash aggregates of one (submission date, channel, build version), every dimension combination (README, "Crash aggregates").</summary>
public interface ICrashAggregateGrain : IGrainWithStringKey
{
    /// <summary>Adds a partition's batch unless already applied (same protocol as <see cref="Aggregates.IAggregateGrain.Apply"/>).</summary>
    Task<Aggregates.ApplyOutcome> Apply(int partition, ImmutableArray<long> batchIds, long partitionCheckpoint, CrashDelta delta);

    /// <summary>Writes the state durably; returns the expected batches it does not hold.</summary>
    Task<Telemetry.Contracts.Aggregates.PersistOutcome> Persist(int partition, ImmutableArray<long> expectedBatches, bool force);

    /// <summary>All rows, ordered by activity date then dimensions.</summary>
    Task<ImmutableArray<CrashRow>> GetRows();

    /// <summary>Replaces the content (reprocessing) as of the given partition checkpoints.</summary>
    Task Replace(CrashDelta content, ImmutableDictionary<int, long> checkpoints);
}

/// <summary>
/// The SQL projection of one submission date: knows that date's crash aggregates and rewrites the
/// date's rows in <c>crash_aggregates</c> atomically, at most every <c>Crash:ProjectionSeconds</c>.
/// </summary>
public interface ICrashDateGrain : IGrainWithStringKey
{
    /// <summary>Records that a crash aggregate of this date changed.</summary>
    Task Changed(string crashAggregateKey);

    /// <summary>The crash aggregate keys of this date.</summary>
    Task<ImmutableArray<string>> GetAggregates();

    /// <summary>Writes the projection now if anything changed (tests, reprocessing).</summary>
    Task ProjectNow();
}
