using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

[GenerateSerializer]
public sealed class CrashDateState
{
    [Id(0)] public HashSet<string> Aggregates { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// One submission date of <c>crash_aggregates</c>: rewrites the date's rows atomically when any of
/// its crash aggregates changed, at most every <see cref="CrashOptions.ProjectionSeconds"/>.
/// </summary>
public sealed partial class CrashDateGrain(
    [PersistentState("crash-date", StorageNames.Telemetry)] IPersistentState<CrashDateState> state,
    ICrashProjectionStore store,
    IOptions<CrashOptions> options,
    ILogger<CrashDateGrain> logger) : Grain, ICrashDateGrain
{
    private bool _changed;
    private DateTimeOffset _lastProjection = DateTimeOffset.MinValue;
    private IGrainTimer? _timer;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (store.Enabled)
        {
            var period = TimeSpan.FromSeconds(Math.Min(options.Value.ProjectionSeconds, 5));
            _timer = this.RegisterGrainTimer(static (g, ct) => g.TickAsync(ct), this,
                new GrainTimerCreationOptions { DueTime = period, Period = period, Interleave = false });
        }
        return Task.CompletedTask;
    }

    async Task ICrashDateGrain.Changed(string crashAggregateKey)
    {
        _changed = true;
        if (state.State.Aggregates.Add(crashAggregateKey))
        {
            await state.WriteStateAsync();
        }
    }

    Task<ImmutableArray<string>> ICrashDateGrain.GetAggregates() =>
        Task.FromResult(state.State.Aggregates.Order(StringComparer.Ordinal).ToImmutableArray());

    async Task ICrashDateGrain.ProjectNow()
    {
        if (store.Enabled)
        {
            await ProjectAsync(CancellationToken.None);
        }
    }

    private async Task TickAsync(CancellationToken ct)
    {
        if (_changed && DateTimeOffset.UtcNow - _lastProjection >= TimeSpan.FromSeconds(options.Value.ProjectionSeconds))
        {
            try
            {
                await ProjectAsync(ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _changed = true;
                LogProjectionFailed(logger, this.GetPrimaryKeyString(), e);
            }
        }
    }

    private async Task ProjectAsync(CancellationToken ct)
    {
        _changed = false;
        _lastProjection = DateTimeOffset.UtcNow;
        var parts = await Task.WhenAll(state.State.Aggregates.Order(StringComparer.Ordinal)
            .Select(k => GrainFactory.GetGrain<ICrashAggregateGrain>(k).GetRows()));
        var rows = parts.SelectMany(p => p).ToImmutableArray();
        var date = DateOnly.ParseExact(this.GetPrimaryKeyString(), "yyyy-MM-dd", CultureInfo.InvariantCulture);
        await store.ReplaceDateAsync(date, rows, ct);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Projecting crash aggregates of {Date} failed; retrying on the next change")]
    private static partial void LogProjectionFailed(ILogger logger, string date, Exception exception);
}
