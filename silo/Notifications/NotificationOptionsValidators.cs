using System.Globalization;
using Microsoft.Extensions.Options;
using MimeKit;
using Telemetry.Silo.Extensions;

namespace Telemetry.Silo.Notifications;

/// <summary>Section <c>Smtp</c>: a server that can be reached and a sender it can use.</summary>
public sealed class SmtpOptionsValidator : IValidateOptions<SmtpOptions>
{
    public ValidateOptionsResult Validate(string? name, SmtpOptions options)
    {
        const string s = SmtpOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        if (!SmtpOptions.TlsModes.Contains(options.StartTls, StringComparer.OrdinalIgnoreCase))
        {
            failures.Add($"{s}:StartTls '{options.StartTls}' must be none, auto or required.");
        }
        if (!string.IsNullOrWhiteSpace(options.Host))
        {
            if (string.IsNullOrWhiteSpace(options.From))
            {
                failures.Add($"{s}:From must be set when {s}:Host is set (the sender address the server accepts, e.g. alerts@example.org).");
            }
            else if (!MailboxAddress.TryParse(options.From, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
            {
                failures.Add($"{s}:From '{options.From}' is not an email address (alerts@example.org or \"Name <alerts@example.org>\").");
            }
        }
        if (string.IsNullOrEmpty(options.User) != string.IsNullOrEmpty(options.Password))
        {
            failures.Add($"{s}:User and {s}:Password go together: set both for AUTH, or neither.");
        }
        if (options.RetryBase < TimeSpan.FromMilliseconds(10) || options.RetryBase > TimeSpan.FromDays(1))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:RetryBase must be between 00:00:00.010 and 1.00:00:00 (is {options.RetryBase})."));
        }
        if (options.RetryMax < options.RetryBase || options.RetryMax > TimeSpan.FromDays(7))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:RetryMax must be at least {s}:RetryBase ({options.RetryBase}) and at most 7.00:00:00 (is {options.RetryMax})."));
        }
        if (options.Timeout < TimeSpan.FromMilliseconds(100) || options.Timeout > TimeSpan.FromMinutes(10))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:Timeout must be between 00:00:00.100 and 00:10:00 (is {options.Timeout})."));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Notifications</c>, and the rules it shares with <c>Smtp</c>.</summary>
public sealed class NotificationOptionsValidator(IOptions<SmtpOptions> smtp) : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        const string s = NotificationOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        if (!string.IsNullOrWhiteSpace(options.Mode) && !NotificationOptions.TryParseMode(options.Mode, out _))
        {
            failures.Add($"{s}:Mode '{options.Mode}' must be smtp, console or off.");
        }
        else if (options.EffectiveMode(smtp.Value) == NotificationMode.Smtp && string.IsNullOrWhiteSpace(smtp.Value.Host))
        {
            failures.Add($"{s}:Mode is smtp but {SmtpOptions.Section}:Host is not set.");
        }
        if (options.PollInterval < TimeSpan.FromMilliseconds(10) || options.PollInterval > TimeSpan.FromMinutes(10))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:PollInterval must be between 00:00:00.010 and 00:10:00 (is {options.PollInterval})."));
        }
        // A dispatcher starts a send only while its claim has at least one SMTP timeout left; a claim
        // shorter than two timeouts would give most batches back half done.
        var minClaim = 2 * smtp.Value.Timeout;
        if (options.ClaimDuration < minClaim || options.ClaimDuration > TimeSpan.FromDays(1))
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:ClaimDuration must be at least twice {SmtpOptions.Section}:Timeout ({minClaim}) and at most 1.00:00:00 (is {options.ClaimDuration})."));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
