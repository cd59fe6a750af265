using System.Collections.Immutable;
using Telemetry.Contracts.Aggregates;

namespace Telemetry.Grains.Aggregates;

[GenerateSerializer]
public sealed class CatalogState
{
    [Id(0)] public HashSet<string> Keys { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Index of the aggregate keys that hold data; written only when a new key appears.</summary>
public sealed class CatalogGrain(
    [PersistentState("catalog", StorageNames.Telemetry)] IPersistentState<CatalogState> state) : Grain, ICatalogGrain
{
    async Task ICatalogGrain.Register(ImmutableArray<string> aggregateKeys)
    {
        bool added = false;
        foreach (var key in aggregateKeys)
        {
            added |= state.State.Keys.Add(key);
        }
        if (added)
        {
            await state.WriteStateAsync();
        }
    }

    Task<ImmutableArray<string>> ICatalogGrain.GetKeys() => Task.FromResult(state.State.Keys.Order(StringComparer.Ordinal).ToImmutableArray());

    Task<ImmutableArray<string>> ICatalogGrain.GetChannels(string family) =>
        Task.FromResult(Parsed(family).Select(k => k.Channel).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToImmutableArray());

    Task<ImmutableArray<DateVersion>> ICatalogGrain.GetDates(string family, string channel) =>
        Task.FromResult(Parsed(family)
            .Where(k => k.Channel == channel)
            .OrderByDescending(k => k.Version, VersionComparer.Instance)
            .ThenByDescending(k => k.Date, StringComparer.Ordinal)
            .Select(k => new DateVersion { Date = k.Date, Version = k.Version })
            .ToImmutableArray());

    private IEnumerable<(string Family, string Channel, string Version, string Date)> Parsed(string family) =>
        state.State.Keys
            .Select(k => AggregateFamily.TryParseGrainKey(k, out var parts) ? parts : default)
            .Where(k => k.Family == family);
}

/// <summary>Orders major versions numerically when both are numbers ("9" before "41"), else ordinally.</summary>
public sealed class VersionComparer : IComparer<string>
{
    public static readonly VersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (long.TryParse(x, out long a) && long.TryParse(y, out long b))
        {
            return a.CompareTo(b);
        }
        return string.CompareOrdinal(x, y);
    }
}
