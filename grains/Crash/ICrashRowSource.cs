using System.Collections.Immutable;
using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Where crash-rate evaluation reads crash aggregate rows: the crash grains in a silo
/// (<see cref="CrashGrainRowSource"/>), constructed rows in tests.
/// </summary>
public interface ICrashRowSource
{
    /// <summary>The crash aggregate keys (<see cref="CrashStatNames.GrainKey"/>) of a submission date.</summary>
    Task<ImmutableArray<string>> AggregateKeysAsync(DateOnly submissionDate);

    /// <summary>The rows of one crash aggregate.</summary>
    Task<ImmutableArray<CrashRow>> RowsAsync(string aggregateKey);
}

/// <summary>Reads the rows the crash API serves: a date's keys from its <see cref="ICrashDateGrain"/>, rows from each <see cref="ICrashAggregateGrain"/>.</summary>
public sealed class CrashGrainRowSource(IGrainFactory grains) : ICrashRowSource
{
    public Task<ImmutableArray<string>> AggregateKeysAsync(DateOnly submissionDate) =>
        grains.GetGrain<ICrashDateGrain>(CrashDimensions.FormatDate(submissionDate)).GetAggregates();

    public Task<ImmutableArray<CrashRow>> RowsAsync(string aggregateKey) =>
        grains.GetGrain<ICrashAggregateGrain>(aggregateKey).GetRows();
}
