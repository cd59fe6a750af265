using System.Collections.Immutable;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// Who a mail is for: the list (every probe of the stage), or one person: an owner (the probes they
/// own), a subscriber (the probes their expiry subscriptions match), or both at once.
/// </summary>
public enum MailAudience
{
    List,
    Owner,
    Subscriber,
    OwnerAndSubscriber,
}

/// <summary>
/// One mail of a run: a stage, its recipients and the probes it tells about (by expiry date, then
/// name). <see cref="AlreadySent"/> mails repeat notices that were sent before; they are reported,
/// never sent again.
/// </summary>
public sealed record ExpiryMail(
    NoticeStage Stage,
    MailAudience Audience,
    ImmutableArray<string> To,
    ImmutableArray<ProbeExpiry> Probes,
    bool AlreadySent)
{
    /// <summary>The notices this mail carries.</summary>
    public IEnumerable<NoticeKey> Notices => Probes.Select(p => p.Key(Stage));
}

/// <summary>
/// The outcome of <see cref="ExpirySchedule.Due"/>: the notice days it covered
/// (<see cref="From"/> … <see cref="AsOf"/>), every mail for them, and the notices to record as sent
/// once the mails that were not <see cref="ExpiryMail.AlreadySent"/> have gone out.
/// </summary>
public sealed record ExpiryRun(
    DateOnly AsOf,
    DateOnly From,
    ImmutableArray<ExpiryMail> Mails,
    ImmutableArray<NoticeKey> NewNotices)
{
    /// <summary>The mails to send now.</summary>
    public IEnumerable<ExpiryMail> ToSend => Mails.Where(m => !m.AlreadySent);
}

/// <summary>A line of <c>GET /api/expiring</c>.</summary>
/// <param name="DaysLeft">Days from the as-of date to the expiry date; 0 on the day, negative once expired.</param>
/// <param name="Expired">True from the expiry date on.</param>
/// <param name="Projected">True when the date comes from a projected (not yet scheduled) version.</param>
public sealed record ExpiringProbeStatus(
    string Name,
    string ExpiresInVersion,
    DateOnly ExpiryDate,
    int DaysLeft,
    bool Expired,
    ImmutableArray<string> Owners,
    bool Projected);

/// <summary>A probe whose <c>expires_in_version</c> cannot be read; it is left out of the schedule and reported.</summary>
public sealed record ExpiryVersionError(string Name, string ExpiresInVersion, string Reason);
