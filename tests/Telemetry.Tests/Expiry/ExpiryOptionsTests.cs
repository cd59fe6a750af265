using Microsoft.Extensions.Options;
using Telemetry.Silo;
using Telemetry.Tests.Operations;

namespace Telemetry.Tests.Expiry;

/// <summary>A bad <c>Expiry</c> or <c>ReleaseCalendar</c> setting stops the silo at start, naming the key.</summary>
public sealed class ExpiryOptionsTests
{
    [Theory]
    [InlineData("Expiry:FirstNoticeDays", "--Expiry:FirstNoticeDays=0")]
    [InlineData("Expiry:FirstNoticeDays", "--Expiry:FirstNoticeDays=400")]
    [InlineData("Expiry:FinalNoticeDays", "--Expiry:FinalNoticeDays=-1")]
    [InlineData("Expiry:FinalNoticeDays", "--Expiry:FirstNoticeDays=14", "--Expiry:FinalNoticeDays=14")]
    [InlineData("Expiry:ListAddress", "--Expiry:ListAddress=")]
    [InlineData("Expiry:ListAddress", "--Expiry:ListAddress=dev-telemetry-alerts")]
    [InlineData("Expiry:SheriffAddress", "--Expiry:SheriffAddress=sheriff at example.org")]
    [InlineData("ReleaseCalendar:CadenceDays", "--ReleaseCalendar:CadenceDays=0")]
    [InlineData("ReleaseCalendar:Path", "--ReleaseCalendar:Path=/nonexistent/release-calendar.json")]
    [InlineData("ReleaseCalendar:Path", "--ReleaseCalendar:Path=")]
    public async Task A_bad_value_stops_the_silo_at_start_naming_the_key(string key, params string[] args)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = await SiloApp.BuildAsync([.. OptionsValidationTests.BaseArgs(), .. args]);
            await app.StartAsync();
        });
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_calendar_file_that_is_not_a_calendar_stops_the_silo_naming_the_entry()
    {
        var file = Path.Combine(Path.GetTempPath(), $"calendar-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, """{"versions":[{"version":"58","nightly_start":"2017-08-02","release":"2017-01-23"}]}""");
        try
        {
            var e = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
            {
                await using var app = await SiloApp.BuildAsync([.. OptionsValidationTests.BaseArgs(), $"--ReleaseCalendar:Path={file}"]);
                await app.StartAsync();
            });
            Assert.Contains($"ReleaseCalendar:Path '{file}' is not a usable release calendar: versions[0] (version 58): release 2017-01-23 is not after nightly_start 2017-08-02.", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
