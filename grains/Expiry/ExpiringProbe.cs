using System.Collections.Immutable;
using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// What the expiry schedule needs of a probe definition: its name, its <c>expires_in_version</c> as
/// written (null when absent) and the owners to notify (Histograms.json <c>alert_emails</c>,
/// Scalars.yaml <c>notification_emails</c>).
/// </summary>
public sealed record ExpiringProbe
{
    private readonly ImmutableArray<string> owners = ImmutableArray<string>.Empty;

    public ExpiringProbe(string name, string? expiresInVersion, IEnumerable<string>? owners = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        ExpiresInVersion = expiresInVersion;
        Owners = NormalizeOwners(owners);
    }

    public string Name { get; }

    public string? ExpiresInVersion { get; }

    /// <summary>Owner addresses, trimmed, without blanks and without case-insensitive duplicates, in the order given.</summary>
    public ImmutableArray<string> Owners
    {
        get => owners;
        private init => owners = value.IsDefault ? ImmutableArray<string>.Empty : value;
    }

    public static ExpiringProbe FromHistogram(HistogramDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new ExpiringProbe(definition.Name, definition.ExpiresInVersion, definition.AlertEmails);
    }

    public static ExpiringProbe FromScalar(ScalarDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new ExpiringProbe(definition.Name, definition.Expires, definition.NotificationEmails.IsDefault ? [] : definition.NotificationEmails);
    }

    private static ImmutableArray<string> NormalizeOwners(IEnumerable<string>? owners)
    {
        if (owners is null)
        {
            return ImmutableArray<string>.Empty;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var builder = ImmutableArray.CreateBuilder<string>();
        foreach (var owner in owners)
        {
            var address = owner?.Trim();
            if (!string.IsNullOrEmpty(address) && seen.Add(address))
            {
                builder.Add(address);
            }
        }

        return builder.ToImmutable();
    }
}
