using System.Collections.Immutable;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// Which expiry notices are due when, for a set of probe definitions and a release calendar
/// (docs/expiry.md). Pure: evaluating never changes state, so the same evaluation serves dry runs,
/// real runs and the expiring-probes list; recording what was sent is the caller's job.
/// </summary>
public sealed class ExpirySchedule
{
    private static readonly NoticeStage[] Stages = [NoticeStage.First, NoticeStage.Final];

    public ExpirySchedule(IEnumerable<ExpiringProbe> probes, ReleaseCalendar calendar, ExpiryNoticeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(probes);
        ArgumentNullException.ThrowIfNull(calendar);
        ArgumentNullException.ThrowIfNull(settings);
        var settingsErrors = settings.Validate();
        if (settingsErrors.Count > 0)
        {
            throw new ArgumentException("Invalid expiry settings: " + string.Join(" ", settingsErrors), nameof(settings));
        }

        Calendar = calendar;
        Settings = settings;

        var names = new HashSet<string>(StringComparer.Ordinal);
        var expiring = new List<ProbeExpiry>();
        var invalid = ImmutableArray.CreateBuilder<ExpiryVersionError>();
        foreach (var probe in probes)
        {
            if (!names.Add(probe.Name))
            {
                throw new ArgumentException($"The probe '{probe.Name}' is given twice.", nameof(probes));
            }

            if (!ExpiryVersion.TryParse(probe.ExpiresInVersion, out var version, out var error))
            {
                invalid.Add(new ExpiryVersionError(probe.Name, probe.ExpiresInVersion ?? "", error));
                continue;
            }

            // Null train: never expires, or its projected date is past year 9999.
            var train = calendar.TrainFor(version);
            if (train is not null)
            {
                expiring.Add(new ProbeExpiry(probe.Name, version.Text!, version, train, probe.Owners));
            }
        }

        Probes = expiring.OrderBy(p => p.ExpiryDate).ThenBy(p => p.Name, StringComparer.Ordinal).ToImmutableArray();
        InvalidVersions = invalid.ToImmutable();
    }

    public ReleaseCalendar Calendar { get; }

    public ExpiryNoticeSettings Settings { get; }

    /// <summary>The probes that expire, by expiry date then name.</summary>
    public ImmutableArray<ProbeExpiry> Probes { get; }

    /// <summary>Probes whose <c>expires_in_version</c> is not a version: never mailed, to be reported.</summary>
    public ImmutableArray<ExpiryVersionError> InvalidVersions { get; }

    /// <summary>The day <paramref name="stage"/> of <paramref name="probe"/> is due.</summary>
    public DateOnly NoticeDay(ProbeExpiry probe, NoticeStage stage)
    {
        ArgumentNullException.ThrowIfNull(probe);
        return DateOnly.FromDayNumber(Math.Max(0, probe.ExpiryDate.DayNumber - Settings.DaysBefore(stage)));
    }

    /// <summary>
    /// The mails of a run for <paramref name="asOf"/>. It covers every notice day after
    /// <paramref name="lastRunDate"/> up to and including <paramref name="asOf"/>, so days missed while
    /// nothing ran are caught up (both stages can fall in one run); without a last run, or when it is not
    /// before <paramref name="asOf"/>, it covers <paramref name="asOf"/> alone. A notice in
    /// <paramref name="alreadySent"/> is reported in a mail marked <see cref="ExpiryMail.AlreadySent"/> and
    /// never among the mails to send. Nothing is changed: record <see cref="ExpiryRun.NewNotices"/> (and the
    /// as-of date as the last run) once the mails are handed over for delivery.
    /// </summary>
    public ExpiryRun Due(DateOnly asOf, IReadOnlySet<NoticeKey> alreadySent, DateOnly? lastRunDate)
    {
        ArgumentNullException.ThrowIfNull(alreadySent);
        var from = lastRunDate is { } last && last < asOf ? last.AddDays(1) : asOf;

        var mails = ImmutableArray.CreateBuilder<ExpiryMail>();
        var newNotices = ImmutableArray.CreateBuilder<NoticeKey>();
        foreach (var stage in Stages)
        {
            var due = Probes.Where(p => NoticeDay(p, stage) >= from && NoticeDay(p, stage) <= asOf).ToList();
            var unsent = due.Where(p => !alreadySent.Contains(p.Key(stage))).ToImmutableArray();
            var sent = due.Where(p => alreadySent.Contains(p.Key(stage))).ToImmutableArray();
            AddMails(mails, stage, unsent, alreadySent: false);
            AddMails(mails, stage, sent, alreadySent: true);
            newNotices.AddRange(unsent.Select(p => p.Key(stage)));
        }

        return new ExpiryRun(asOf, from, mails.ToImmutable(), newNotices.ToImmutable());
    }

    /// <summary>
    /// Probes expiring within <paramref name="withinDays"/> after <paramref name="asOf"/> and those that
    /// expired within <paramref name="withinDays"/> before it, optionally only those
    /// <paramref name="owner"/> owns (case-insensitive); by expiry date, then name.
    /// </summary>
    public ImmutableArray<ExpiringProbeStatus> Expiring(DateOnly asOf, int withinDays, string? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(withinDays);
        var wanted = owner?.Trim();
        return Probes
            .Select(p => (Probe: p, DaysLeft: p.ExpiryDate.DayNumber - asOf.DayNumber))
            .Where(x => Math.Abs((long)x.DaysLeft) <= withinDays)
            .Where(x => string.IsNullOrEmpty(wanted) || x.Probe.Owners.Contains(wanted, StringComparer.OrdinalIgnoreCase))
            .Select(x => new ExpiringProbeStatus(
                x.Probe.Name,
                x.Probe.ExpiresInVersion,
                x.Probe.ExpiryDate,
                x.DaysLeft,
                Expired: x.DaysLeft <= 0,
                x.Probe.Owners,
                x.Probe.Train.Projected))
            .ToImmutableArray();
    }

    private void AddMails(ImmutableArray<ExpiryMail>.Builder mails, NoticeStage stage, ImmutableArray<ProbeExpiry> probes, bool alreadySent)
    {
        if (probes.IsEmpty)
        {
            return;
        }

        var listRecipients = new List<string> { Settings.ListAddress.Trim() };
        if (stage == NoticeStage.Final &&
            !string.IsNullOrWhiteSpace(Settings.SheriffAddress) &&
            !listRecipients.Contains(Settings.SheriffAddress.Trim(), StringComparer.OrdinalIgnoreCase))
        {
            listRecipients.Add(Settings.SheriffAddress.Trim());
        }

        mails.Add(new ExpiryMail(stage, MailAudience.List, [.. listRecipients], probes, alreadySent));

        // An owner who is also a list recipient already has every probe in the list mail.
        var byOwner = new SortedDictionary<string, List<ProbeExpiry>>(StringComparer.OrdinalIgnoreCase);
        foreach (var probe in probes)
        {
            foreach (var owner in probe.Owners)
            {
                if (listRecipients.Contains(owner, StringComparer.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (!byOwner.TryGetValue(owner, out var owned))
                {
                    byOwner[owner] = owned = [];
                }

                owned.Add(probe);
            }
        }

        foreach (var (owner, owned) in byOwner)
        {
            mails.Add(new ExpiryMail(stage, MailAudience.Owner, [owner], [.. owned], alreadySent));
        }
    }
}
