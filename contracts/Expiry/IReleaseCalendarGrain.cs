namespace Telemetry.Contracts.Expiry;

/// <summary>
/// The release calendar an admin uploaded (single activation, key 0), kept in grain storage so every
/// silo uses the same one and it survives restarts. Without an upload silos use their
/// <c>ReleaseCalendar:Path</c> file (docs/expiry.md).
/// </summary>
public interface IReleaseCalendarGrain : IGrainWithIntegerKey
{
    /// <summary>The uploaded calendar, or null when none was uploaded.</summary>
    Task<StoredReleaseCalendar?> Get();

    /// <summary>Validates and stores a calendar document, replacing the previous upload; throws <see cref="FormatException"/> for a malformed one.</summary>
    Task<StoredReleaseCalendar> Put(string json);
}
