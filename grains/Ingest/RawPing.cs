namespace Telemetry.Grains.Ingest;

/// <summary>Which process a histogram or scalar was recorded in.</summary>
public enum ProcessKind : byte
{
    Parent = 0,
    Content = 1,
    Gpu = 2,
}

public static class ProcessKinds
{
    public static string Name(ProcessKind p) => p switch
    {
        ProcessKind.Content => "content",
        ProcessKind.Gpu => "gpu",
        _ => "parent",
    };
}

/// <summary>
/// A histogram exactly as the ping declared it, before any definition is applied. Its sparse
/// values live in the owning <see cref="RawPing"/>'s shared arrays so a ping with hundreds of
/// histograms allocates a handful of arrays, not hundreds.
/// </summary>
public readonly record struct RawHistogram(
    string Name,
    string Label,
    ProcessKind Process,
    int TypeCode,
    long RangeLow,
    long RangeHigh,
    int BucketCount,
    double Sum,
    bool SumIsInteger,
    int ValuesOffset,
    int ValuesLength,
    bool ValuesValid);

/// <summary>A numeric scalar or simple measurement value.</summary>
public readonly record struct RawScalar(string Name, string Label, ProcessKind Process, double Value);

/// <summary>
/// What one pass over a ping's JSON yields: the dimensions, the histograms as declared,
/// scalars and simple measurements, and the fields crash aggregation needs.
/// </summary>
public sealed class RawPing
{
    public bool IsClassic { get; set; }
    public bool IsUnified { get; set; }
    public int? FormatVersion { get; set; }

    // Classic `info` or unified `application` / `environment`.
    public string? Type { get; set; }
    public string? Reason { get; set; }
    public string? AppName { get; set; }
    public string? AppVersion { get; set; }
    public string? Channel { get; set; }
    public string? BuildId { get; set; }
    public string? Revision { get; set; }
    public string? Architecture { get; set; }
    public string? OsName { get; set; }
    public string? OsVersion { get; set; }
    public bool HasInfo { get; set; }
    public bool HasApplication { get; set; }
    public bool HasPayload { get; set; }
    public bool HasHistograms { get; set; }

    // Fields used by crash aggregation (unified pings).
    public string? BuildVersion { get; set; }
    public string? EnvBuildId { get; set; }
    public string? EnvArchitecture { get; set; }
    public string? ExperimentId { get; set; }
    public string? ExperimentBranch { get; set; }
    public bool? E10sEnabled { get; set; }
    public string? E10sCohort { get; set; }
    public string? GfxCompositor { get; set; }
    public long? SubsessionLength { get; set; }
    public bool SubsessionLengthPresent { get; set; }
    public string? SubsessionStartDate { get; set; }
    public string? CrashDate { get; set; }
    public string? ProcessType { get; set; }

    public List<RawHistogram> Histograms { get; } = new(64);
    public List<RawScalar> Scalars { get; } = new(16);
    public List<RawScalar> SimpleMeasures { get; } = new(32);

    // Shared storage for sparse histogram values: (lower bound, count) pairs.
    internal long[] Bounds = new long[512];
    internal double[] Counts = new double[512];
    internal int ValuesUsed;

    public ReadOnlySpan<long> BoundsOf(in RawHistogram h) => Bounds.AsSpan(h.ValuesOffset, h.ValuesLength);
    public ReadOnlySpan<double> CountsOf(in RawHistogram h) => Counts.AsSpan(h.ValuesOffset, h.ValuesLength);

    internal void AddValue(long bound, double count)
    {
        if (ValuesUsed == Bounds.Length)
        {
            Array.Resize(ref Bounds, Bounds.Length * 2);
            Array.Resize(ref Counts, Counts.Length * 2);
        }
        Bounds[ValuesUsed] = bound;
        Counts[ValuesUsed] = count;
        ValuesUsed++;
    }
}
