using System.Diagnostics.CodeAnalysis;

namespace Telemetry.Grains.Expiry;

/// <summary>The two notices an owner gets before a probe expires (docs/expiry.md).</summary>
public enum NoticeStage
{
    /// <summary><c>FirstNoticeDays</c> (42) before the expiry date, to owners and the list.</summary>
    First,

    /// <summary><c>FinalNoticeDays</c> (14) before the expiry date, to owners, the list and the sheriff.</summary>
    Final,
}

public static class NoticeStages
{
    /// <summary>The name used on the wire and in stored keys: <c>first</c> or <c>final</c>.</summary>
    public static string WireName(this NoticeStage stage) => stage switch
    {
        NoticeStage.First => "first",
        NoticeStage.Final => "final",
        _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, "Unknown notice stage."),
    };

    public static bool TryParse(string? text, [NotNullWhen(true)] out NoticeStage? stage)
    {
        stage = text switch
        {
            "first" => NoticeStage.First,
            "final" => NoticeStage.Final,
            _ => null,
        };
        return stage is not null;
    }
}

/// <summary>
/// Identifies one notice: each (probe, version, stage) is mailed once, ever. <see cref="Version"/> is
/// the version after the expiry rules (<c>60.0a1</c> for <c>60</c> and <c>60.0</c>), so rewriting
/// <c>60</c> as <c>60.0</c> does not mail again, while extending to another version starts new notices.
/// </summary>
public readonly record struct NoticeKey(string Probe, string Version, NoticeStage Stage);
