using Telemetry.Grains.Expiry;

namespace Telemetry.Tests.Expiry;

public sealed class ExpiryVersionTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("never")]
    [InlineData("default")]
    [InlineData(" Never ")]
    [InlineData("DEFAULT")]
    [InlineData("*")]
    [InlineData("*.5")]
    public void NeverDefaultAbsentAndStarNeverExpire(string? text)
    {
        var version = ExpiryVersion.Parse(text);
        Assert.True(version.IsNever);
        Assert.Equal("never", version.ToString());
        Assert.Equal(ExpiryVersion.Never, version);
    }

    [Theory]
    [InlineData("58", "58.0a1")]
    [InlineData("58.0", "58.0a1")]
    [InlineData("58.0.0", "58.0a1")]
    [InlineData(" 58 ", "58.0a1")]
    [InlineData("058.00", "58.0a1")]
    [InlineData("58.0a1", "58.0a1")]
    [InlineData("58.0a2", "58.0a2")]
    [InlineData("58.0b3", "58.0b3")]
    [InlineData("58.1", "58.1")]
    [InlineData("58.0.1", "58.0.1")]
    [InlineData("58a", "58a")]
    [InlineData("1.*", "1.*")]
    public void MajorOnlyVersionsMeanTheirFirstNightly(string text, string expected)
    {
        var version = ExpiryVersion.Parse(text);
        Assert.False(version.IsNever);
        Assert.Equal(MozillaVersion.Parse(expected), version.Version);
        Assert.Equal(text.Trim(), version.Text);
    }

    [Fact]
    public void TheRuleMovesExpiryBeforeBetasAndTheRelease()
    {
        // "58" expires with the first 58 Nightly, before any 58 beta or release.
        var expiry = ExpiryVersion.Parse("58").Version!;
        Assert.True(expiry > MozillaVersion.Parse("57.0.4"));
        Assert.True(expiry < MozillaVersion.Parse("58.0a2"));
        Assert.True(expiry < MozillaVersion.Parse("58.0b1"));
        Assert.True(expiry < MozillaVersion.Parse("58.0"));
        Assert.Equal(ExpiryVersion.Parse("58"), ExpiryVersion.Parse("58.0"));
        Assert.Equal(ExpiryVersion.Parse("58"), ExpiryVersion.Parse("58.0a1"));
        Assert.NotEqual(ExpiryVersion.Parse("58"), ExpiryVersion.Parse("58.0b1"));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("58.0-beta", "'58.0-beta' is not a Mozilla version")]
    [InlineData("next", "does not start with a number")]
    [InlineData("never expires", "does not start with a number")]
    public void InvalidExpiryVersionsAreRejected(string text, string reason)
    {
        Assert.False(ExpiryVersion.TryParse(text, out _, out var error));
        Assert.Contains(reason, error);
        Assert.Contains(reason, Assert.Throws<FormatException>(() => ExpiryVersion.Parse(text)).Message);
    }
}
