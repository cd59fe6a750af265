using System.Globalization;

namespace Telemetry.Portal.Components.Shared;

/// <summary>How the portal writes numbers, sizes and durations.</summary>
public static class Format
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? $"{bytes.ToString("N0", CultureInfo.InvariantCulture)} B"
            : $"{value.ToString(value < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture)} {units[unit]}";
    }

    public static string Seconds(double seconds)
    {
        if (seconds < 1)
        {
            return seconds <= 0 ? "0 s" : "< 1 s";
        }

        var span = TimeSpan.FromSeconds(Math.Round(seconds));
        return span.TotalSeconds switch
        {
            < 60 => $"{span.TotalSeconds:0} s",
            < 3600 => $"{(int)span.TotalMinutes} min {span.Seconds} s",
            < 86400 => $"{(int)span.TotalHours} h {span.Minutes} min",
            _ => $"{(int)span.TotalDays} d {span.Hours} h",
        };
    }

    public static string Share(long part, long total) =>
        total <= 0 ? "" : ((double)part / total).ToString("P1", CultureInfo.InvariantCulture);
}
