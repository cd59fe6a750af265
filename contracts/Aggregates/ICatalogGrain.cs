using System.Collections.Immutable;

namespace Telemetry.Contracts.Aggregates;

/// <summary>A (date, version) pair with data in a family and channel.</summary>
[GenerateSerializer, Immutable]
public sealed record DateVersion
{
    [Id(0)] public required string Date { get; init; }
    [Id(1)] public required string Version { get; init; }
}

/// <summary>
/// The index of which aggregates exist: per family and channel the (date, version) pairs.
/// Single activation (key 0); written only when a partition sees a key it has not reported before.
/// </summary>
public interface ICatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Records aggregate grain keys that hold data.</summary>
    Task Register(ImmutableArray<string> aggregateKeys);

    /// <summary>Every aggregate grain key known (reprocessing and the filters route use it).</summary>
    Task<ImmutableArray<string>> GetKeys();

    /// <summary>Channels with any data, sorted.</summary>
    Task<ImmutableArray<string>> GetChannels(string family);

    /// <summary>The (date, version) pairs of a channel, sorted by version then date, both descending.</summary>
    Task<ImmutableArray<DateVersion>> GetDates(string family, string channel);
}
