using System.Globalization;

namespace Telemetry.Portal.Components.Shared;

/// <summary>How the portal writes points in time: UTC, to the minute, and how long ago.</summary>
public static class Timestamps
{
    public static string Utc(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    public static string Utc(DateTimeOffset? t) => t is { } v ? Utc(v) : "—";

    /// <summary>"just now", "5 min ago", "3 h ago", "2 d ago"; a time in the future reads "in …".</summary>
    public static string Ago(DateTimeOffset t, DateTimeOffset now)
    {
        var span = now - t;
        bool future = span < TimeSpan.Zero;
        var a = future ? -span : span;
        string amount = a.TotalSeconds switch
        {
            < 60 => "",
            < 3600 => $"{(int)a.TotalMinutes} min",
            < 86400 => $"{(int)a.TotalHours} h",
            _ => $"{(int)a.TotalDays} d",
        };
        return amount.Length == 0 ? "just now" : future ? $"in {amount}" : $"{amount} ago";
    }
}
