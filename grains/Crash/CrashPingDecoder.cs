using System.Globalization;
using System.Runtime.InteropServices;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Ingest;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Turns a read ping into its contribution to the crash aggregates (README, "Crash aggregates"), from the fields
/// <see cref="PingReader"/> already extracted in its single pass (no second parse).
/// </summary>
/// <remarks>
/// Checks, in this order: not a unified <c>main</c>/<c>crash</c> ping → ignored; crash ping of a
/// child process → <c>child_process_crash</c>; bad <c>environment.build.buildId</c> →
/// <c>bad_build_id</c>; main ping without integer subsession length → <c>no_subsession_length</c>;
/// unparseable activity date → <c>bad_date</c>.
/// </remarks>
public static class CrashPingDecoder
{
    public const string MainDocType = "main";
    public const string CrashDocType = "crash";

    /// <summary>Per-ping usage is clamped to [0, 25 h] (README, "Crash aggregates"), kept in seconds.</summary>
    public const long MaxUsageSeconds = 25 * 3600;

    /// <summary>
    /// Per-ping crash counts above this are clamped to it, so that sums of squares (exact longs)
    /// cannot overflow whatever a client sends (real clients report a handful per subsession).
    /// </summary>
    public const long MaxCrashCount = 1_000_000;

    /// <summary>The activity date is clamped into [submission date − this many days, submission date].</summary>
    public const int ActivityWindowDays = 7;

    public const string CrashesWithDumpHistogram = "SUBPROCESS_CRASHES_WITH_DUMP";
    public const string KillHardHistogram = "SUBPROCESS_KILL_HARD";
    public const string ShutDownKillKey = "ShutDownKill";

    private const int PingCount = 0, Usage = 1, MainCrashes = 2, ContentCrashes = 3, PluginCrashes = 4,
        GmpluginCrashes = 5, GpuCrashes = 6, ContentShutdownCrashes = 7;

    /// <summary>The document type to decode with: the unified ping's <c>type</c>, else the URL's docType segment.</summary>
    public static string DocTypeOf(RawPing ping, string urlDocType) => ping.Type ?? urlDocType;

    /// <param name="ping">The ping as read by <see cref="PingReader.Read"/>.</param>
    /// <param name="docType">See <see cref="DocTypeOf"/>.</param>
    /// <param name="country">The value of the <c>Crash:CountryHeader</c> request header, if any.</param>
    /// <param name="submissionDate">The server's UTC receive date.</param>
    public static CrashDecodeResult Decode(RawPing ping, string docType, string? country, DateOnly submissionDate)
    {
        bool isMain = docType == MainDocType;
        if (!isMain && docType != CrashDocType || ping.IsClassic)
        {
            return CrashDecodeResult.Ignored;
        }
        if (!isMain && ping.ProcessType is { } processType && processType != "browser" && processType != "main")
        {
            return CrashDecodeResult.Rejected(CrashRejection.ChildProcessCrash);
        }
        if (!IsBuildId(ping.EnvBuildId))
        {
            return CrashDecodeResult.Rejected(CrashRejection.BadBuildId);
        }
        if (isMain && ping.SubsessionLength is null)
        {
            return CrashDecodeResult.Rejected(CrashRejection.NoSubsessionLength);
        }
        if (!TryParseActivityDate(isMain ? ping.SubsessionStartDate : ping.CrashDate, out var activity))
        {
            return CrashDecodeResult.Rejected(CrashRejection.BadDate);
        }
        activity = Clamp(activity, submissionDate);

        var stats = new CrashStats();
        var v = stats.Values;
        if (isMain)
        {
            v[PingCount] = 1;
            v[Usage] = Math.Clamp(ping.SubsessionLength!.Value, 0, MaxUsageSeconds);
            ReadCrashCounts(ping, v);
        }
        else
        {
            v[MainCrashes] = 1;
        }
        for (int i = 0; i < CrashStatNames.Count; i++)
        {
            v[i + CrashStatNames.Count] = v[i] * v[i];
        }

        string? channel = CrashDimensions.ToAscii(ping.Channel);
        string? buildVersion = CrashDimensions.ToAscii(ping.BuildVersion);
        // In CrashDimensions.Names order.
        ReadOnlySpan<string?> values =
        [
            ping.AppName,
            ping.EnvArchitecture,
            ping.EnvBuildId,
            buildVersion,
            channel,
            CrashDimensions.CountryOf(country),
            ping.E10sCohort,
            ping.E10sEnabled switch { true => "True", false => "False", null => null },
            ping.ExperimentBranch,
            ping.ExperimentId,
            ping.GfxCompositor == "none" ? null : ping.GfxCompositor,
            ping.OsName,
            ping.OsVersion,
        ];
        return CrashDecodeResult.Contributed(new CrashContribution
        {
            IsMainPing = isMain,
            ActivityDate = activity,
            Dimensions = CrashDimensions.Write(CrashDimensions.Names.AsSpan(), values),
            Channel = channel,
            BuildVersion = buildVersion,
            Stats = stats,
        });
    }

