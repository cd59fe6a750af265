using Telemetry.Contracts.Jobs;

namespace Telemetry.Grains.Jobs;

/// <summary>Who holds the reprocessing slot, and until when (persisted, so a restart does not admit a second job).</summary>
[GenerateSerializer]
public sealed class ReprocessSlotState
{
    [Id(0)] public string? JobId { get; set; }
    [Id(1)] public DateTimeOffset Until { get; set; }
}

/// <summary>One reprocessing job at a time across the cluster (docs/exactly-once.md, "Reprocessing").</summary>
public sealed class ReprocessCoordinatorGrain(
    [PersistentState("reprocess-slot", StorageNames.Telemetry)] IPersistentState<ReprocessSlotState> state) : Grain, IReprocessCoordinatorGrain
{
    async Task<string?> IReprocessCoordinatorGrain.TryBegin(string jobId, TimeSpan lease)
    {
        var s = state.State;
        var now = DateTimeOffset.UtcNow;
        if (s.JobId is not null && s.JobId != jobId && now <= s.Until)
        {
            return s.JobId;
        }
        s.JobId = jobId;
        s.Until = now + lease;
        await state.WriteStateAsync();
        return null;
    }

    async Task<bool> IReprocessCoordinatorGrain.Renew(string jobId, TimeSpan lease)
    {
        var s = state.State;
        if (s.JobId != jobId || DateTimeOffset.UtcNow > s.Until)
        {
            return false;
        }
        s.Until = DateTimeOffset.UtcNow + lease;
        await state.WriteStateAsync();
        return true;
    }

    async Task IReprocessCoordinatorGrain.End(string jobId)
    {
        if (state.State.JobId == jobId)
        {
            state.State.JobId = null;
            await state.WriteStateAsync();
        }
    }
}
