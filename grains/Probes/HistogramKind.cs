namespace Telemetry.Grains.Probes;

/// <summary>
/// The kind of a histogram as declared in Histograms.json. The numeric values equal the type
/// code a ping sends, except <see cref="Enumerated"/>, which pings send as type code 1 (linear).
/// </summary>
public enum HistogramKind
{
    Exponential = 0,
    Linear = 1,
    Boolean = 2,
    Flag = 3,
    Count = 4,
    Categorical = 5,
    Enumerated = 6,
}

public static class HistogramKinds
{
    /// <summary>The kind a ping's <c>histogram_type</c> code denotes; null for unknown codes.
    /// Code 1 maps to <see cref="HistogramKind.Linear"/> (enumerated histograms are sent as 1).</summary>
    public static HistogramKind? FromTypeCode(int code) => code switch
    {
        0 => HistogramKind.Exponential,
        1 => HistogramKind.Linear,
        2 => HistogramKind.Boolean,
        3 => HistogramKind.Flag,
        4 => HistogramKind.Count,
        5 => HistogramKind.Categorical,
        _ => null,
    };

    /// <summary>The type code a ping uses for this kind (enumerated → 1).</summary>
    public static int TypeCode(HistogramKind kind) => kind switch
    {
        HistogramKind.Exponential => 0,
        HistogramKind.Linear => 1,
        HistogramKind.Enumerated => 1,
        HistogramKind.Boolean => 2,
        HistogramKind.Flag => 3,
        HistogramKind.Count => 4,
        HistogramKind.Categorical => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown histogram kind."),
    };

    /// <summary>The lower-case name used in Histograms.json (<c>"exponential"</c>, ...).</summary>
    public static string Name(HistogramKind kind) => kind switch
    {
        HistogramKind.Exponential => "exponential",
        HistogramKind.Linear => "linear",
        HistogramKind.Boolean => "boolean",
        HistogramKind.Flag => "flag",
        HistogramKind.Count => "count",
        HistogramKind.Categorical => "categorical",
        HistogramKind.Enumerated => "enumerated",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown histogram kind."),
    };

    /// <summary>Parses a Histograms.json kind name (case-insensitive, surrounding blanks ignored).</summary>
    public static HistogramKind? FromName(string? name)
    {
        if (name is null)
        {
            return null;
        }

        var s = name.AsSpan().Trim();
        if (s.Equals("exponential", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Exponential;
        if (s.Equals("linear", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Linear;
        if (s.Equals("boolean", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Boolean;
        if (s.Equals("flag", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Flag;
        if (s.Equals("count", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Count;
        if (s.Equals("categorical", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Categorical;
        if (s.Equals("enumerated", StringComparison.OrdinalIgnoreCase)) return HistogramKind.Enumerated;
        return null;
    }

    /// <summary>True for kinds whose layout is always (1, 2, 3): boolean, flag, count.</summary>
    public static bool IsFixedLayout(HistogramKind kind) =>
        kind is HistogramKind.Boolean or HistogramKind.Flag or HistogramKind.Count;

    /// <summary>True when the kind's bucket bounds use the exponential formula.</summary>
    public static bool UsesExponentialFormula(HistogramKind kind) => kind == HistogramKind.Exponential;
}
