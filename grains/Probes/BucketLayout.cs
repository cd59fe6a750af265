using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Telemetry.Grains.Probes;

/// <summary>
/// The bucket layout of a histogram: its kind, its (low, high, bucket count) parameters and the
/// resulting lower bounds (docs/probes.md). Immutable and thread-safe. Layouts without labels are shared
/// through a process-wide cache, so identical layouts are usually the same object, and layouts
/// with the same formula and parameters always share one bounds array.
/// </summary>
public sealed class BucketLayout : IEquatable<BucketLayout>
{
    public const int MinBucketCount = 3;
    public const int MaxBucketCount = 10_000;

    /// <summary>Largest accepted <c>high</c> (Firefox keeps ranges in 32-bit unsigned integers).</summary>
    public const long MaxHigh = uint.MaxValue;

    /// <summary>The lower bounds; never mutated, shared between layouts with the same formula and parameters.</summary>
    internal readonly long[] bounds;

    /// <summary>bounds[i] == i for every i below this count, so those bounds map to indexes in O(1).</summary>
    private readonly int denseCount;

    private BucketLayout(HistogramKind kind, long low, long high, long[] bounds, ImmutableArray<string> labels)
    {
        Kind = kind;
        Low = low;
        High = high;
        this.bounds = bounds;
        Labels = labels.IsDefault ? ImmutableArray<string>.Empty : labels;
        LowerBounds = ImmutableCollectionsMarshal.AsImmutableArray(bounds);
        var dense = 0;
        while (dense < bounds.Length && bounds[dense] == dense)
        {
            dense++;
        }

        denseCount = dense;
    }

    public HistogramKind Kind { get; }

    /// <summary>The effective low parameter (a declared low below 1 is stored as 1).</summary>
    public long Low { get; }

    public long High { get; }

    public int BucketCount => bounds.Length;

    /// <summary>Lower bound of every bucket; bucket 0 starts at 0. Strictly increasing.</summary>
    public ImmutableArray<long> LowerBounds { get; }

    /// <summary>Allocation-free view of <see cref="LowerBounds"/>.</summary>
    public ReadOnlySpan<long> BoundsSpan => bounds;

    /// <summary>Categorical bucket names (bucket i ↔ label i); empty for other kinds.</summary>
    public ImmutableArray<string> Labels { get; }

    /// <summary>The ping type code of this layout's kind (enumerated → 1).</summary>
    public int TypeCode => HistogramKinds.TypeCode(Kind);

    private Telemetry.Contracts.Aggregates.MetricLayout? declaredMetricLayout, undeclaredMetricLayout;

    /// <summary>This layout as aggregates record it (one shared instance per layout and flag).</summary>
    public Telemetry.Contracts.Aggregates.MetricLayout ToMetricLayout(bool undeclared)
    {
        ref var slot = ref undeclared ? ref undeclaredMetricLayout : ref declaredMetricLayout;
        return slot ??= new Telemetry.Contracts.Aggregates.MetricLayout
        {
            Kind = (int)Kind,
            Low = Low,
            High = High,
            BucketCount = BucketCount,
            Undeclared = undeclared,
        };
    }

    // ---------------------------------------------------------------- fixed layouts

    /// <summary>Layout of count histograms' per-ping observations: exponential(1, 10000, 100).</summary>
    public static BucketLayout CountHistogramObservations => Fixed.CountObservations;

    /// <summary>Layout of numeric scalars: exponential(1, 10000, 100).</summary>
    public static BucketLayout Scalars => Fixed.Scalars;

    /// <summary>Layout of simple measurements: exponential(1, 30000, 50).</summary>
    public static BucketLayout SimpleMeasures => Fixed.SimpleMeasures;

    // ---------------------------------------------------------------- lookups

