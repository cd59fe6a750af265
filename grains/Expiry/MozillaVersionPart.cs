using System.Numerics;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// One dot-separated part of a <see cref="MozillaVersion"/>: <c>number tag tagNumber extra</c>,
/// e.g. <c>0b3</c> is (0, "b", 3, null) and <c>1pre1a</c> is (1, "pre", 1, "a"). A missing part
/// is <see cref="Zero"/>. Comparison follows Mozilla's toolkit version comparator (docs/expiry.md):
/// numbers numerically, a missing tag or extra sorts <em>after</em> any present one
/// (<c>1a &lt; 1</c>), tags and extras ordinally (case-sensitive).
/// </summary>
public readonly record struct MozillaVersionPart(BigInteger Number, bool IsInfinite, string? Tag, BigInteger TagNumber, string? Extra)
    : IComparable<MozillaVersionPart>
{
    /// <summary>The value of a part that is not there: <c>58</c> equals <c>58.0</c> equals <c>58.0.0</c>.</summary>
    public static MozillaVersionPart Zero => default;

    /// <summary>The part <c>*</c>, greater than any number.</summary>
    public static MozillaVersionPart Infinite => new(BigInteger.Zero, true, null, BigInteger.Zero, null);

    public bool IsZero => !IsInfinite && Number.IsZero && Tag is null && TagNumber.IsZero && Extra is null;

    /// <summary>True for a part that is only a number (no tag, no <c>*</c>).</summary>
    public bool IsPlainNumber => !IsInfinite && Tag is null && TagNumber.IsZero && Extra is null;

    public int CompareTo(MozillaVersionPart other)
    {
        if (IsInfinite != other.IsInfinite)
        {
            return IsInfinite ? 1 : -1;
        }

        if (!IsInfinite)
        {
            var byNumber = Number.CompareTo(other.Number);
            if (byNumber != 0)
            {
                return byNumber;
            }
        }

        var byTag = CompareMissingLast(Tag, other.Tag);
        if (byTag != 0)
        {
            return byTag;
        }

        var byTagNumber = TagNumber.CompareTo(other.TagNumber);
        return byTagNumber != 0 ? byTagNumber : CompareMissingLast(Extra, other.Extra);
    }

    public override string ToString()
    {
        if (IsInfinite)
        {
            return "*";
        }

        var text = Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (Tag is null)
        {
            return text;
        }

        text += Tag;
        if (!TagNumber.IsZero || Extra is not null)
        {
            text += TagNumber.ToString(System.Globalization.CultureInfo.InvariantCulture) + Extra;
        }

        return text;
    }

    // A part without a tag is the finished version; with one it is a pre-release of it.
    private static int CompareMissingLast(string? left, string? right)
    {
        if (left is null)
        {
            return right is null ? 0 : 1;
        }

        return right is null ? -1 : Math.Sign(string.CompareOrdinal(left, right));
    }
}
