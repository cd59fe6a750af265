using Microsoft.Extensions.Options;
using Telemetry.Grains.Crash;

namespace Telemetry.Silo.Extensions;

/// <summary>
/// Section <c>CrashAlerts</c>: the declared ranges (a reminder period of 1 to 1,440 minutes, since Orleans
/// reminders tick at most once a minute; a lag of 0 to 7 days, the longest a ping's activity date may trail
/// its submission; a lookback of 14 to 400 days).
/// </summary>
public sealed class CrashAlertOptionsValidator : IValidateOptions<CrashAlertOptions>
{
    public ValidateOptionsResult Validate(string? name, CrashAlertOptions options)
    {
        var failures = new List<string>();
        OptionRules.Ranges(CrashAlertOptions.Section, options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
