namespace Telemetry.Grains.Expiry;

/// <summary>
/// A release calendar that cannot be used, with the entry at fault (<c>versions[3] (version 61)</c>)
/// when one is; the message names it too, so it can be returned as is in a 400 answer.
/// </summary>
public sealed class ReleaseCalendarFormatException : FormatException
{
    public ReleaseCalendarFormatException(string message, string? entry = null, Exception? innerException = null)
        : base(entry is null ? message : $"{entry}: {message}", innerException)
    {
        Entry = entry;
    }

    /// <summary>The entry at fault, e.g. <c>versions[3] (version 61)</c>; null when the whole document is.</summary>
    public string? Entry { get; }
}
