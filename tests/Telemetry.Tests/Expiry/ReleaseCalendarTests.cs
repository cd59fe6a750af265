using System.Text.Json;
using Telemetry.Grains.Expiry;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Probes;

namespace Telemetry.Tests.Expiry;

public sealed class ReleaseCalendarTests
{
    // Entries deliberately out of order: the calendar sorts them by version.
    private const string SmallCalendar = """
        {
          "comment": "test data",
          "versions": [
            {"version": "58", "nightly_start": "2017-09-25", "release": "2018-01-23"},
            {"version": "56", "nightly_start": "2017-06-12", "release": "2017-09-28"},
            {"version": "57", "nightly_start": "2017-08-07", "release": "2017-11-14"},
            {"version": "60", "nightly_start": "2018-01-22", "release": "2018-05-09"}
          ]
        }
        """;

    private static readonly ReleaseCalendar Calendar = ReleaseCalendar.Parse(SmallCalendar);

    private static DateOnly D(string text) => DateOnly.Parse(text, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void EntriesAreSortedByVersion()
    {
        Seq.Equal([56, 57, 58, 60], Calendar.Trains.Select(t => t.Major));
        Assert.Equal("test data", Calendar.Comment);
        Assert.Equal(ReleaseCalendar.DefaultCadenceDays, Calendar.CadenceDays);
        Assert.All(Calendar.Trains, t => Assert.False(t.Projected));
    }

    [Theory]
    [InlineData("56", "2017-06-12")]
    [InlineData("57", "2017-08-07")]
    [InlineData("57.0", "2017-08-07")]
    [InlineData("57.0a1", "2017-08-07")]
    // Anything after 57.0a1 is first reached by the 58 Nightly.
    [InlineData("57.0a2", "2017-09-25")]
    [InlineData("57.0b3", "2017-09-25")]
    [InlineData("57.0.1", "2017-09-25")]
    [InlineData("57.5", "2017-09-25")]
    [InlineData("58a", "2017-09-25")]
    [InlineData("58", "2017-09-25")]
    // 59 is missing (a gap): the first known version at or after it is 60.
    [InlineData("59", "2018-01-22")]
    [InlineData("58.0b1", "2018-01-22")]
    [InlineData("60", "2018-01-22")]
    // Before the first entry: the first known version is 56.
    [InlineData("4.0", "2017-06-12")]
    [InlineData("1.*", "2017-06-12")]
    public void ExpiryDateIsTheMergeDayOfTheFirstTrainAtOrAfterTheVersion(string expiresInVersion, string expected)
    {
        Assert.Equal(D(expected), Calendar.ExpiryDate(ExpiryVersion.Parse(expiresInVersion)));
    }

    [Fact]
    public void RawVersionsAreTakenAsWritten()
    {
        // Without the expiry rule "58.0" is the release, after 58.0a1: the 60 Nightly reaches it first here.
        Assert.Equal(D("2018-01-22"), Calendar.ExpiryDate(MozillaVersion.Parse("58.0")));
        Assert.Equal(D("2017-09-25"), Calendar.ExpiryDate(MozillaVersion.Parse("58.0a1")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("never")]
    [InlineData("default")]
    [InlineData("*")]
    public void NeverExpiringVersionsHaveNoDate(string? expiresInVersion)
    {
        Assert.Null(Calendar.ExpiryDate(ExpiryVersion.Parse(expiresInVersion)));
        Assert.Null(Calendar.TrainFor(ExpiryVersion.Parse(expiresInVersion)));
    }

    [Theory]
    [InlineData("61", 61, 1)]
    [InlineData("60.0a2", 61, 1)]
    [InlineData("60.0b3", 61, 1)]
    [InlineData("60.5", 61, 1)]
    [InlineData("65", 65, 5)]
    [InlineData("65.0b1", 66, 6)]
    [InlineData("100", 100, 40)]
    public void VersionsAfterTheLastAreProjectedAtTheCadence(string expiresInVersion, int major, int steps)
    {
        var train = Calendar.TrainFor(ExpiryVersion.Parse(expiresInVersion))!;
        Assert.Equal(major, train.Major);
        Assert.True(train.Projected);
        Assert.Equal(D("2018-01-22").AddDays(28 * steps), train.NightlyStart);
        Assert.Equal(D("2018-05-09").AddDays(28 * steps), train.Release);
        Assert.Equal(train, Calendar.Train(major));
    }

    [Fact]
    public void CadenceIsConfigurable()
    {
        var sixWeeks = ReleaseCalendar.Parse(SmallCalendar, cadenceDays: 42);
        Assert.Equal(D("2018-01-22").AddDays(3 * 42), sixWeeks.ExpiryDate(ExpiryVersion.Parse("63")));
        Assert.Equal(D("2018-05-09").AddDays(3 * 42), sixWeeks.Train(63)!.Release);
        Assert.Throws<ArgumentOutOfRangeException>(() => ReleaseCalendar.Parse(SmallCalendar, cadenceDays: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReleaseCalendar.Parse(SmallCalendar, cadenceDays: 367));
    }

    [Theory]
    [InlineData("1000000")]
    [InlineData("1000001")]
    [InlineData("99999999999999999999999999")]
    public void ProjectionsPastTheLastRepresentableDateHaveNoDate(string expiresInVersion)
    {
        Assert.Null(Calendar.ExpiryDate(ExpiryVersion.Parse(expiresInVersion)));
    }

    [Fact]
    public void FarProjectionsStillWithinYear9999HaveADate()
    {
        var date = Calendar.ExpiryDate(ExpiryVersion.Parse("10000"))!.Value;
        Assert.Equal(D("2018-01-22").AddDays(28 * (10000 - 60)), date);
    }

    [Fact]
    public void TrainsAreKnownProjectedOrMissing()
    {
        Assert.Equal(new ReleaseTrain(57, D("2017-08-07"), D("2017-11-14")), Calendar.Train(57));
        Assert.Null(Calendar.Train(59));
        Assert.Null(Calendar.Train(55));
        Assert.True(Calendar.Train(61)!.Projected);
        Assert.Equal("61", Calendar.Train(61)!.Version);
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        var again = ReleaseCalendar.Parse(Calendar.ToJson());
        Seq.Equal(Calendar.Trains, again.Trains);
        Assert.Equal(Calendar.Comment, again.Comment);

        using var document = JsonDocument.Parse(Calendar.ToJson());
        var first = document.RootElement.GetProperty("versions")[0];
        Assert.Equal("56", first.GetProperty("version").GetString());
        Assert.Equal("2017-06-12", first.GetProperty("nightly_start").GetString());
        Assert.Equal("2017-09-28", first.GetProperty("release").GetString());
    }

    [Fact]
    public void VersionsMayBeNumbersOrMajorDotZeroAndUnknownKeysAreIgnored()
    {
        var calendar = ReleaseCalendar.Parse("""
            {"versions": [
              {"version": 58, "nightly_start": "2017-09-25", "release": "2018-01-23", "esr": false},
              {"version": "59.0", "nightly_start": "2017-11-13", "release": "2018-03-13"}
            ], "source": "hand-written"}
            """);
        Seq.Equal([58, 59], calendar.Trains.Select(t => t.Major));
        Assert.Null(calendar.Comment);
    }

    [Fact]
    public void TrainsCanBeGivenInCode()
    {
        var calendar = new ReleaseCalendar([new ReleaseTrain(10, D("2030-01-07"), D("2030-03-04"))], cadenceDays: 7);
        Assert.Equal(D("2030-01-14"), calendar.ExpiryDate(ExpiryVersion.Parse("11")));
        var error = Assert.Throws<ReleaseCalendarFormatException>(() =>
            new ReleaseCalendar([new ReleaseTrain(10, D("2030-01-07"), D("2030-01-07"))]));
        Assert.Equal("versions[0] (version 10)", error.Entry);
    }

    [Theory]
    [InlineData("""{"versions":[E58,{"version":"58.0","nightly_start":"2017-09-26","release":"2018-01-24"}]}""",
        "versions[1] (version 58)", "version 58 is already given by versions[0] (version 58)")]
    [InlineData("""{"versions":[{"version":"58","nightly_start":"2018-01-23","release":"2017-09-25"}]}""",
        "versions[0] (version 58)", "release 2017-09-25 is not after nightly_start 2018-01-23")]
    [InlineData("""{"versions":[{"version":"58","nightly_start":"2017-09-25","release":"2017-09-25"}]}""",
        "versions[0] (version 58)", "release 2017-09-25 is not after nightly_start 2017-09-25")]
    [InlineData("""{"versions":[E58,{"version":"59","nightly_start":"2018-13-01","release":"2018-03-13"}]}""",
        "versions[1] (version 59)", "'nightly_start' must be a date YYYY-MM-DD, not \"2018-13-01\"")]
    [InlineData("""{"versions":[E58,{"version":"59","nightly_start":"2017/11/13","release":"2018-03-13"}]}""",
        "versions[1] (version 59)", "'nightly_start' must be a date YYYY-MM-DD, not \"2017/11/13\"")]
    [InlineData("""{"versions":[E58,{"version":"59","nightly_start":"2017-11-13","release":20180313}]}""",
        "versions[1] (version 59)", "'release' must be a date YYYY-MM-DD, not 20180313")]
    [InlineData("""{"versions":[E58,{"version":"59","nightly_start":"2017-11-13"}]}""",
        "versions[1] (version 59)", "'release' is missing")]
    [InlineData("""{"versions":[E58,{"nightly_start":"2017-11-13","release":"2018-03-13"}]}""",
        "versions[1]", "'version' is missing")]
    [InlineData("""{"versions":[E58,{"version":"59.0b1","nightly_start":"2017-11-13","release":"2018-03-13"}]}""",
        "versions[1]", "'version' must be a major version number such as \"58\", not \"59.0b1\"")]
    [InlineData("""{"versions":[E58,{"version":"fifty-nine","nightly_start":"2017-11-13","release":"2018-03-13"}]}""",
        "versions[1]", "not \"fifty-nine\"")]
    [InlineData("""{"versions":[E58,{"version":"0","nightly_start":"2017-11-13","release":"2018-03-13"}]}""",
        "versions[1]", "not \"0\"")]
    [InlineData("""{"versions":[E58,{"version":true,"nightly_start":"2017-11-13","release":"2018-03-13"}]}""",
        "versions[1]", "'version' is a boolean, not a version")]
    [InlineData("""{"versions":[E58,"59"]}""",
        "versions[1]", "the entry is a string, not an object")]
    // Dates that do not increase with the version: a typo in a date or a version.
    [InlineData("""{"versions":[E58,{"version":"59","nightly_start":"2017-09-01","release":"2018-03-13"}]}""",
        "versions[1] (version 59)", "nightly_start 2017-09-01 is not after that of version 58 (2017-09-25)")]
    [InlineData("""{"versions":[{"version":"59","nightly_start":"2017-11-13","release":"2018-01-01"},E58]}""",
        "versions[0] (version 59)", "release 2018-01-01 is not after that of version 58 (2018-01-23)")]
    public void InvalidEntriesAreNamed(string json, string entry, string reason)
    {
        json = json.Replace("E58", """{"version":"58","nightly_start":"2017-09-25","release":"2018-01-23"}""");
        var error = Assert.Throws<ReleaseCalendarFormatException>(() => ReleaseCalendar.Parse(json));
        Assert.Equal(entry, error.Entry);
        Assert.StartsWith(entry + ": ", error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{}", "must have a 'versions' list")]
    [InlineData("""{"versions":{}}""", "must have a 'versions' list")]
    [InlineData("""{"versions":[]}""", "has no versions")]
    public void InvalidDocumentsAreRejected(string json, string reason)
    {
        var error = Assert.Throws<ReleaseCalendarFormatException>(() => ReleaseCalendar.Parse(json));
        Assert.Null(error.Entry);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void TheSampleCalendarLoadsAndIsMarkedAsSample()
    {
        var path = Path.Combine(TestPaths.RepoRoot, "silo", "release-calendar.json");
        var calendar = ReleaseCalendar.Load(path);
        Assert.Contains("Sample data", calendar.Comment);

        // Contiguous real versions from the 2013 revisions' era to modern ones.
        Seq.Equal(Enumerable.Range(23, 146 - 23 + 1), calendar.Trains.Select(t => t.Major));

        // Read the file independently of the calendar code.
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var rows = document.RootElement.GetProperty("versions").EnumerateArray()
            .ToDictionary(e => e.GetProperty("version").GetString()!, e => (Nightly: D(e.GetProperty("nightly_start").GetString()!), Release: D(e.GetProperty("release").GetString()!)));
        Assert.Equal(rows["60"].Nightly, calendar.ExpiryDate(ExpiryVersion.Parse("60")));
        Assert.Equal(rows["67"].Nightly, calendar.ExpiryDate(ExpiryVersion.Parse("67.0")));
        Assert.Equal(rows["61"].Nightly, calendar.ExpiryDate(ExpiryVersion.Parse("60.0b5")));
        Assert.Equal(rows["23"].Nightly, calendar.ExpiryDate(ExpiryVersion.Parse("4")));
        Assert.Equal(D("2018-05-09"), rows["60"].Release);
        Assert.Equal(D("2017-06-12"), rows["56"].Nightly);
        Assert.Equal(rows["146"].Nightly.AddDays(28), calendar.ExpiryDate(ExpiryVersion.Parse("147")));

        // The silo ships it next to its binaries (this project references the silo).
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "release-calendar.json")));
    }
}
