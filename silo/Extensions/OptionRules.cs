using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;

namespace Telemetry.Silo.Extensions;

/// <summary>
/// Checks shared by the options validators. Every failure names the configuration key
/// (<c>Section:Key</c>) the operator has to change.
/// </summary>
public static class OptionRules
{
    /// <summary>Shortest accepted bearer token (admin and read tokens): 16 characters, e.g. 8 random bytes in hex.</summary>
    public const int MinTokenLength = 16;

    /// <summary>
    /// The ranges declared with <see cref="RangeAttribute"/> on <typeparamref name="T"/>'s properties,
    /// so that the declaration stays the single place a range is written.
    /// </summary>
    public static void Ranges<T>(string section, T options, List<string> failures)
    {
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<RangeAttribute>() is not { } range)
            {
                continue;
            }
            object? value = property.GetValue(options);
            if (!range.IsValid(value))
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{section}:{property.Name} must be between {range.Minimum} and {range.Maximum} (is {value})."));
            }
        }
    }

    /// <summary>
    /// Bearer tokens: entries that are empty or whitespace are ignored (so <c>--Admin:Tokens:0=</c>
    /// configures none); every other entry must be at least <see cref="MinTokenLength"/> characters
    /// without whitespace (an <c>Authorization</c> header cannot carry it). Tokens are never echoed.
    /// </summary>
    public static void Tokens(string key, IEnumerable<string?> tokens, List<string> failures)
    {
        foreach (var token in tokens)
        {
            if (string.IsNullOrWhiteSpace(token))
            {
                continue;
            }
            if (token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                failures.Add($"{key}: a token contains whitespace or control characters; tokens are sent as 'Authorization: Bearer <token>'.");
            }
            else if (token.Length < MinTokenLength)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{key}: every token must have at least {MinTokenLength} characters (one has {token.Length}); empty entries are ignored."));
            }
        }
    }

    /// <summary>An HTTP header name: one or more token characters (RFC 9110, section 5.6.2).</summary>
    public static bool IsHeaderName(string? name) =>
        !string.IsNullOrEmpty(name) && name.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c));

    /// <summary>Throws the same exception <c>ValidateOnStart</c> does, for settings read before the host exists.</summary>
    public static void ThrowIfFailed<T>(string section, List<string> failures)
    {
        if (failures.Count > 0)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(section, typeof(T), failures);
        }
    }
}
