using Telemetry.Grains.Expiry;
using Telemetry.Tests.Probes;

namespace Telemetry.Tests.Expiry;

public sealed class MozillaVersionTests
{
    // Each chain is strictly ascending; every pair is checked, not only neighbours.
    public static TheoryData<string[]> AscendingChains => new()
    {
        new[] { "1.0", "1.0.1", "1.1a", "1.1a1", "1.1b", "1.1", "1.10", "2.0pre", "2.0" },
        // The toolkit comparator's own reference order (equal members left out).
        new[] { "1.-1", "1.0pre1", "1.0pre2", "1.0", "1.1pre", "1.1pre1a", "1.1pre1", "1.1pre10a", "1.1pre10", "1.1", "1.10", "1.*", "1.*.1", "2.0" },
        new[] { "1.1a", "1.1aa", "1.1ab", "1.1b", "1.1c", "1.1pre", "1.1pre1a", "1.1pre1aa", "1.1pre1b", "1.1pre1", "1.1pre2", "1.1pre10", "1.1.-1", "1.1" },
        // Firefox's own versions around one train.
        new[] { "57.0", "57.0.4", "58a", "58.0a1", "58.0a2", "58.0b1", "58.0b3", "58.0b10", "58.0", "58.0.1", "58.0.2", "58.1", "59.0a1", "59", "60.0esr" },
        new[] { "3.6", "3.6.28", "4.0b1", "4.0pre", "4.0", "4.0.1", "5.0a1" },
        new[] { "1.5", "1.5.0.1", "1.5.0.12", "1.5.1", "2.0.0.20", "2.0.1" },
        // Big numbers compare exactly, past 32 and 64 bits.
        new[] { "2147483647", "2147483648", "9223372036854775808", "99999999999999999999998", "99999999999999999999999", "*" },
        new[] { "1.99999999999999999999", "1.*", "1.*.0.1", "1.*.1", "2" },
        // Ordinal tags: upper case sorts before lower case, as in the toolkit (strcmp).
        new[] { "1.0A", "1.0B", "1.0a", "1.0b" },
    };

    [Theory]
    [MemberData(nameof(AscendingChains))]
    public void ChainsAreStrictlyAscending(string[] chain)
    {
        for (var i = 0; i < chain.Length; i++)
        {
            for (var j = 0; j < chain.Length; j++)
            {
                var expected = Math.Sign(i.CompareTo(j));
                Assert.True(expected == Math.Sign(MozillaVersion.Compare(chain[i], chain[j])),
                    $"expected {chain[i]} {(expected < 0 ? "<" : expected > 0 ? ">" : "==")} {chain[j]}");
            }
        }

        var shuffled = chain.Reverse().Select(MozillaVersion.Parse).ToList();
        shuffled.Sort();
        Seq.Equal(chain, shuffled.Select(v => v.Text));
    }

    [Theory]
    [InlineData("58", "58.0")]
    [InlineData("58", "58.0.0.0")]
    [InlineData("58.0", "58.00")]
    [InlineData("00058", "58")]
    [InlineData("1.1pre", "1.1pre0")]
    [InlineData("1.1pre0", "1.0+")]
    [InlineData("1.1a", "1.1a0")]
    [InlineData("*", "*.0")]
    [InlineData("-0", "0")]
    [InlineData(" 58.0a1 \n", "58.0a1")]
    [InlineData("\t1.5.0.1", "1.5.0.1 ")]
    public void EqualVersionsCompareAndHashEqual(string left, string right)
    {
        var a = MozillaVersion.Parse(left);
        var b = MozillaVersion.Parse(right);
        Assert.Equal(0, a.CompareTo(b));
        Assert.True(a == b);
        Assert.False(a != b);
        Assert.True(a <= b && a >= b && !(a < b) && !(a > b));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Single(new HashSet<MozillaVersion> { a, b });
    }

    [Fact]
    public void OperatorsFollowTheOrder()
    {
        var nightly = MozillaVersion.Parse("58.0a1");
        var release = MozillaVersion.Parse("58.0");
        Assert.True(nightly < release);
        Assert.True(release > nightly);
        Assert.True(nightly <= release);
        Assert.False(nightly >= release);
        Assert.True(nightly != release);
        Assert.True(nightly.CompareTo(null) > 0);
        Assert.True((MozillaVersion?)null < nightly);
    }

