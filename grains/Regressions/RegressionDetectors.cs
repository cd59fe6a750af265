using System.Collections.Frozen;

namespace Telemetry.Grains.Regressions;

/// <summary>The detectors the product can run, by name. Detectors are stateless, so one instance serves every series.</summary>
public static class RegressionDetectors
{
    private static readonly FrozenDictionary<string, IRegressionDetector> ByName =
        new IRegressionDetector[] { new DefaultDetector(), new CerberusDetector() }.ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary><c>default</c> and <c>cerberus</c>.</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static bool IsKnown(string? name) => name is not null && ByName.ContainsKey(name);

    public static IRegressionDetector Get(string name) =>
        ByName.TryGetValue(name, out var detector) ? detector : throw new ArgumentException($"unknown detector '{name}'", nameof(name));
}
