using Microsoft.Extensions.Options;
using Telemetry.Contracts.Expiry;

namespace Telemetry.Grains.Expiry;

[GenerateSerializer]
public sealed class ReleaseCalendarState
{
    /// <summary>The uploaded document as <see cref="ReleaseCalendar.ToJson"/> wrote it; null: none uploaded.</summary>
    [Id(0)] public string? Json { get; set; }

    [Id(1)] public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Keeps the uploaded release calendar in grain storage: one for the cluster, kept across restarts (docs/expiry.md).</summary>
public sealed class ReleaseCalendarGrain(
    [PersistentState("release-calendar", StorageNames.Telemetry)] IPersistentState<ReleaseCalendarState> state,
    IOptions<ReleaseCalendarOptions> options,
    TimeProvider time) : Grain, IReleaseCalendarGrain
{
    Task<StoredReleaseCalendar?> IReleaseCalendarGrain.Get() => Task.FromResult(Current());

    async Task<StoredReleaseCalendar> IReleaseCalendarGrain.Put(string json)
    {
        // Parsed again here, not only by the API: nothing unreadable may reach storage, or every silo
        // would fail on it. Stored normalised (sorted, one date format) so all readers see one text.
        var calendar = ReleaseCalendar.Parse(json, options.Value.CadenceDays);
        state.State.Json = calendar.ToJson();
        state.State.UpdatedAt = time.GetUtcNow();
        await state.WriteStateAsync();
        return Current()!;
    }

    private StoredReleaseCalendar? Current() =>
        state.State.Json is { } json ? new StoredReleaseCalendar { Json = json, UpdatedAt = state.State.UpdatedAt } : null;
}