    [Theory]
    [InlineData("58.0b3", "58", 0, "b", 3, null)]
    [InlineData("1.1pre1aa", "1", 1, "pre", 1, "aa")]
    [InlineData("4.0pre", "4", 0, "pre", 0, null)]
    [InlineData("2.0+", "2", 1, "pre", 0, null)]
    [InlineData("1.1a-1", "1", 1, "a", -1, null)]
    public void PartsAreReadAsNumberTagNumberExtra(string text, string major, int number, string tag, int tagNumber, string? extra)
    {
        var version = MozillaVersion.Parse(text);
        Assert.Equal(major, version.Major.ToString());
        var second = version.Parts[1];
        Assert.Equal((number, tag, tagNumber, extra), ((int)second.Number, second.Tag, (int)second.TagNumber, second.Extra));
    }

    [Fact]
    public void TextIsKeptAsWrittenWithoutSurroundingBlanks()
    {
        Assert.Equal("58.0a1", MozillaVersion.Parse("  58.0a1\r\n").ToString());
        Assert.Equal("058.00", MozillaVersion.Parse("058.00").Text);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData(".", "part 1 ('') is empty")]
    [InlineData("58.", "part 2 ('') is empty")]
    [InlineData(".58", "part 1 ('') is empty")]
    [InlineData("58..0", "part 2 ('') is empty")]
    [InlineData("v58", "part 1 ('v58') does not start with a number")]
    [InlineData("beta", "part 1 ('beta') does not start with a number")]
    [InlineData("58.0-beta", "part 2 ('0-beta') has an unexpected '-' at position 2")]
    [InlineData("58.0a1 (nightly)", "part 2 ('0a1 (nightly)') has an unexpected blank at position 4")]
    [InlineData("58. 0", "part 2 (' 0') does not start with a number")]
    [InlineData("5 8", "part 1 ('5 8') has an unexpected blank at position 2")]
    [InlineData("58,0", "part 1 ('58,0') has an unexpected ',' at position 3")]
    [InlineData("58.0_1", "has an unexpected '_' at position 2")]
    [InlineData("58.0a1b2", "has an unexpected '2' at position 5")]
    [InlineData("1.1a-", "has an unexpected '-' at position 3")]
    [InlineData("*a", "has characters after '*'")]
    [InlineData("1.**", "has characters after '*'")]
    [InlineData("1*", "has an unexpected '*' at position 2")]
    [InlineData("1.0+1", "has characters after '+'")]
    [InlineData("+1", "does not start with a number")]
    [InlineData("--1", "does not start with a number")]
    [InlineData("58;", "has an unexpected ';'")]
    [InlineData("\u0665\u0668", "does not start with a number")]
    [InlineData("58.0é", "has an unexpected 'é'")]
    public void InvalidVersionsAreRejectedWithTheReason(string text, string reason)
    {
        Assert.False(MozillaVersion.TryParse(text, out var version, out var error));
        Assert.Null(version);
        Assert.Contains(reason, error);

        var thrown = Assert.Throws<FormatException>(() => MozillaVersion.Parse(text));
        Assert.Contains(reason, thrown.Message);
        if (text.Trim().Length > 0)
        {
            Assert.Contains($"'{text.Trim()}' is not a Mozilla version", thrown.Message);
        }
    }

    [Fact]
    public void OverlongTextIsRejected()
    {
        var longest = string.Join('.', Enumerable.Repeat("1", (MozillaVersion.MaxLength + 1) / 2));
        Assert.Equal(MozillaVersion.MaxLength - 1, longest.Length);
        Assert.True(MozillaVersion.TryParse(longest, out _));

        var text = new string('9', MozillaVersion.MaxLength + 1);
        Assert.False(MozillaVersion.TryParse(text, out _, out var error));
        Assert.Contains($"longer than {MozillaVersion.MaxLength}", error);
    }

    [Fact]
    public void NullIsNotAVersion()
    {
        Assert.False(MozillaVersion.TryParse(null, out _, out var error));
        Assert.Equal("No version given.", error);
        Assert.Throws<ArgumentNullException>(() => MozillaVersion.Parse(null!));
    }
}
