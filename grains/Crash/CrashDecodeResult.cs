using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Why a main or crash ping does not contribute to the crash aggregates (README, "Crash aggregates"). Each is
/// counted under <see cref="CrashRejections.Name"/>. Pings that are not crash input at all (other
/// document types, classic pings) are not rejections: see <see cref="CrashDecodeOutcome.Ignored"/>.
/// </summary>
public enum CrashRejection
{
    /// <summary><c>environment.build.buildId</c> missing or not exactly 14 ASCII digits.</summary>
    BadBuildId,

    /// <summary><c>payload.info.subsessionStartDate</c> (main) or <c>payload.crashDate</c> (crash) missing or unparseable.</summary>
    BadDate,

    /// <summary>A main ping without an integer <c>payload.info.subsessionLength</c>.</summary>
    NoSubsessionLength,

    /// <summary>A crash ping of a child process (already counted through the main pings' keyed histograms).</summary>
    ChildProcessCrash,
}

public static class CrashRejections
{
    /// <summary>Every rejection, in declaration order (for pre-registering counters).</summary>
    public static readonly IReadOnlyList<CrashRejection> All = Enum.GetValues<CrashRejection>();

    /// <summary>The counter label of a rejection.</summary>
    public static string Name(CrashRejection r) => r switch
    {
        CrashRejection.BadBuildId => "bad_build_id",
        CrashRejection.BadDate => "bad_date",
        CrashRejection.NoSubsessionLength => "no_subsession_length",
        CrashRejection.ChildProcessCrash => "child_process_crash",
        _ => "unknown",
    };
}

/// <summary>What decoding a ping for crash aggregation gave.</summary>
public enum CrashDecodeOutcome : byte
{
    /// <summary>Not crash input (not a unified <c>main</c> or <c>crash</c> ping): nothing to add, nothing to count.</summary>
    Ignored = 0,

    /// <summary>A main or crash ping that cannot be used; <see cref="CrashDecodeResult.Rejection"/> says why (count it).</summary>
    Rejected = 1,

    /// <summary>A ping that contributes; see <see cref="CrashDecodeResult.Contribution"/>.</summary>
    Contributed = 2,
}

/// <summary>The result of <see cref="CrashPingDecoder.Decode"/>: ignored, rejected (with a reason) or a contribution.</summary>
public readonly struct CrashDecodeResult
{
    private CrashDecodeResult(CrashDecodeOutcome outcome, CrashRejection rejection, CrashContribution? contribution)
    {
        Outcome = outcome;
        _rejection = rejection;
        Contribution = contribution;
    }

    private readonly CrashRejection _rejection;

    public static CrashDecodeResult Ignored => default;

    public static CrashDecodeResult Rejected(CrashRejection reason) => new(CrashDecodeOutcome.Rejected, reason, null);

    public static CrashDecodeResult Contributed(CrashContribution contribution) =>
        new(CrashDecodeOutcome.Contributed, default, contribution ?? throw new ArgumentNullException(nameof(contribution)));

    public CrashDecodeOutcome Outcome { get; }

    /// <summary>The reason when <see cref="Outcome"/> is <see cref="CrashDecodeOutcome.Rejected"/>, else null.</summary>
    public CrashRejection? Rejection => Outcome == CrashDecodeOutcome.Rejected ? _rejection : null;

    /// <summary>The contribution when <see cref="Outcome"/> is <see cref="CrashDecodeOutcome.Contributed"/>, else null.</summary>
    public CrashContribution? Contribution { get; }

    /// <summary>The rejection counter label, or null when nothing is to be counted.</summary>
    public string? RejectionName => Rejection is { } r ? CrashRejections.Name(r) : null;

    public override string ToString() => Outcome switch
    {
        CrashDecodeOutcome.Rejected => "rejected: " + RejectionName,
        CrashDecodeOutcome.Contributed => "contributed: " + Contribution!.ActivityDateText + " " + Contribution.Dimensions,
        _ => "ignored",
    };
}

/// <summary>What one main or crash ping adds to one row of the crash aggregates.</summary>
public sealed class CrashContribution
{
    /// <summary>True for a main ping, false for a crash ping.</summary>
    public required bool IsMainPing { get; init; }

    /// <summary>The activity date, already clamped into [submission date − 7 days, submission date].</summary>
    public required DateOnly ActivityDate { get; init; }

    /// <summary>The dimensions as canonical JSON (see <see cref="CrashDimensions"/>).</summary>
    public required string Dimensions { get; init; }

    /// <summary>The <c>channel</c> dimension (ASCII-sanitized), null when absent.</summary>
    public required string? Channel { get; init; }

    /// <summary>The <c>build_version</c> dimension (ASCII-sanitized), null when absent.</summary>
    public required string? BuildVersion { get; init; }

    /// <summary>The per-ping values and their squares (usage in seconds, clamped to [0, 90000]).</summary>
    public required CrashStats Stats { get; init; }

    public string ActivityDateText => CrashDimensions.FormatDate(ActivityDate);

    /// <summary>The crash aggregate grain this contribution goes to.</summary>
    public string GrainKey(DateOnly submissionDate) =>
        CrashStatNames.GrainKey(CrashDimensions.FormatDate(submissionDate), Channel ?? "", BuildVersion ?? "");

    /// <summary>The row of that grain this contribution is added to.</summary>
    public CrashRowKey RowKey => new() { ActivityDate = ActivityDateText, Dimensions = Dimensions };
}
