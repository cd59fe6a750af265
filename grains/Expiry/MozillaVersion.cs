using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// A Mozilla-style version (<c>58</c>, <c>58.0a1</c>, <c>1.1b2</c>, <c>4.0pre</c>, <c>1.5.0.1</c>,
/// <c>2.0+</c>, <c>1.*</c>) compared like Mozilla's toolkit version comparator: part by part,
/// missing parts count as <c>0</c>, and within a part a tag (<c>a</c>, <c>b</c>, <c>pre</c>) sorts
/// before the same part without one. Parsing is stricter than the toolkit, which accepts any text:
/// each part must be <c>*</c>, <c>number+</c> or <c>number[letters[number[letters]]]</c>, with no
/// blanks inside and no empty parts; anything else is rejected with the reason. Numbers have no size
/// limit (compared exactly rather than clamped to 32 bits). See docs/expiry.md.
/// </summary>
public sealed class MozillaVersion : IComparable<MozillaVersion>, IEquatable<MozillaVersion>, IComparable
{
    /// <summary>Longest accepted text, after trimming.</summary>
    public const int MaxLength = 256;

    private MozillaVersion(string text, ImmutableArray<MozillaVersionPart> parts)
    {
        Text = text;
        Parts = parts;
    }

    /// <summary>The version as written (surrounding blanks removed).</summary>
    public string Text { get; }

    /// <summary>The dot-separated parts, at least one.</summary>
    public ImmutableArray<MozillaVersionPart> Parts { get; }

    /// <summary>The first part (<c>58</c> in <c>58.0b3</c>).</summary>
    public MozillaVersionPart Major => Parts[0];

    /// <summary>Parses a version; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static MozillaVersion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text, out var version, out var error) ? version : throw new FormatException(error);
    }

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out MozillaVersion? version) =>
        TryParse(text, out version, out _);

    public static bool TryParse(
        [NotNullWhen(true)] string? text,
        [NotNullWhen(true)] out MozillaVersion? version,
        [NotNullWhen(false)] out string? error)
    {
        version = null;
        if (text is null)
        {
            error = "No version given.";
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            error = "The version is empty.";
            return false;
        }

        if (trimmed.Length > MaxLength)
        {
            error = $"The version is longer than {MaxLength} characters.";
            return false;
        }

        var texts = trimmed.Split('.');
        var parts = ImmutableArray.CreateBuilder<MozillaVersionPart>(texts.Length);
        for (var i = 0; i < texts.Length; i++)
        {
            if (!TryParsePart(texts[i], out var part, out var partError))
            {
                error = $"'{trimmed}' is not a Mozilla version: part {i + 1} ('{texts[i]}') {partError}; " +
                        "each dot-separated part must be '*', a number followed by '+', or number[letters[number[letters]]] such as 0, 0a1, 0b3, 0pre.";
                return false;
            }

            parts.Add(part);
        }

        version = new MozillaVersion(trimmed, parts.MoveToImmutable());
        error = null;
        return true;
    }

    /// <summary>Compares two version strings; throws <see cref="FormatException"/> when either is not a version.</summary>
    public static int Compare(string left, string right) => Parse(left).CompareTo(Parse(right));

    public int CompareTo(MozillaVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var count = Math.Max(Parts.Length, other.Parts.Length);
        for (var i = 0; i < count; i++)
        {
            var mine = i < Parts.Length ? Parts[i] : MozillaVersionPart.Zero;
            var theirs = i < other.Parts.Length ? other.Parts[i] : MozillaVersionPart.Zero;
            var result = mine.CompareTo(theirs);
            if (result != 0)
            {
                return result;
            }
        }

        return 0;
    }

    int IComparable.CompareTo(object? obj) => obj switch
    {
        null => 1,
        MozillaVersion other => CompareTo(other),
        _ => throw new ArgumentException("Not a MozillaVersion.", nameof(obj)),
    };

    /// <summary>Equal when they compare equal: <c>58</c>, <c>58.0</c> and <c>58.00.0</c> are one version.</summary>
    public bool Equals(MozillaVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is MozillaVersion other && Equals(other);

    public override int GetHashCode()
    {
        // Trailing zero parts do not change the value, so they must not change the hash.
        var significant = Parts.Length;
        while (significant > 1 && Parts[significant - 1].IsZero)
        {
            significant--;
        }

        var hash = new HashCode();
        for (var i = 0; i < significant; i++)
        {
            hash.Add(Parts[i]);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => Text;

    public static bool operator ==(MozillaVersion? left, MozillaVersion? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(MozillaVersion? left, MozillaVersion? right) => !(left == right);

    public static bool operator <(MozillaVersion? left, MozillaVersion? right) => Compare(left, right) < 0;

    public static bool operator <=(MozillaVersion? left, MozillaVersion? right) => Compare(left, right) <= 0;

    public static bool operator >(MozillaVersion? left, MozillaVersion? right) => Compare(left, right) > 0;

    public static bool operator >=(MozillaVersion? left, MozillaVersion? right) => Compare(left, right) >= 0;

    private static int Compare(MozillaVersion? left, MozillaVersion? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);

    private static bool TryParsePart(string text, out MozillaVersionPart part, [NotNullWhen(false)] out string? error)
    {
        part = default;
        if (text.Length == 0)
        {
            error = "is empty";
            return false;
        }

        if (text == "*")
        {
            part = MozillaVersionPart.Infinite;
            error = null;
            return true;
        }

        var position = 0;
        if (!TryReadNumber(text, ref position, out var number))
        {
            error = text[0] == '*'
                ? "has characters after '*'"
                : $"does not start with a number (found {Describe(text[0])})";
            return false;
        }

        if (position == text.Length)
        {
            part = new MozillaVersionPart(number, false, null, BigInteger.Zero, null);
            error = null;
            return true;
        }

        // "N+" is the toolkit's shorthand for the pre-release of N+1 ("1.0+" == "1.1pre").
        if (text[position] == '+')
        {
            if (position + 1 != text.Length)
            {
                error = "has characters after '+'";
                return false;
            }

            part = new MozillaVersionPart(number + 1, false, "pre", BigInteger.Zero, null);
            error = null;
            return true;
        }

        var tag = ReadLetters(text, ref position);
        if (tag is null)
        {
            error = $"has an unexpected {Describe(text[position])} at position {position + 1}";
            return false;
        }

        var tagNumber = BigInteger.Zero;
        string? extra = null;
        if (position < text.Length)
        {
            if (!TryReadNumber(text, ref position, out tagNumber))
            {
                error = $"has an unexpected {Describe(text[position])} at position {position + 1}";
                return false;
            }

            if (position < text.Length)
            {
                extra = ReadLetters(text, ref position);
                if (extra is null || position < text.Length)
                {
                    error = $"has an unexpected {Describe(text[position])} at position {position + 1}";
                    return false;
                }
            }
        }

        part = new MozillaVersionPart(number, false, tag, tagNumber, extra);
        error = null;
        return true;
    }

    private static bool TryReadNumber(string text, ref int position, out BigInteger number)
    {
        number = BigInteger.Zero;
        var start = position;
        var digitsStart = position < text.Length && text[position] == '-' ? position + 1 : position;
        var end = digitsStart;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        if (end == digitsStart)
        {
            return false;
        }

        number = BigInteger.Parse(text.AsSpan(start, end - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        position = end;
        return true;
    }

    private static string? ReadLetters(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && char.IsAsciiLetter(text[position]))
        {
            position++;
        }

        return position == start ? null : text[start..position];
    }

    private static string Describe(char c) => char.IsWhiteSpace(c) ? "blank" : $"'{c}'";
}
