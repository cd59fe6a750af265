using System.Globalization;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Regressions;

namespace Telemetry.Silo.Extensions;

/// <summary>Section <c>Regressions</c> (after <see cref="RegressionOptions.ApplyDefaults"/>): what detection watches and how often.</summary>
public sealed class RegressionOptionsValidator : IValidateOptions<RegressionOptions>
{
    public static readonly TimeSpan MinCheckPeriod = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxCheckPeriod = TimeSpan.FromDays(1);
    public static readonly TimeSpan MaxDetectionPeriod = TimeSpan.FromDays(31);

    public ValidateOptionsResult Validate(string? name, RegressionOptions options)
    {
        const string s = RegressionOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        if (options.Channels.Count == 0)
        {
            failures.Add($"{s}:Channels must name at least one channel.");
        }
        foreach (var channel in options.Channels)
        {
            // Channel names become grain keys and alert keys; the aggregates' own keys use U+001F as a separator.
            if (channel.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                failures.Add($"{s}:Channels: '{channel}' contains whitespace or control characters.");
            }
        }
        Duplicates($"{s}:Channels", options.Channels, failures);
        if (options.Detectors.Count == 0)
        {
            failures.Add($"{s}:Detectors must name at least one of: {string.Join(", ", RegressionDetectors.Names)}.");
        }
        foreach (var detector in options.Detectors.Where(d => !RegressionDetectors.IsKnown(d)))
        {
            failures.Add($"{s}:Detectors: '{detector}' is not a detector (known: {string.Join(", ", RegressionDetectors.Names)}).");
        }
        Duplicates($"{s}:Detectors", options.Detectors, failures);
        if (options.CheckPeriod < MinCheckPeriod || options.CheckPeriod > MaxCheckPeriod)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:CheckPeriod must be between {MinCheckPeriod} and {MaxCheckPeriod} (is {options.CheckPeriod})."));
        }
        // Only a check can start the periodic run, so a period shorter than the checks would not be kept.
        if (options.DetectionPeriod < options.CheckPeriod || options.DetectionPeriod > MaxDetectionPeriod)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:DetectionPeriod must be at least {s}:CheckPeriod ({options.CheckPeriod}) and at most {MaxDetectionPeriod} (is {options.DetectionPeriod})."));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Duplicates(string key, List<string> values, List<string> failures)
    {
        foreach (var duplicate in values.GroupBy(v => v, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            failures.Add($"{key}: '{duplicate.Key}' is listed more than once.");
        }
    }
}
