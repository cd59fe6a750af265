using System.Collections.Immutable;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// Firefox major versions with the day Nightly became <c>N.0a1</c> (the merge day) and the release
/// day, loaded from <c>{"versions":[{"version":"58","nightly_start":"2017-08-02","release":"2018-01-23"}, ...]}</c>.
/// Versions after the last entry are projected at <see cref="CadenceDays"/> per major version.
/// The expiry date of a version is the merge day of the first train whose <c>N.0a1</c> is at or
/// after it (docs/expiry.md). Immutable; validation names the entry at fault.
/// </summary>
public sealed class ReleaseCalendar
{
    public const int DefaultCadenceDays = 28;
    public const int MaxCadenceDays = 366;
    public const int MaxEntries = 10_000;
    public const int MaxMajor = 1_000_000;

    private const string DateFormat = "yyyy-MM-dd";

    private readonly ImmutableArray<MozillaVersion> firstNightlies;

    /// <summary>Builds a calendar from known trains (any order); throws <see cref="ReleaseCalendarFormatException"/> when they are inconsistent.</summary>
    public ReleaseCalendar(IEnumerable<ReleaseTrain> trains, int cadenceDays = DefaultCadenceDays, string? comment = null)
        : this(Label(trains), cadenceDays, comment)
    {
    }

    private ReleaseCalendar(IReadOnlyList<(ReleaseTrain Train, string Entry)> entries, int cadenceDays, string? comment)
    {
        if (cadenceDays is < 1 or > MaxCadenceDays)
        {
            throw new ArgumentOutOfRangeException(nameof(cadenceDays), cadenceDays, $"The cadence must be 1 to {MaxCadenceDays} days.");
        }

        Trains = Validate(entries);
        CadenceDays = cadenceDays;
        Comment = comment;
        firstNightlies = Trains.Select(t => ExpiryVersion.FirstNightlyOf(t.Major)).ToImmutableArray();
    }

    /// <summary>The known trains, by version.</summary>
    public ImmutableArray<ReleaseTrain> Trains { get; }

    /// <summary>Days between projected major versions.</summary>
    public int CadenceDays { get; }

    /// <summary>The document's <c>comment</c> (where the data comes from), kept when stored again.</summary>
    public string? Comment { get; }

    public ReleaseTrain Last => Trains[^1];

    /// <summary>Reads the JSON document; throws <see cref="ReleaseCalendarFormatException"/> naming the bad entry.</summary>
    public static ReleaseCalendar Parse(string json, int cadenceDays = DefaultCadenceDays)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ReleaseCalendarFormatException($"The release calendar is not valid JSON: {ex.Message}", null, ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ReleaseCalendarFormatException("The release calendar must be a JSON object with a 'versions' list.");
            }

            if (!root.TryGetProperty("versions", out var versions) || versions.ValueKind != JsonValueKind.Array)
            {
                throw new ReleaseCalendarFormatException("The release calendar must have a 'versions' list.");
            }

            if (versions.GetArrayLength() > MaxEntries)
            {
                throw new ReleaseCalendarFormatException($"The release calendar has more than {MaxEntries} versions.");
            }

            var entries = new List<(ReleaseTrain, string)>(versions.GetArrayLength());
            var index = 0;
            foreach (var item in versions.EnumerateArray())
            {
                entries.Add(ReadEntry(item, index++));
            }