    /// <summary>Exactly 14 ASCII digits.</summary>
    public static bool IsBuildId(string? buildId) =>
        buildId is { Length: 14 } && !buildId.AsSpan().ContainsAnyExceptInRange('0', '9');

    /// <summary>
    /// The calendar date as written at the start of a <c>subsessionStartDate</c>
    /// (<c>2016-03-02T00:00:00.0+01:00</c>) or <c>crashDate</c> (<c>2016-03-02</c>): a valid
    /// <c>yyyy-MM-dd</c> date, alone or followed by <c>T</c> and a time (not converted to UTC).
    /// </summary>
    public static bool TryParseActivityDate(string? text, out DateOnly date)
    {
        date = default;
        if (text is null || text.Length < 10 || text.Length > 10 && text[10] != 'T')
        {
            return false;
        }
        return DateOnly.TryParseExact(text.AsSpan(0, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date);
    }

    /// <summary>Clamps an activity date into [submission − 7 days, submission].</summary>
    public static DateOnly Clamp(DateOnly activity, DateOnly submissionDate)
    {
        var earliest = submissionDate.AddDays(-ActivityWindowDays);
        return activity < earliest ? earliest : activity > submissionDate ? submissionDate : activity;
    }

    // Parent-process keyed histograms only (child payloads / content processes do not record these);
    // the first occurrence of a (histogram, key) wins.
    private static void ReadCrashCounts(RawPing ping, long[] v)
    {
        int found = 0; // bit per stat index
        foreach (ref readonly var h in CollectionsMarshal.AsSpan(ping.Histograms))
        {
            if (h.Process != ProcessKind.Parent)
            {
                continue;
            }
            int index;
            if (h.Name == CrashesWithDumpHistogram)
            {
                index = h.Label switch
                {
                    "content" => ContentCrashes,
                    "plugin" => PluginCrashes,
                    "gmplugin" => GmpluginCrashes,
                    "gpu" => GpuCrashes,
                    _ => -1,
                };
            }
            else if (h.Name == KillHardHistogram && h.Label == ShutDownKillKey)
            {
                index = ContentShutdownCrashes;
            }
            else
            {
                continue;
            }
            if (index < 0 || (found & (1 << index)) != 0)
            {
                continue;
            }
            found |= 1 << index;
            v[index] = BucketZero(ping, in h);
        }
    }

    /// <summary>
    /// The count at lower bound 0 of a count histogram's sparse values; 0 when absent, negative,
    /// not an integer or not finite (the seed only took integer values); at most <see cref="MaxCrashCount"/>.
    /// </summary>
    private static long BucketZero(RawPing ping, in RawHistogram h)
    {
        var bounds = ping.BoundsOf(in h);
        var counts = ping.CountsOf(in h);
        for (int i = 0; i < bounds.Length; i++)
        {
            if (bounds[i] != 0)
            {
                continue;
            }
            double c = counts[i];
            if (!double.IsFinite(c) || c < 0 || c != Math.Floor(c))
            {
                return 0;
            }
            return c >= MaxCrashCount ? MaxCrashCount : (long)c;
        }
        return 0;
    }
}
