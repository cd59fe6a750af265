using System.Globalization;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Extensions;

namespace Telemetry.Silo.Alerts;

/// <summary><c>Portal:BaseUrl</c> must be an absolute http(s) URL (every mail link starts with it); admin addresses must be addresses.</summary>
public sealed class PortalOptionsValidator : IValidateOptions<PortalOptions>
{
    public ValidateOptionsResult Validate(string? name, PortalOptions options)
    {
        var failures = new List<string>();
        if (!IsHttpUrl(options.BaseUrl))
        {
            failures.Add($"{PortalOptions.Section}:BaseUrl '{options.BaseUrl}' must be an absolute http(s) URL, e.g. https://telemetry.example.org.");
        }
        foreach (var address in options.AdminEmails.Where(a => !string.IsNullOrWhiteSpace(a)))
        {
            try
            {
                OutboxMail.NormalizeAddress(address);
            }
            catch (ArgumentException)
            {
                failures.Add($"{PortalOptions.Section}:AdminEmails: '{address}' is not an email address.");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    internal static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps) && string.IsNullOrEmpty(u.Query);
}

/// <summary>Section <c>Auth</c>: ranges, and a signing key long enough to resist guessing.</summary>
public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public const int MinKeyLength = 32;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var failures = new List<string>();
        OptionRules.Ranges(AuthOptions.Section, options, failures);
        if (!string.IsNullOrEmpty(options.SigningKey) && options.SigningKey.Length < MinKeyLength)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{AuthOptions.Section}:SigningKey must have at least {MinKeyLength} characters (or be unset: a key is then generated and kept in the database)."));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Alerts</c>.</summary>
public sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var failures = new List<string>();
        OptionRules.Ranges(AlertOptions.Section, options, failures);
        if (options.PublicUrl is { Length: > 0 } url && !PortalOptionsValidator.IsHttpUrl(url))
        {
            failures.Add($"{AlertOptions.Section}:PublicUrl '{url}' must be an absolute http(s) URL (the silo's address as mail readers reach it).");
        }
        if (options.DigestCheckInterval < TimeSpan.FromSeconds(1) || options.DigestCheckInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{AlertOptions.Section}:DigestCheckInterval must be between 00:00:01 and 01:00:00 (is {options.DigestCheckInterval}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