            var comment = root.TryGetProperty("comment", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            return new ReleaseCalendar(entries, cadenceDays, comment);
        }
    }

    /// <summary>Reads a calendar file (<c>ReleaseCalendar:Path</c>).</summary>
    public static ReleaseCalendar Load(string path, int cadenceDays = DefaultCadenceDays) =>
        Parse(File.ReadAllText(path), cadenceDays);

    /// <summary>
    /// The train of a major version: known, projected when after the last known one, null when the
    /// calendar has no entry for it (before the first entry, or a gap) or the date would be past year 9999.
    /// </summary>
    public ReleaseTrain? Train(int major)
    {
        if (major > Last.Major)
        {
            var steps = (long)(major - Last.Major) * CadenceDays;
            var nightly = AddDays(Last.NightlyStart, steps);
            var release = AddDays(Last.Release, steps);
            return nightly is null || release is null ? null : new ReleaseTrain(major, nightly.Value, release.Value, Projected: true);
        }

        var index = BinarySearchMajor(major);
        return index >= 0 ? Trains[index] : null;
    }

    /// <summary>The train whose merge day is the expiry date of <paramref name="version"/>; null when it never expires.</summary>
    public ReleaseTrain? TrainFor(ExpiryVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return version.IsNever ? null : TrainFor(version.Version);
    }

    /// <summary>
    /// The first train (known or projected) whose <c>N.0a1</c> is at or after <paramref name="version"/>,
    /// taken as written (no <c>N</c> → <c>N.0a1</c> rule; use the <see cref="ExpiryVersion"/> overload for
    /// <c>expires_in_version</c>). Null for <c>*</c> versions and beyond year 9999.
    /// </summary>
    public ReleaseTrain? TrainFor(MozillaVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Major.IsInfinite)
        {
            return null;
        }

        // First known train whose first Nightly is >= version (they ascend with the trains).
        int low = 0, high = Trains.Length;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (firstNightlies[middle] >= version)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        if (low < Trains.Length)
        {
            return Trains[low];
        }

        // After every known train: the smallest major M with M.0a1 >= version is the version's own
        // major (58.0a1 for 58a) or the next one (59 for 58.0b3, 58.0 or 58.1).
        var major = version.Major.Number;
        if (ExpiryVersion.FirstNightlyOf(major) < version)
        {
            major += 1;
        }

        major = BigInteger.Max(major, Last.Major + 1);
        return major > MaxMajor ? null : Train((int)major);
    }

    /// <summary>The expiry date of <c>expires_in_version</c>: the merge day of its train; null when it never expires.</summary>
    public DateOnly? ExpiryDate(ExpiryVersion version) => TrainFor(version)?.NightlyStart;

    /// <summary>The merge day of the first train at or after <paramref name="version"/> (as written).</summary>
    public DateOnly? ExpiryDate(MozillaVersion version) => TrainFor(version)?.NightlyStart;

    /// <summary>The document shape <see cref="Parse"/> reads (known trains only).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            if (Comment is not null)
            {
                writer.WriteString("comment", Comment);
            }

            writer.WriteStartArray("versions");
            foreach (var train in Trains)
            {
                writer.WriteStartObject();
                writer.WriteString("version", train.Version);
                writer.WriteString("nightly_start", train.NightlyStart.ToString(DateFormat, CultureInfo.InvariantCulture));
                writer.WriteString("release", train.Release.ToString(DateFormat, CultureInfo.InvariantCulture));
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static List<(ReleaseTrain, string)> Label(IEnumerable<ReleaseTrain> trains)
    {
        ArgumentNullException.ThrowIfNull(trains);
        return trains.Select((t, i) => (t, $"versions[{i}] (version {t.Major})")).ToList();
    }

    private static ImmutableArray<ReleaseTrain> Validate(IReadOnlyList<(ReleaseTrain Train, string Entry)> entries)
    {
        if (entries.Count == 0)
        {
            throw new ReleaseCalendarFormatException("The release calendar has no versions.");
        }

        var byMajor = new Dictionary<int, string>();
        foreach (var (train, entry) in entries)
        {
            if (train.Major is < 1 or > MaxMajor)
            {
                throw new ReleaseCalendarFormatException($"the version must be 1 to {MaxMajor}.", entry);
            }

            if (train.Release <= train.NightlyStart)
            {
                throw new ReleaseCalendarFormatException(
                    $"release {Format(train.Release)} is not after nightly_start {Format(train.NightlyStart)}.", entry);
            }

            if (!byMajor.TryAdd(train.Major, entry))
            {
                throw new ReleaseCalendarFormatException($"version {train.Major} is already given by {byMajor[train.Major]}.", entry);
            }
        }

        // Later versions start Nightly and ship later: anything else is a typo in a date or a version.
        var sorted = entries.OrderBy(e => e.Train.Major).ToList();
        for (var i = 1; i < sorted.Count; i++)
        {
            var (previous, _) = sorted[i - 1];
            var (train, entry) = sorted[i];
            if (train.NightlyStart <= previous.NightlyStart)
            {
                throw new ReleaseCalendarFormatException(
                    $"nightly_start {Format(train.NightlyStart)} is not after that of version {previous.Major} ({Format(previous.NightlyStart)}); dates must increase with the version.",
                    entry);
            }

            if (train.Release <= previous.Release)
            {
                throw new ReleaseCalendarFormatException(
                    $"release {Format(train.Release)} is not after that of version {previous.Major} ({Format(previous.Release)}); dates must increase with the version.",
                    entry);
            }
        }

        return sorted.Select(e => e.Train with { Projected = false }).ToImmutableArray();
    }

    private static (ReleaseTrain, string) ReadEntry(JsonElement item, int index)
    {
        var entry = $"versions[{index}]";
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new ReleaseCalendarFormatException($"the entry is {Describe(item.ValueKind)}, not an object.", entry);
        }

        if (!item.TryGetProperty("version", out var versionElement))
        {
            throw new ReleaseCalendarFormatException("'version' is missing.", entry);
        }

        var versionText = versionElement.ValueKind switch
        {
            JsonValueKind.String => versionElement.GetString()!,
            JsonValueKind.Number => versionElement.GetRawText(),
            _ => throw new ReleaseCalendarFormatException($"'version' is {Describe(versionElement.ValueKind)}, not a version.", entry),
        };

        var major = ReadMajor(versionText, entry);
        entry = $"{entry} (version {major})";
        var nightly = ReadDate(item, "nightly_start", entry);
        var release = ReadDate(item, "release", entry);
        return (new ReleaseTrain(major, nightly, release), entry);
    }

    private static int ReadMajor(string text, string entry)
    {
        // A calendar row is a whole train: "58" (or "58.0"), not a beta or a dot release.
        if (!MozillaVersion.TryParse(text, out var version, out _) ||
            !version.Major.IsPlainNumber ||
            version.Parts.Skip(1).Any(p => !p.IsZero) ||
            version.Major.Number < 1 ||
            version.Major.Number > MaxMajor)
        {
            throw new ReleaseCalendarFormatException(
                $"'version' must be a major version number such as \"58\", not \"{Truncate(text)}\".", entry);
        }

        return (int)version.Major.Number;
    }

    private static DateOnly ReadDate(JsonElement item, string field, string entry)
    {
        if (!item.TryGetProperty(field, out var element))
        {
            throw new ReleaseCalendarFormatException($"'{field}' is missing.", entry);
        }

        if (element.ValueKind != JsonValueKind.String ||
            !DateOnly.TryParseExact(element.GetString(), DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var shown = element.ValueKind == JsonValueKind.String ? $"\"{Truncate(element.GetString())}\"" : Truncate(element.GetRawText());
            throw new ReleaseCalendarFormatException($"'{field}' must be a date YYYY-MM-DD, not {shown}.", entry);
        }

        return date;
    }

    private int BinarySearchMajor(int major)
    {
        int low = 0, high = Trains.Length - 1;
        while (low <= high)
        {
            var middle = (low + high) / 2;
            var found = Trains[middle].Major;
            if (found == major)
            {
                return middle;
            }

            if (found < major)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return -1;
    }

    private static DateOnly? AddDays(DateOnly date, long days)
    {
        var dayNumber = date.DayNumber + days;
        return dayNumber > DateOnly.MaxValue.DayNumber ? null : DateOnly.FromDayNumber((int)dayNumber);
    }

    private static string Format(DateOnly date) => date.ToString(DateFormat, CultureInfo.InvariantCulture);

    private static string Describe(JsonValueKind kind) => JsonKinds.Describe(kind);

    private static string Truncate(string? text) =>
        text is null ? "" : text.Length <= 40 ? text : string.Concat(text.AsSpan(0, 37), "...");
}
