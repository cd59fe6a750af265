using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Crash;

[GenerateSerializer]
public sealed class CrashAlertState
{
    /// <summary>The period the reminder was registered with, so that a restart does not re-time it and a new period does.</summary>
    [Id(0)] public int ReminderPeriodMinutes { get; set; }
}

/// <summary>
/// The cluster's crash-rate alert evaluator (one activation, key <see cref="CrashAlertRun.GrainKey"/>): a
/// reminder, durable across restarts, evaluates the active <c>crash_rate</c> subscriptions every
/// <see cref="CrashAlertOptions.PeriodMinutes"/>; <see cref="ICrashAlertGrain.Evaluate"/> runs it at once
/// (admin trigger, tests). Calls are not interleaved, so two evaluations never overlap
/// (docs/crash-alerts.md, "Evaluation").
/// </summary>
public sealed partial class CrashAlertGrain(
    [PersistentState("crash-alerts", StorageNames.Telemetry)] IPersistentState<CrashAlertState> state,
    ISubscriptionStore subscriptions,
    IAlertPublisher publisher,
    TimeProvider clock,
    IOptions<CrashAlertOptions> options,
    ILogger<CrashAlertGrain> logger) : Grain, ICrashAlertGrain, IRemindable
{
    public const string ReminderName = "evaluate-crash-rates";

    async Task ICrashAlertGrain.Start()
    {
        // Registering again would restart the period: every silo start would push the next evaluation back.
        int minutes = options.Value.PeriodMinutes;
        if (await PeriodicReminder.EnsureAsync(this, ReminderName, minutes, state.State.ReminderPeriodMinutes))
        {
            state.State.ReminderPeriodMinutes = minutes;
            await state.WriteStateAsync();
        }
    }

    Task<CrashAlertRun> ICrashAlertGrain.Evaluate() => EvaluateAsync(CancellationToken.None);

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }
        // Per-subscription failures are logged by EvaluateAsync; this is the whole run failing (the subscription
        // store unreachable): the next tick tries again.
        try
        {
            await EvaluateAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRunFailed(logger, e);
        }
    }

    private async Task<CrashAlertRun> EvaluateAsync(CancellationToken ct)
    {
        var active = await subscriptions.ListActiveAsync(AlertKinds.CrashRate, ct);
        var evaluator = new CrashAlertEvaluator(new CrashGrainRowSource(GrainFactory), publisher, options.Value);
        var run = await evaluator.EvaluateAsync(active, clock.GetUtcNow(), ct);
        foreach (var failure in run.Quiet.Where(q => q.Failed))
        {
            LogSubscriptionFailed(logger, failure.SubscriptionId, failure.Reason);
        }
        foreach (var firing in run.Fired.Where(f => f.Recorded))
        {
            LogFired(logger, firing.AlertId, firing.SubscriptionId, firing.Channel, firing.Version ?? CrashAlertDrafts.AllVersions, firing.Reason);
        }
        LogRun(logger, run.Subscriptions, run.Fired.Length, run.Fired.Count(f => f.Recorded), run.Quiet.Count(q => q.Failed));
        return run;
    }
}
