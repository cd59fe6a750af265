using System.Collections.Immutable;
using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Sums crash contributions into one <see cref="CrashDelta"/> per crash aggregate grain
/// (submission date, channel, build version), so a batch costs one grain call per aggregate.
/// Stats are exact integers: the result does not depend on the order of <see cref="Add"/> calls.
/// </summary>
public sealed class CrashDeltaBuilder
{
    private readonly Dictionary<string, CrashDelta> _deltas = new(StringComparer.Ordinal);
    private readonly Func<string, bool>? _keyFilter;

    /// <param name="keyFilter">When given, only aggregates whose grain key it accepts are built (reprocessing).</param>
    public CrashDeltaBuilder(Func<string, bool>? keyFilter = null) => _keyFilter = keyFilter;

    /// <summary>Contributions added (including those the key filter dropped).</summary>
    public long Contributions { get; private set; }

    /// <summary>The grain key of a contribution (see <see cref="CrashStatNames.GrainKey"/>).</summary>
    public static string KeyOf(CrashContribution contribution, DateOnly submissionDate) => contribution.GrainKey(submissionDate);

    public void Add(CrashContribution contribution, DateOnly submissionDate)
    {
        ArgumentNullException.ThrowIfNull(contribution);
        Contributions++;
        string key = contribution.GrainKey(submissionDate);
        if (_keyFilter is not null && !_keyFilter(key))
        {
            return;
        }
        if (!_deltas.TryGetValue(key, out var delta))
        {
            delta = new CrashDelta();
            _deltas[key] = delta;
        }
        delta.Pings++;
        var rowKey = contribution.RowKey;
        if (delta.Rows.TryGetValue(rowKey, out var stats))
        {
            stats.Add(contribution.Stats);
        }
        else
        {
            delta.Rows[rowKey] = contribution.Stats.Clone();
        }
    }

    /// <summary>Adds the contribution of a decode result; ignored and rejected results add nothing. Returns whether it added.</summary>
    public bool Add(in CrashDecodeResult result, DateOnly submissionDate)
    {
        if (result.Contribution is not { } c)
        {
            return false;
        }
        Add(c, submissionDate);
        return true;
    }

    public ImmutableDictionary<string, CrashDelta> Build() => _deltas.ToImmutableDictionary(StringComparer.Ordinal);
}
