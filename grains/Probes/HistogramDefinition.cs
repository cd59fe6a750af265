using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Telemetry.Grains.Probes;

/// <summary>One histogram of a Histograms.json revision (docs/probes.md).</summary>
public sealed record HistogramDefinition
{
    private readonly ImmutableArray<string> alertEmails = ImmutableArray<string>.Empty;
    private readonly ImmutableArray<string> labels = ImmutableArray<string>.Empty;
    private readonly ImmutableArray<int> bugNumbers = ImmutableArray<int>.Empty;
    private readonly ImmutableArray<string> recordInProcesses = ImmutableArray<string>.Empty;
    private readonly ImmutableArray<string> products = ImmutableArray<string>.Empty;

    public required string Name { get; init; }

    public required HistogramKind Kind { get; init; }

    public string Description { get; init; } = "";

    /// <summary>
    /// The layout from the definition's parameters; null when they name C++ constants that
    /// cannot be evaluated: the layout then comes from the ping (<see cref="ResolveLayout"/>).
    /// </summary>
    public BucketLayout? Layout { get; init; }

    public bool Keyed { get; init; }

    /// <summary><c>never</c>, <c>default</c>, or a version such as <c>60</c> / <c>60.0a1</c>; null when absent.</summary>
    public string? ExpiresInVersion { get; init; }

    public ImmutableArray<string> AlertEmails
    {
        get => alertEmails;
        init => alertEmails = value.IsDefault ? ImmutableArray<string>.Empty : value;
    }

    /// <summary>Categorical labels (bucket names), in order.</summary>
    public ImmutableArray<string> Labels
    {
        get => labels;
        init => labels = value.IsDefault ? ImmutableArray<string>.Empty : value;
    }

    public ImmutableArray<int> BugNumbers
    {
        get => bugNumbers;
        init => bugNumbers = value.IsDefault ? ImmutableArray<int>.Empty : value;
    }

    public string? ReleaseChannelCollection { get; init; }

    public ImmutableArray<string> RecordInProcesses
    {
        get => recordInProcesses;
        init => recordInProcesses = value.IsDefault ? ImmutableArray<string>.Empty : value;
    }

    /// <summary>The modern format's <c>products</c> list (stored and shown only).</summary>
    public ImmutableArray<string> Products
    {
        get => products;
        init => products = value.IsDefault ? ImmutableArray<string>.Empty : value;
    }

    public string? CppGuard { get; init; }

    public bool ExtendedStatisticsOk { get; init; }

    /// <summary>
    /// The layout to aggregate with: <see cref="Layout"/> when the definition has one, else the
    /// layout the ping declared when it is valid for <see cref="Kind"/> (same type code and shape;
    /// for categorical, room for every label), else null.
    /// </summary>
    public BucketLayout? ResolveLayout(BucketLayout? declaredByPing)
    {
        if (Layout is not null)
        {
            return Layout;
        }

        return declaredByPing is null ? null : BucketLayout.AdaptDeclared(Kind, declaredByPing, Labels);
    }
}

/// <summary>A definition that could not be understood, reported by name.</summary>
public sealed record DefinitionError(string Name, string Reason);

/// <summary>The definitions of a Histograms.json document and the ones that could not be understood.</summary>
public sealed record HistogramsParseResult(
    ImmutableDictionary<string, HistogramDefinition> Definitions,
    ImmutableArray<DefinitionError> Errors);

public static class HistogramDefinitionLookup
{
    public const string StartupPrefix = "STARTUP_";

    /// <summary>
    /// Finds the definition of a histogram as named in a ping: the name itself, else for
    /// <c>STARTUP_&lt;NAME&gt;</c> the definition of <c>&lt;NAME&gt;</c> (docs/probes.md). The metric keeps
    /// the ping's name; only the definition is shared.
    /// </summary>
    public static bool TryGetDefinition(
        this IReadOnlyDictionary<string, HistogramDefinition> definitions,
        string name,
        [NotNullWhen(true)] out HistogramDefinition? definition)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        ArgumentNullException.ThrowIfNull(name);
        if (definitions.TryGetValue(name, out definition))
        {
            return true;
        }

        if (name.Length > StartupPrefix.Length && name.StartsWith(StartupPrefix, StringComparison.Ordinal))
        {
            return definitions.TryGetValue(name[StartupPrefix.Length..], out definition);
        }

        definition = null;
        return false;
    }
}
