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

    public List<RawHistogram> Histograms => _storage.Histograms;
    public List<RawScalar> Scalars => _storage.Scalars;
    public List<RawScalar> SimpleMeasures => _storage.SimpleMeasures;

    // Shared storage for sparse histogram values: (lower bound, count) pairs.
    internal long[] Bounds => _storage.Bounds;
    internal double[] Counts => _storage.Counts;
    internal int ValuesUsed;

    private Storage _storage;

    public RawPing() => _storage = new Storage();

    private RawPing(Storage storage) => _storage = storage;

    public ReadOnlySpan<long> BoundsOf(in RawHistogram h) => _storage.Bounds.AsSpan(h.ValuesOffset, h.ValuesLength);
    public ReadOnlySpan<double> CountsOf(in RawHistogram h) => _storage.Counts.AsSpan(h.ValuesOffset, h.ValuesLength);

    internal void AddValue(long bound, double count)
    {
        var s = _storage;
        if (ValuesUsed == s.Bounds.Length)
        {
            Array.Resize(ref s.Bounds, s.Bounds.Length * 2);
            Array.Resize(ref s.Counts, s.Counts.Length * 2);
        }
        s.Bounds[ValuesUsed] = bound;
        s.Counts[ValuesUsed] = count;
        ValuesUsed++;
    }

    // The value arrays and lists of the last ping read on this thread, reused by the next one:
    // reading a ping then allocates almost nothing (they grow to the pings' size once).
    [ThreadStatic] private static Storage? t_spare;

    /// <summary>A ping whose storage is reused from the previous <see cref="Return"/> on this thread.</summary>
    internal static RawPing Rent()
    {
        var storage = t_spare ?? new Storage();
        t_spare = null;
        return new RawPing(storage);
    }

    /// <summary>Gives the storage back for the next <see cref="Rent"/>; the ping must not be used afterwards.</summary>
    internal void Return()
    {
        var s = _storage;
        _storage = null!; // any use after Return fails loudly instead of touching the next ping's storage
        ValuesUsed = 0;
        if (s is null || s.Bounds.Length > Storage.MaxRetainedValues || s.Histograms.Capacity > Storage.MaxRetainedValues)
        {
            return; // a huge ping's buffers are not kept
        }
        s.Histograms.Clear();
        s.Scalars.Clear();
        s.SimpleMeasures.Clear();
        t_spare = s;
    }

    private sealed class Storage
    {
        public const int MaxRetainedValues = 64 * 1024;
        public long[] Bounds = new long[512];
        public double[] Counts = new double[512];
        public readonly List<RawHistogram> Histograms = new(64);
        public readonly List<RawScalar> Scalars = new(16);
        public readonly List<RawScalar> SimpleMeasures = new(32);
    }
}
