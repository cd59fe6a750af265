using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// A probe's <c>expires_in_version</c> read with the expiry rules of docs/expiry.md:
/// <c>never</c>, <c>default</c> (any case) and an absent value never expire; <c>N</c>, <c>N.0</c>
/// (and <c>N.0.0</c>, which compares equal) mean <c>N.0a1</c>, the first Nightly of version N; any
/// other version is used as written (<c>58.0b3</c>, <c>58.1</c>). A version whose first part is
/// <c>*</c> never expires either.
/// </summary>
public sealed class ExpiryVersion : IEquatable<ExpiryVersion>
{
    public static readonly ExpiryVersion Never = new(null, null);

    private ExpiryVersion(string? text, MozillaVersion? version)
    {
        Text = text;
        Version = version;
    }

    /// <summary>The value as written in the definition (trimmed); null when it was absent.</summary>
    public string? Text { get; }

    /// <summary>The version the probe expires in after the rules above; null when it never expires.</summary>
    public MozillaVersion? Version { get; }

    /// <summary>True when the probe never expires (<c>never</c>, <c>default</c>, absent, or <c>*</c>).</summary>
    [MemberNotNullWhen(false, nameof(Version))]
    public bool IsNever => Version is null || Version.Major.IsInfinite;

    /// <summary>
    /// Reads <c>expires_in_version</c>; null means absent (never expires). Throws
    /// <see cref="FormatException"/> for text that is not a version.
    /// </summary>
    public static ExpiryVersion Parse(string? expiresInVersion) =>
        TryParse(expiresInVersion, out var version, out var error) ? version : throw new FormatException(error);

    public static bool TryParse(
        string? expiresInVersion,
        [NotNullWhen(true)] out ExpiryVersion? version,
        [NotNullWhen(false)] out string? error)
    {
        version = null;
        if (expiresInVersion is null)
        {
            version = Never;
            error = null;
            return true;
        }

        var text = expiresInVersion.Trim();
        if (text.Equals("never", StringComparison.OrdinalIgnoreCase) || text.Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            version = new ExpiryVersion(text, null);
            error = null;
            return true;
        }

        if (!MozillaVersion.TryParse(text, out var parsed, out error))
        {
            return false;
        }

        version = new ExpiryVersion(text, IsMajorOnly(parsed) ? FirstNightlyOf(parsed.Major.Number) : parsed);
        return true;
    }

    /// <summary>The first Nightly version of major <paramref name="major"/>: <c>N.0a1</c>.</summary>
    public static MozillaVersion FirstNightlyOf(BigInteger major) =>
        MozillaVersion.Parse(FormattableString.Invariant($"{major}.0a1"));

    public bool Equals(ExpiryVersion? other) =>
        other is not null && (IsNever ? other.IsNever : !other.IsNever && Version == other.Version);

    public override bool Equals(object? obj) => obj is ExpiryVersion other && Equals(other);

    public override int GetHashCode() => IsNever ? 0 : Version.GetHashCode();

    /// <summary><c>never</c>, or the version after the rules (<c>58.0a1</c> for <c>58</c>).</summary>
    public override string ToString() => IsNever ? "never" : Version.ToString();

    // "58", "58.0", "58.0.0": a plain major number with nothing but zero parts after it.
    private static bool IsMajorOnly(MozillaVersion version)
    {
        if (!version.Major.IsPlainNumber)
        {
            return false;
        }

        for (var i = 1; i < version.Parts.Length; i++)
        {
            if (!version.Parts[i].IsZero)
            {
                return false;
            }
        }

        return true;
    }
}
