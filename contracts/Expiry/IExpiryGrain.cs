namespace Telemetry.Contracts.Expiry;

/// <summary>
/// Runs the expiry notice schedule (single activation, key 0): daily through a reminder, at silo
/// start, and on an admin's request. Each (probe, version, stage) is mailed once, ever (docs/expiry.md).
/// </summary>
public interface IExpiryGrain : IGrainWithIntegerKey
{
    /// <summary>Evaluates the schedule for <paramref name="asOf"/>; a dry run sends and records nothing.</summary>
    Task<ExpiryRunReport> Run(DateOnly asOf, bool dryRun);

    /// <summary>Evaluates every day since the last evaluated one up to today (UTC), as the daily reminder does.</summary>
    Task<ExpiryRunReport> CatchUp();
}
