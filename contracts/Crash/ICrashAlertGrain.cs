namespace Telemetry.Contracts.Crash;

/// <summary>
/// The one crash-rate alert evaluator of the cluster (key <see cref="CrashAlertRun.GrainKey"/>): an hourly
/// reminder evaluates every active <c>crash_rate</c> subscription against the crash aggregates
/// (docs/crash-alerts.md).
/// </summary>
public interface ICrashAlertGrain : IGrainWithIntegerKey
{
    /// <summary>Registers (or re-times) the evaluation reminder; safe to call from every silo at start.</summary>
    Task Start();

    /// <summary>Evaluates every active crash-rate subscription now and returns what fired and why the others did not.</summary>
    Task<CrashAlertRun> Evaluate();
}
