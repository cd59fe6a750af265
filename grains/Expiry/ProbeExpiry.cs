using System.Collections.Immutable;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// A probe that expires, with the train whose merge day is its expiry date (docs/expiry.md).
/// </summary>
/// <param name="Name">The probe's name.</param>
/// <param name="ExpiresInVersion">The <c>expires_in_version</c> as written in the definition.</param>
/// <param name="Version">The version after the expiry rules (<c>60</c> → <c>60.0a1</c>).</param>
/// <param name="Train">The train whose Nightly start is the expiry date; may be projected.</param>
/// <param name="Owners">Addresses to notify; may be empty.</param>
public sealed record ProbeExpiry(
    string Name,
    string ExpiresInVersion,
    ExpiryVersion Version,
    ReleaseTrain Train,
    ImmutableArray<string> Owners)
{
    /// <summary>The day Nightly reaches a version at or after the probe's: from then on it no longer records.</summary>
    public DateOnly ExpiryDate => Train.NightlyStart;

    /// <summary>The once-only key of this probe's notice at <paramref name="stage"/>.</summary>
    public NoticeKey Key(NoticeStage stage) => new(Name, Version.ToString(), stage);
}
