using System.Collections.Frozen;
using System.Collections.Immutable;
using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Registry;

/// <summary>The parsed definitions of one probe revision.</summary>
public sealed class ProbeRevision
{
    public required string Name { get; init; }
    public required ImmutableDictionary<string, HistogramDefinition> Histograms { get; init; }

    /// <summary><see cref="Histograms"/> for lookups on the ingest path (a frozen table reads several times faster).</summary>
    public FrozenDictionary<string, HistogramDefinition> Lookup =>
        _lookup ??= Histograms.ToFrozenDictionary(StringComparer.Ordinal);

    private FrozenDictionary<string, HistogramDefinition>? _lookup;
    public ImmutableDictionary<string, ScalarDefinition> Scalars { get; init; } = ImmutableDictionary<string, ScalarDefinition>.Empty;
    public ImmutableArray<DefinitionError> Errors { get; init; } = ImmutableArray<DefinitionError>.Empty;
    public DateTimeOffset UploadedAt { get; init; }
    public Telemetry.Contracts.Probes.ProbeRevisionDocument? Source { get; init; }
}

/// <summary>
/// An immutable view of the probe registry that ping decoding reads without locks: revisions,
/// the channel → revision mapping and the newest revision.
/// </summary>
public sealed class ProbeSnapshot
{
    public static readonly ProbeSnapshot Empty = new(ImmutableDictionary<string, ProbeRevision>.Empty, ImmutableDictionary<string, string>.Empty, null, 0);

    public ProbeSnapshot(ImmutableDictionary<string, ProbeRevision> revisions, ImmutableDictionary<string, string> channels, string? newest, long version)
    {
        Revisions = revisions;
        Channels = channels;
        Newest = newest is not null && revisions.TryGetValue(newest, out var n) ? n : null;
        Version = version;
    }

    public ImmutableDictionary<string, ProbeRevision> Revisions { get; }
    public ImmutableDictionary<string, string> Channels { get; }
    public ProbeRevision? Newest { get; }
    public long Version { get; }

    /// <summary>Classic pings name their revision; unified pings use their channel's; else the newest.</summary>
    public ProbeRevision? Resolve(string? revision, string? channel)
    {
        if (revision is not null && Revisions.TryGetValue(revision, out var r))
        {
            return r;
        }
        if (channel is not null && Channels.TryGetValue(channel, out var name) && Revisions.TryGetValue(name, out var c))
        {
            return c;
        }
        return Newest;
    }

    /// <summary>Finds a definition across revisions (newest first), for the API's bucket lists.</summary>
    public HistogramDefinition? FindAnywhere(string name, string? channel)
    {
        var preferred = Resolve(null, channel);
        if (preferred is not null && preferred.Histograms.TryGetValue(name, out var d))
        {
            return d;
        }
        foreach (var rev in Revisions.Values.OrderByDescending(v => v.UploadedAt))
        {
            if (rev.Histograms.TryGetValue(name, out d))
            {
                return d;
            }
        }
        return null;
    }
}
