using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Regressions;
using Telemetry.Silo.Extensions;

namespace Telemetry.Tests.Regressions;

/// <summary>Section <c>Regressions</c>: documented defaults, lists replaced (not appended to), bad values refused naming the key.</summary>
public sealed class RegressionOptionsTests
{
    [Fact]
    public void The_defaults_watch_nightly_with_both_detectors()
    {
        var o = Options();

        Assert.Equal(["nightly"], o.Channels);
        Assert.Equal(["default", "cerberus"], o.Detectors);
        Assert.Empty(o.IgnoredMetrics);
        Assert.Equal(60, o.BuildDates);
        Assert.Equal(TimeSpan.FromDays(1), o.DetectionPeriod);
    }

    [Fact]
    public void Configured_lists_replace_the_defaults()
    {
        var o = Options("--Regressions:Channels:0=beta", "--Regressions:Channels:1=aurora", "--Regressions:Detectors:0=cerberus",
            "--Regressions:IgnoredMetrics:0=GC_MS", "--Regressions:IgnoredMetrics:1=");

        Assert.Equal(["beta", "aurora"], o.Channels);
        Assert.Equal(["cerberus"], o.Detectors);
        Assert.Equal(["GC_MS"], o.IgnoredMetrics);
        Assert.True(o.IsIgnored("GC_MS"));
        Assert.False(o.IsIgnored("GC_MS_2"));
    }

    [Theory]
    [InlineData("Regressions:Detectors", "--Regressions:Detectors:0=magic")]
    [InlineData("Regressions:Detectors", "--Regressions:Detectors:0=default", "--Regressions:Detectors:1=default")]
    [InlineData("Regressions:Channels", "--Regressions:Channels:0=night ly")]
    [InlineData("Regressions:BuildDates", "--Regressions:BuildDates=5")]
    [InlineData("Regressions:ReadyPings", "--Regressions:ReadyPings=0")]
    [InlineData("Regressions:CheckPeriod", "--Regressions:CheckPeriod=00:00:00")]
    [InlineData("Regressions:DetectionPeriod", "--Regressions:CheckPeriod=02:00:00", "--Regressions:DetectionPeriod=01:00:00")]
    public void A_bad_setting_is_refused_naming_the_key(string key, params string[] args)
    {
        var e = Assert.Throws<OptionsValidationException>(() => Options(args));

        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    private static RegressionOptions Options(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        builder.AddRegressions();
        using var services = builder.Services.BuildServiceProvider();
        return services.GetRequiredService<IOptions<RegressionOptions>>().Value;
    }
}
