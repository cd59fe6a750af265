using System.ComponentModel.DataAnnotations;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// Section <c>Regressions</c> (docs/regressions.md, "Running detection"). The ranges are checked at start with
/// the rules between settings (silo's RegressionOptionsValidator).
/// </summary>
public sealed class RegressionOptions
{
    public const string Section = "Regressions";

    /// <summary>Channels whose metrics are watched.</summary>
    public List<string> Channels { get; set; } = [];

    /// <summary>Detectors run by the schedule and by a detection request without <c>detector</c> (<see cref="RegressionDetectors.Names"/>).</summary>
    public List<string> Detectors { get; set; } = [];

    /// <summary>Metrics whose regressions are detected and listed but never mailed.</summary>
    public List<string> IgnoredMetrics { get; set; } = [];

    /// <summary>Newest build dates of a channel a series keeps (the detectors look back at most 32 dates).</summary>
    [Range(8, 400)] public int BuildDates { get; set; } = 60;

    /// <summary>
    /// How often a channel reads its aggregates and looks for build dates that gathered enough data
    /// (the reminder's work; values under a minute are for tests and benchmarks).
    /// </summary>
    public TimeSpan CheckPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Detection runs at least this often, whether or not a build date became ready.</summary>
    public TimeSpan DetectionPeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Pings (all major versions together) at which a build date has "enough data": the first check that sees
    /// a date reach it runs detection at once instead of waiting for the daily run.
    /// </summary>
    [Range(1, 100_000_000)] public long ReadyPings { get; set; } = 1000;

    public static readonly string[] DefaultChannels = ["nightly"];
    public static readonly string[] DefaultDetectors = [DefaultDetector.DetectorName, CerberusDetector.DetectorName];

    /// <summary>
    /// The list defaults when the configuration sets none (binding appends to a list's initial items, so the
    /// defaults cannot be initial items), and blank entries dropped (so <c>--Regressions:IgnoredMetrics:0=</c> means none).
    /// </summary>
    public static void ApplyDefaults(RegressionOptions options, Microsoft.Extensions.Configuration.IConfiguration config)
    {
        var section = config.GetSection(Section);
        if (!section.GetSection(nameof(Channels)).GetChildren().Any())
        {
            options.Channels = [.. DefaultChannels];
        }
        if (!section.GetSection(nameof(Detectors)).GetChildren().Any())
        {
            options.Detectors = [.. DefaultDetectors];
        }
        options.Channels.RemoveAll(string.IsNullOrWhiteSpace);
        options.Detectors.RemoveAll(string.IsNullOrWhiteSpace);
        options.IgnoredMetrics.RemoveAll(string.IsNullOrWhiteSpace);
    }

    public bool IsIgnored(string metric) => IgnoredMetrics.Contains(metric, StringComparer.Ordinal);
}
