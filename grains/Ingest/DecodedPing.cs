using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Ingest;

/// <summary>The dimensions every aggregate of a ping shares (spec 10, "Dimensions taken from a ping").</summary>
public sealed record PingDimensions
{
    public required string DocType { get; init; }
    public required string Channel { get; init; }
    public required string Application { get; init; }
    public required string AppVersion { get; init; }
    public required string MajorVersion { get; init; }
    public required string BuildId { get; init; }
    /// <summary>yyyyMMdd, the first 8 digits of the build id.</summary>
    public required string BuildDate { get; init; }
    public required string Architecture { get; init; }
    public required string Os { get; init; }
    public required string OsVersion { get; init; }
    /// <summary>yyyyMMdd, the server's UTC receive date.</summary>
    public required string SubmissionDate { get; init; }
}

/// <summary>One histogram instance ready to add to an accumulator: sparse (bucket index, count) pairs.</summary>
public readonly record struct Contribution(
    string Metric,
    string Label,
    ProcessKind Process,
    BucketLayout Layout,
    bool Undeclared,
    long Sum,
    int Offset,
    int Length);

/// <summary>A ping decoded against its probe definitions: dimensions plus histogram contributions.</summary>
public sealed class DecodedPing
{
    public required PingDimensions Dimensions { get; init; }
    public RawPing? Raw { get; init; }
    public List<Contribution> Contributions { get; } = new(128);
    /// <summary>Names of histograms skipped as invalid (counted under invalid_histogram).</summary>
    public List<string> InvalidHistograms { get; } = new();
    /// <summary>What the ping contributes to crash aggregates (spec 40), or why it does not.</summary>
    public Telemetry.Grains.Crash.CrashDecodeResult Crash { get; set; }

    /// <summary>The server's UTC receive date.</summary>
    public DateOnly SubmissionDate { get; init; }

    /// <summary>URL segments that disagreed with the body (the body wins).</summary>
    public int DimensionMismatches { get; set; }

    internal int[] Indexes = new int[1024];
    internal long[] Counts = new long[1024];
    internal int Used;

    public ReadOnlySpan<int> IndexesOf(in Contribution c) => Indexes.AsSpan(c.Offset, c.Length);
    public ReadOnlySpan<long> CountsOf(in Contribution c) => Counts.AsSpan(c.Offset, c.Length);

    internal void Add(int index, long count)
    {
        if (Used == Indexes.Length)
        {
            Array.Resize(ref Indexes, Indexes.Length * 2);
            Array.Resize(ref Counts, Counts.Length * 2);
        }
        Indexes[Used] = index;
        Counts[Used] = count;
        Used++;
    }
}
