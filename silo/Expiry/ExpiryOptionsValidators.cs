using System.Globalization;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Extensions;

namespace Telemetry.Silo.Expiry;

/// <summary>Section <c>Expiry</c>: notice days in order, and addresses mail can go to.</summary>
public sealed class ExpiryOptionsValidator : IValidateOptions<ExpiryOptions>
{
    public ValidateOptionsResult Validate(string? name, ExpiryOptions options)
    {
        const string s = ExpiryOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        // The final notice is the later one: fewer days before the expiry date.
        if (options.FinalNoticeDays >= options.FirstNoticeDays)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:FinalNoticeDays ({options.FinalNoticeDays}) must be fewer than {s}:FirstNoticeDays ({options.FirstNoticeDays})."));
        }
        if (!IsAddress(options.ListAddress))
        {
            failures.Add($"{s}:ListAddress '{options.ListAddress}' is not an email address; every notice goes to it.");
        }
        if (!string.IsNullOrWhiteSpace(options.SheriffAddress) && !IsAddress(options.SheriffAddress))
        {
            failures.Add($"{s}:SheriffAddress '{options.SheriffAddress}' is not an email address (leave it empty for none).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsAddress(string? address)
    {
        try
        {
            OutboxMail.NormalizeAddress(address);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

/// <summary>Section <c>ReleaseCalendar</c>: a cadence in range and a calendar file that can be used.</summary>
public sealed class ReleaseCalendarOptionsValidator : IValidateOptions<ReleaseCalendarOptions>
{
    public ValidateOptionsResult Validate(string? name, ReleaseCalendarOptions options)
    {
        const string s = ReleaseCalendarOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        // The file is what every expiry date comes from until an admin uploads a calendar: a missing or
        // broken one stops the silo now rather than failing the first run.
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            failures.Add($"{s}:Path must name a release calendar file (the silo ships release-calendar.json).");
        }
        else if (!File.Exists(options.Path))
        {
            failures.Add($"{s}:Path '{options.Path}' does not exist.");
        }
        else if (failures.Count == 0)
        {
            try
            {
                _ = ReleaseCalendar.Load(options.Path, options.CadenceDays);
            }
            catch (ReleaseCalendarFormatException e)
            {
                failures.Add($"{s}:Path '{options.Path}' is not a usable release calendar: {e.Message}");
            }
            catch (IOException e)
            {
                failures.Add($"{s}:Path '{options.Path}' cannot be read: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                failures.Add($"{s}:Path '{options.Path}' cannot be read: {e.Message}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
