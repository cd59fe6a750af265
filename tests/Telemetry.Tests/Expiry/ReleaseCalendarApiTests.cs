using System.Net;
using System.Text.Json;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Probes;
using static Telemetry.Tests.Expiry.ExpiryTestKit;

namespace Telemetry.Tests.Expiry;

/// <summary>Replacing the release calendar over HTTP, and the calendar file a silo starts with.</summary>
public sealed class ReleaseCalendarApiTests
{
    private static string[] Versions(JsonElement calendar) =>
        [.. calendar.GetProperty("versions").EnumerateArray().Select(v =>
            $"{v.GetProperty("version").GetString()} {v.GetProperty("nightly_start").GetString()} {v.GetProperty("release").GetString()}")];

    [Fact]
    public async Task An_uploaded_calendar_replaces_the_file_and_a_malformed_one_is_400_naming_the_entry_and_changes_nothing()
    {
        await using var silo = await SiloHost.StartAsync(null, SiloArgs);
        var (_, shipped) = await SendAsync(silo, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
        Assert.Equal("file", shipped.GetProperty("source").GetString());
        Assert.Equal("23", shipped.GetProperty("versions")[0].GetProperty("version").GetString()); // the sample: Firefox 23 onwards

        var stored = await PutCalendarAsync(silo);
        Assert.Equal("upload", stored.GetProperty("source").GetString());
        Assert.Equal(28, stored.GetProperty("cadence_days").GetInt32());
        Assert.Equal("test calendar", stored.GetProperty("comment").GetString());
        string[] expected = ["120 2023-08-28 2023-11-21", "121 2023-09-25 2023-12-19", "122 2023-10-23 2024-01-23"];
        Seq.Equal(expected, Versions(stored)); // sorted by version, whatever the upload's order
        var (_, read) = await SendAsync(silo, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
        Seq.Equal(expected, Versions(read));

        foreach (var (body, expectedDetail) in new[]
        {
            ("""{"versions":[{"version":"120","nightly_start":"2023-08-28","release":"2023-11-21"},{"version":"121","nightly_start":"2023-09-25","release":"2023-09-01"}]}""",
                "versions[1] (version 121): release 2023-09-01 is not after nightly_start 2023-09-25."),
            ("""{"versions":[{"version":"120","nightly_start":"2023-08-28","release":"2023-11-21"},{"version":"121.0b1","nightly_start":"2023-09-25","release":"2023-12-19"}]}""",
                "versions[1]: 'version' must be a major version number such as \"58\", not \"121.0b1\"."),
            ("""{"versions":[{"version":"120","nightly_start":"28/08/2023","release":"2023-11-21"}]}""",
                "versions[0] (version 120): 'nightly_start' must be a date YYYY-MM-DD, not \"28/08/2023\"."),
            ("""{"versions":[]}""", "The release calendar has no versions."),
            ("not json", "The release calendar is not valid JSON"),
        })
        {
            var (status, problem) = await SendAsync(silo, Admin(HttpMethod.Put, "/api/release-calendar", body));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.StartsWith(expectedDetail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        var anonymous = await silo.Http.PutAsync("/api/release-calendar", new StringContent(Calendar));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);

        (_, read) = await SendAsync(silo, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
        Seq.Equal(expected, Versions(read));
    }

    [Fact]
    public async Task A_silo_starts_with_the_calendar_file_and_cadence_it_is_given()
    {
        var file = Path.Combine(Path.GetTempPath(), $"calendar-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, Calendar);
        try
        {
            await using var silo = await SiloHost.StartAsync(null, [.. SiloArgs, $"--ReleaseCalendar:Path={file}", "--ReleaseCalendar:CadenceDays=35"]);
            await UploadProbesAsync(silo, Histograms);

            var (_, calendar) = await SendAsync(silo, new HttpRequestMessage(HttpMethod.Get, "/api/release-calendar"));
            Assert.Equal("file", calendar.GetProperty("source").GetString());
            Assert.Equal(35, calendar.GetProperty("cadence_days").GetInt32());
            Seq.Equal(["120 2023-08-28 2023-11-21", "121 2023-09-25 2023-12-19", "122 2023-10-23 2024-01-23"], Versions(calendar));

            // FAR_AWAY expires in 124: two cadences of 35 days after 122's merge day.
            var (_, expiring) = await SendAsync(silo, new HttpRequestMessage(HttpMethod.Get, "/api/expiring?as_of=2023-12-01&within_days=60&owner=net-owner@example.org"));
            var far = expiring.GetProperty("probes").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "FAR_AWAY");
            Assert.Equal("2024-01-01", far.GetProperty("expiry_date").GetString());
            Assert.True(far.GetProperty("projected").GetBoolean());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
