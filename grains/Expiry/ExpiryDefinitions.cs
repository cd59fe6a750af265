using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// Which probe definitions the expiry schedule reads from the registry (docs/expiry.md, "Which
/// definitions count"): those of the revision the <c>nightly</c> channel points at, else of the newest
/// upload. Nightly carries the newest code, so its definitions are the ones about to expire; older
/// revisions still hold probes that were removed or extended since.
/// </summary>
public static class ExpiryDefinitions
{
    public const string Channel = "nightly";

    /// <summary>The revision whose definitions count, or null when the registry is empty.</summary>
    public static ProbeRevision? RevisionOf(ProbeSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Channels.TryGetValue(Channel, out var name) && snapshot.Revisions.TryGetValue(name, out var revision)
            ? revision
            : snapshot.Newest;
    }

    /// <summary>The histograms and scalars of <see cref="RevisionOf"/> as the schedule reads them, by name.</summary>
    public static IReadOnlyList<ExpiringProbe> From(ProbeSnapshot snapshot)
    {
        var revision = RevisionOf(snapshot);
        if (revision is null)
        {
            return [];
        }

        var probes = new SortedDictionary<string, ExpiringProbe>(StringComparer.Ordinal);
        foreach (var histogram in revision.Histograms.Values)
        {
            probes[histogram.Name] = ExpiringProbe.FromHistogram(histogram);
        }

        // Scalar names are dotted (category.name) and cannot meet a histogram's; should one ever, the histogram is kept.
        foreach (var scalar in revision.Scalars.Values)
        {
            probes.TryAdd(scalar.Name, ExpiringProbe.FromScalar(scalar));
        }

        return [.. probes.Values];
    }
}
