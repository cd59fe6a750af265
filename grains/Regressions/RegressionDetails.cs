using System.Text.Json;
using System.Text.Json.Serialization;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// What a regression alert keeps beyond the generic alert fields (its <c>DetailsJson</c>; docs/regressions.md,
/// "The regression record"): what a person compares to judge the finding.
/// </summary>
public sealed record RegressionDetails
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary><c>higher</c>, <c>lower</c> or <c>changed</c>.</summary>
    public required string Direction { get; init; }

    /// <summary>One label per bucket: the lower bound (a number), or the label of a categorical histogram (a string).</summary>
    public required JsonElement Buckets { get; init; }

    /// <summary>The build date's histogram divided by its total.</summary>
    public required double[] Candidate { get; init; }

    /// <summary>The reference distribution, normalised.</summary>
    public required double[] Reference { get; init; }

    /// <summary>The build dates the reference was made of, <c>YYYYMMDD</c>, oldest first.</summary>
    public required string[] ReferenceDates { get; init; }

    /// <summary>The metric's description from its definition; empty when it has none.</summary>
    public required string Description { get; init; }

    /// <summary>
    /// First and last build date (<c>YYYYMMDD</c>) that may hold the change's start, 95 % probability
    /// (<see cref="RegressionFinding.SuspectFrom"/>); null on alerts recorded before they were kept.
    /// </summary>
    public string? SuspectFrom { get; init; }

    /// <inheritdoc cref="SuspectFrom"/>
    public string? SuspectTo { get; init; }

    /// <summary>The newest build date the finding needed, <c>YYYYMMDD</c>.</summary>
    public required string ConfirmedBy { get; init; }

    /// <summary>The detector's significance, when it tests one (<c>default</c>).</summary>
    public double? PValue { get; init; }

    /// <summary>What <see cref="RegressionFinding.Score"/> measures for this detector.</summary>
    public required string ScoreKind { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads details written by <see cref="ToJson"/>; null for anything else (an alert recorded by an older version).</summary>
    public static RegressionDetails? Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<RegressionDetails>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