    /// <summary>
    /// Index of the bucket with the largest lower bound ≤ <paramref name="value"/>; -1 for
    /// negative values and NaN. Values beyond the last bound fall into the last bucket.
    /// </summary>
    public int IndexOfValue(double value)
    {
        if (!(value >= 0))
        {
            return -1; // negative or NaN
        }

        if (value < denseCount)
        {
            return (int)value;
        }

        var b = bounds;
        int lo = denseCount, hi = b.Length - 1;
        if (lo > hi)
        {
            return hi;
        }

        // Invariant: the answer is in [lo - 1, hi] and b[lo - 1] <= value (when lo > 0).
        while (lo <= hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (b[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo - 1;
    }

    /// <summary>Index of the bucket with the largest lower bound ≤ <paramref name="value"/>; -1 when negative.</summary>
    public int IndexOfValue(long value)
    {
        if (value < 0)
        {
            return -1;
        }

        if (value < denseCount)
        {
            return (int)value;
        }

        var b = bounds;
        int lo = denseCount, hi = b.Length - 1;
        while (lo <= hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (b[mid] <= value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo - 1;
    }

    /// <summary>
    /// Index i where LowerBounds[i] == <paramref name="lowerBound"/>, or -1. O(1) for the dense
    /// prefix (0, 1, 2, ...) that linear-ish layouts consist of, else a binary search. No allocation.
    /// </summary>
    public int IndexOfBound(long lowerBound)
    {
        if ((ulong)lowerBound < (ulong)denseCount)
        {
            return (int)lowerBound;
        }

        if (lowerBound < 0)
        {
            return -1;
        }

        var b = bounds;
        int lo = denseCount, hi = b.Length - 1;
        while (lo <= hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            var v = b[mid];
            if (v == lowerBound)
            {
                return mid;
            }

            if (v < lowerBound)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return -1;
    }

    /// <summary>
    /// <see cref="IndexOfBound(long)"/> for values read in ascending order: the bucket after
    /// <paramref name="previous"/> (the last index found, or -1) is tried before searching.
    /// </summary>
    public int IndexOfBound(long lowerBound, int previous)
    {
        var b = bounds;
        int next = previous + 1;
        if (next >= denseCount && (uint)next < (uint)b.Length && b[next] == lowerBound)
        {
            return next;
        }

        return IndexOfBound(lowerBound);
    }

    /// <summary>The label of bucket <paramref name="index"/> for categorical layouts, else null.</summary>
    public string? LabelOf(int index) => (uint)index < (uint)Labels.Length ? Labels[index] : null;

    /// <summary>True when both layouts have exactly the same lower bounds (kinds and labels ignored).</summary>
    public bool HasSameBounds(BucketLayout other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ReferenceEquals(bounds, other.bounds) || bounds.AsSpan().SequenceEqual(other.bounds);
    }

    // ---------------------------------------------------------------- factories

    /// <summary>Exponential layout; throws <see cref="ArgumentException"/> when invalid.</summary>
    public static BucketLayout Exponential(long low, long high, int bucketCount) =>
        ForKind(HistogramKind.Exponential, low, high, bucketCount);

    /// <summary>Linear layout; throws <see cref="ArgumentException"/> when invalid.</summary>
    public static BucketLayout Linear(long low, long high, int bucketCount) =>
        ForKind(HistogramKind.Linear, low, high, bucketCount);

    /// <summary>Enumerated layout (1, n_values, n_values + 1).</summary>
    public static BucketLayout Enumerated(int nValues) =>
        ForKind(HistogramKind.Enumerated, 1, nValues, nValues + 1);

    /// <summary>Categorical layout: n = max(labels, n_values or 0, 50); (1, n, n + 1).</summary>
    public static BucketLayout Categorical(ImmutableArray<string> labels, int? nValues = null)
    {
        var n = CategoricalSize(labels.IsDefault ? 0 : labels.Length, nValues);
        return ForKind(HistogramKind.Categorical, 1, n, n + 1, labels);
    }

    /// <summary>The categorical n: max(number of labels, n_values or 0, 50).</summary>
    public static int CategoricalSize(int labelCount, int? nValues) =>
        Math.Max(Math.Max(labelCount, nValues ?? 0), 50);

    /// <summary>
    /// Layout for a kind from (low, high, bucket count). Boolean, flag and count ignore the
    /// parameters and use (1, 2, 3). Enumerated and categorical take already computed
    /// parameters (see <see cref="Enumerated"/>, <see cref="Categorical"/>) and use the linear
    /// formula. Throws <see cref="ArgumentException"/> when the layout is invalid.
    /// </summary>
    public static BucketLayout ForKind(HistogramKind kind, long low, long high, int bucketCount, ImmutableArray<string> labels = default)
    {
        if (!TryCreate(kind, low, high, bucketCount, labels, out var layout, out var error))
        {
            throw new ArgumentException($"Invalid {HistogramKinds.Name(kind)} layout ({low}, {high}, {bucketCount}): {error}");
        }

        return layout;
    }

    /// <summary>Non-throwing <see cref="ForKind"/>: on failure <paramref name="error"/> says why.</summary>
    public static bool TryCreate(
        HistogramKind kind,
        long low,
        long high,
        int bucketCount,
        ImmutableArray<string> labels,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out BucketLayout? layout,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        layout = null;
        if (!Enum.IsDefined(kind))
        {
            error = $"unknown kind {(int)kind}";
            return false;
        }

        if (HistogramKinds.IsFixedLayout(kind))
        {
            (low, high, bucketCount) = (1, 2, 3);
        }

        if (low < 1)
        {
            low = 1;
        }

        if (bucketCount < MinBucketCount || bucketCount > MaxBucketCount)
        {
            error = $"bucket count {bucketCount} is outside {MinBucketCount}..{MaxBucketCount}";
            return false;
        }

        if (high <= low)
        {
            error = $"high {high} is not above low {low}";
            return false;
        }

        if (high > MaxHigh)
        {
            error = $"high {high} exceeds {MaxHigh}";
            return false;
        }

        var exponential = HistogramKinds.UsesExponentialFormula(kind);
        if (!exponential && bucketCount - 2 > high - low)
        {
            // The linear formula would repeat lower bounds.
            error = $"{bucketCount} linear buckets do not fit between {low} and {high}";
            return false;
        }

        var hasLabels = !labels.IsDefaultOrEmpty;
        if (hasLabels && kind != HistogramKind.Categorical)
        {
            labels = default; // labels only name categorical buckets
            hasLabels = false;
        }

        if (hasLabels && labels.Length > bucketCount)
        {
            error = $"{labels.Length} labels do not fit into {bucketCount} buckets";
            return false;
        }

        error = null;
        if (hasLabels)
        {
            layout = new BucketLayout(kind, low, high, Cache.Bounds(exponential, low, high, bucketCount), labels);
            return true;
        }

        layout = Cache.Layout(kind, low, high, bucketCount);
        return true;
    }

    /// <summary>
    /// The layout a ping declares (<c>histogram_type</c>, <c>range</c>, <c>bucket_count</c>),
    /// for histograms not in the registry; null when the declaration is invalid (unknown type,
    /// bucket count outside 3..10000, high ≤ low, ...). Type 1 gives a
    /// <see cref="HistogramKind.Linear"/> layout; types 2–4 must declare 3 buckets and get the
    /// canonical (1, 2, 3); type 5 must have the categorical shape (1, n, n + 1).
    /// </summary>
    public static BucketLayout? FromDeclared(int typeCode, long low, long high, int bucketCount)
    {
        var kind = HistogramKinds.FromTypeCode(typeCode);
        if (kind is null)
        {
            return null;
        }

        switch (kind.Value)
        {
            case HistogramKind.Boolean or HistogramKind.Flag or HistogramKind.Count:
                return bucketCount == 3 ? Cache.Layout(kind.Value, 1, 2, 3) : null;
            case HistogramKind.Categorical:
                if (Math.Max(low, 1) != 1 || high + 1 != bucketCount)
                {
                    return null;
                }

                break;
        }

        return TryCreate(kind.Value, low, high, bucketCount, default, out var layout, out _) ? layout : null;
    }

    /// <summary>
    /// Adapts a ping-declared layout to a definition of <paramref name="kind"/> whose parameters
    /// could not be evaluated; null when the declared layout does not fit the kind.
    /// </summary>
    internal static BucketLayout? AdaptDeclared(HistogramKind kind, BucketLayout declared, ImmutableArray<string> labels)
    {
        if (declared.TypeCode != HistogramKinds.TypeCode(kind))
        {
            return null;
        }

        switch (kind)
        {
            case HistogramKind.Boolean or HistogramKind.Flag or HistogramKind.Count:
                return declared.BucketCount == 3 ? Cache.Layout(kind, 1, 2, 3) : null;
            case HistogramKind.Enumerated:
                return declared.Low == 1 && declared.High + 1 == declared.BucketCount
                    ? Cache.Layout(kind, 1, declared.High, declared.BucketCount)
                    : null;
            case HistogramKind.Categorical:
                if (declared.Low != 1 || declared.High + 1 != declared.BucketCount ||
                    (!labels.IsDefault && labels.Length > declared.High))
                {
                    return null;
                }

                return TryCreate(kind, 1, declared.High, declared.BucketCount, labels, out var cat, out _) ? cat : null;
            default:
                return declared.Kind == kind
                    ? declared
                    : TryCreate(kind, declared.Low, declared.High, declared.BucketCount, default, out var other, out _) ? other : null;
        }
    }

    // ---------------------------------------------------------------- formulas

    /// <summary>The linear formula of docs/probes.md (double math, as the original Python converter).</summary>
    internal static long[] ComputeLinear(long low, long high, int n)
    {
        var b = new long[n];
        double dmin = low, dmax = high;
        for (var i = 1; i < n; i++)
        {
            var linearRange = ((dmin * (n - 1 - i)) + (dmax * (i - 1))) / (n - 2);
            b[i] = (long)Math.Floor(linearRange + 0.5);
        }

        return b;
    }

    /// <summary>The exponential formula of docs/probes.md (double math, as the original Python converter).</summary>
    internal static long[] ComputeExponential(long low, long high, int n)
    {
        var b = new long[n];
        var logMax = Math.Log(high);
        long current = low;
        b[1] = current;
        for (var i = 2; i < n; i++)
        {
            var logCurrent = Math.Log(current);
            var logRatio = (logMax - logCurrent) / (n - i);
            var next = (long)Math.Floor(Math.Exp(logCurrent + logRatio) + 0.5);
            current = next > current ? next : current + 1;
            b[i] = current;
        }

        return b;
    }

    // ---------------------------------------------------------------- equality

    public bool Equals(BucketLayout? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return other is not null
            && Kind == other.Kind
            && Low == other.Low
            && High == other.High
            && bounds.Length == other.bounds.Length
            && Labels.AsSpan().SequenceEqual(other.Labels.AsSpan());
    }

    public override bool Equals(object? obj) => Equals(obj as BucketLayout);

    public override int GetHashCode() => HashCode.Combine(Kind, Low, High, bounds.Length, Labels.Length);

    public override string ToString() =>
        $"{HistogramKinds.Name(Kind)}({Low}, {High}, {bounds.Length})";

    // ---------------------------------------------------------------- caches

    /// <summary>
    /// Process-wide caches. Bounded so that pings declaring arbitrary layouts cannot grow memory
    /// without limit: beyond the budget, layouts are still computed but no longer cached.
    /// </summary>
    private static class Cache
    {
        private const int MaxLayouts = 50_000;
        private const long MaxCachedBoundValues = 4_000_000; // 32 MB of longs

        private static readonly ConcurrentDictionary<(HistogramKind Kind, long Low, long High, int N), BucketLayout> Layouts = new();
        private static readonly ConcurrentDictionary<(bool Exponential, long Low, long High, int N), long[]> BoundsByParams = new();
        private static int layoutCount;
        private static long boundValueCount;

        /// <summary>Parameters must already be validated.</summary>
        public static BucketLayout Layout(HistogramKind kind, long low, long high, int n)
        {
            var key = (kind, low, high, n);
            if (Layouts.TryGetValue(key, out var existing))
            {
                return existing;
            }

            var created = new BucketLayout(kind, low, high, Bounds(HistogramKinds.UsesExponentialFormula(kind), low, high, n), default);
            if (Volatile.Read(ref layoutCount) >= MaxLayouts)
            {
                return Layouts.TryGetValue(key, out existing) ? existing : created;
            }

            var winner = Layouts.GetOrAdd(key, created);
            if (ReferenceEquals(winner, created))
            {
                Interlocked.Increment(ref layoutCount);
            }

            return winner;
        }

        /// <summary>Parameters must already be validated.</summary>
        public static long[] Bounds(bool exponential, long low, long high, int n)
        {
            var key = (exponential, low, high, n);
            if (BoundsByParams.TryGetValue(key, out var existing))
            {
                return existing;
            }

            var created = exponential ? ComputeExponential(low, high, n) : ComputeLinear(low, high, n);
            if (Interlocked.Read(ref boundValueCount) + n > MaxCachedBoundValues)
            {
                return BoundsByParams.TryGetValue(key, out existing) ? existing : created;
            }

            var winner = BoundsByParams.GetOrAdd(key, created);
            if (ReferenceEquals(winner, created))
            {
                Interlocked.Add(ref boundValueCount, n);
            }

            return winner;
        }
    }

    /// <summary>The fixed layouts, created after <see cref="Cache"/> (separate class, so no field-order dependency).</summary>
    private static class Fixed
    {
        public static readonly BucketLayout CountObservations = Exponential(1, 10_000, 100);
        public static readonly BucketLayout Scalars = Exponential(1, 10_000, 100);
        public static readonly BucketLayout SimpleMeasures = Exponential(1, 30_000, 50);
    }
}
