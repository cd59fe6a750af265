using Telemetry.Contracts.Jobs;

namespace Telemetry.Grains.Jobs;

[GenerateSerializer]
public sealed class JobState
{
    [Id(0)] public JobStatus? Status { get; set; }
}

/// <summary>Holds a job's progress; written at every update (updates come about once a second).</summary>
public sealed class JobGrain([PersistentState("job", StorageNames.Telemetry)] IPersistentState<JobState> state) : Grain, IJobGrain
{
    async Task IJobGrain.Update(JobStatus status)
    {
        // Set before the write: when the storage is down the caller gets the error, and polls are
        // still answered with the latest status (ImportJobs saves a final status again until it sticks).
        state.State.Status = status;
        await state.WriteStateAsync();
    }

    Task<JobStatus?> IJobGrain.Get() => Task.FromResult(state.State.Status);
}
