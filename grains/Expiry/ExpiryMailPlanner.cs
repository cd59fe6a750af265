using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// A mail of a run as planned: its stage, audience, recipients and probes, and, unless its notices
/// went out before (<see cref="AlreadySent"/>), one outbox mail per recipient.
/// </summary>
public sealed record PlannedExpiryMail(
    NoticeStage Stage,
    MailAudience Audience,
    ImmutableArray<string> To,
    ImmutableArray<ProbeExpiry> Probes,
    bool AlreadySent,
    ImmutableArray<OutboxMail> Outbox);

/// <summary>
/// Every mail of a run, the notices to record with them, and the owner or subscriber addresses that
/// could not be mailed (not an email address), which are left out and reported.
/// </summary>
public sealed record ExpiryMailPlan(
    ExpiryRun Run,
    ImmutableArray<PlannedExpiryMail> Mails,
    ImmutableArray<SentNotice> NewNotices,
    ImmutableArray<string> UnusableAddresses)
{
    /// <summary>The outbox mails to queue, one per (mail, recipient).</summary>
    public IReadOnlyList<OutboxMail> Outbox => [.. Mails.SelectMany(m => m.Outbox)];
}

/// <summary>
/// Turns a run of the notice schedule into the mails people get (docs/expiry.md, "Who gets which
/// mail"): the list mail of each stage as the schedule made it, and one mail per person with the
/// probes they own (unless they opted out of a probe) and the probes their active expiry
/// subscriptions match, each with its unsubscribe links. Pure: the caller reads subscriptions and
/// opt-outs and queues the result.
/// </summary>
public sealed class ExpiryMailPlanner
{
    private readonly ExpiryMailComposer composer;
    private readonly IUnsubscribeLinks links;
    private readonly ExpiryPortalLinks portal;

    public ExpiryMailPlanner(ExpiryMailComposer composer, IUnsubscribeLinks links, ExpiryPortalLinks portal)
    {
        ArgumentNullException.ThrowIfNull(composer);
        ArgumentNullException.ThrowIfNull(links);
        ArgumentNullException.ThrowIfNull(portal);
        this.composer = composer;
        this.links = links;
        this.portal = portal;
    }

    /// <summary>
    /// Plans the mails of <paramref name="run"/>. <paramref name="subscriptions"/>: the active expiry
    /// subscriptions (others are ignored); <paramref name="optedOut"/>: per probe name, the owners who
    /// opted out of mail about it.
    /// </summary>
    public ExpiryMailPlan Plan(
        ExpiryRun run,
        IReadOnlyList<Subscription> subscriptions,
        IReadOnlyDictionary<string, IReadOnlySet<string>> optedOut)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(subscriptions);
        ArgumentNullException.ThrowIfNull(optedOut);

        var expirySubscriptions = subscriptions
            .Where(s => s.Kind == AlertKinds.Expiry && !s.Paused && s.Params.Expiry is not null)
            .OrderBy(s => s.Id)
            .ToList();
        var mails = ImmutableArray.CreateBuilder<PlannedExpiryMail>();
        var unusable = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);

        // The schedule makes one list mail per (stage, already sent) with every probe of it; the
        // personal mails are derived from it here, because subscriptions and opt-outs change who gets what.
        foreach (var listMail in run.Mails.Where(m => m.Audience == MailAudience.List))
        {
            mails.Add(ListMail(listMail, run.AsOf));
            var listRecipients = new HashSet<string>(listMail.To.Select(a => a.Trim()), StringComparer.OrdinalIgnoreCase);
            var people = new SortedDictionary<string, Person>(StringComparer.Ordinal);
            foreach (var probe in listMail.Probes)
            {
                var opted = optedOut.TryGetValue(probe.Name, out var o) ? o : null;
                bool OptedOut(string address) => opted is not null && opted.Any(x => string.Equals(x.Trim(), address, StringComparison.OrdinalIgnoreCase));

                foreach (var owner in probe.Owners)
                {
                    if (!listRecipients.Contains(owner) && !OptedOut(owner) && Address(owner, unusable) is { } address)
                    {
                        PersonFor(people, address).Owned.Add(probe.Name);
                    }
                }

                foreach (var subscription in expirySubscriptions)
                {
                    var parameters = subscription.Params.Expiry!;
                    // As in the notification core: an opt-out concerns owner mail; a subscription, "mine" included, is a wish of its own.
                    var matches = parameters.Mine
                        ? probe.Owners.Contains(subscription.Email, StringComparer.OrdinalIgnoreCase)
                        : parameters.Metric is { } glob && Glob.Matches(glob, probe.Name);
                    if (matches && !listRecipients.Contains(subscription.Email) && Address(subscription.Email, unusable) is { } address)
                    {
                        var person = PersonFor(people, address);
                        person.Subscribed.Add(probe.Name);
                        if (!person.Subscriptions.Any(s => s.Id == subscription.Id))
                        {
                            person.Subscriptions.Add(subscription);
                        }
                    }
                }
            }

            foreach (var (address, person) in people)
            {
                var probes = listMail.Probes.Where(p => person.Owned.Contains(p.Name) || person.Subscribed.Contains(p.Name)).ToImmutableArray();
                var audience = person.Subscribed.All(person.Owned.Contains)
                    ? MailAudience.Owner
                    : person.Owned.Count == 0 ? MailAudience.Subscriber : MailAudience.OwnerAndSubscriber;
                mails.Add(PersonMail(new ExpiryMail(listMail.Stage, audience, [address], probes, listMail.AlreadySent), person, run.AsOf));
            }
        }

        var expiryDates = run.Mails.SelectMany(m => m.Probes).DistinctBy(p => p.Name).ToDictionary(p => p.Name, p => p.ExpiryDate, StringComparer.Ordinal);
        var notices = run.NewNotices.Select(k => new SentNotice(k, expiryDates[k.Probe], run.AsOf)).ToImmutableArray();
        return new ExpiryMailPlan(run, mails.ToImmutable(), notices, [.. unusable]);
    }

    /// <summary>The outbox key of a mail: its stage, run day and a digest of its notices, so that a later run's mail never collides with it.</summary>
    public static string AlertKey(ExpiryMail mail, DateOnly asOf)
    {
        ArgumentNullException.ThrowIfNull(mail);
        var notices = string.Join("\n", mail.Notices.Select(n => $"{n.Probe}\u001f{n.Version}\u001f{n.Stage.WireName()}").Order(StringComparer.Ordinal));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(notices)))[..16];
        return string.Create(CultureInfo.InvariantCulture, $"expiry:{mail.Stage.WireName()}:{asOf:yyyy-MM-dd}:{digest}");
    }

    private PlannedExpiryMail ListMail(ExpiryMail mail, DateOnly asOf)
    {
        // The list and the sheriff are shared addresses an operator configures: nothing to unsubscribe from.
        var footer = portal.Expiring is { } url ? new[] { $"Every expiring probe: {url}" } : [];
        var outbox = mail.AlreadySent
            ? ImmutableArray<OutboxMail>.Empty
            : OutboxFor(mail, asOf, footer, unsubscribe: null);
        return new PlannedExpiryMail(mail.Stage, mail.Audience, mail.To, mail.Probes, mail.AlreadySent, outbox);
    }

    private PlannedExpiryMail PersonMail(ExpiryMail mail, Person person, DateOnly asOf)
    {
        var address = mail.To[0];
        var owned = mail.Probes.Where(p => person.Owned.Contains(p.Name)).Select(p => p.Name).ToList();
        var footer = new List<string> { "Links:" };
        foreach (var probe in owned)
        {
            footer.Add($"  Stop mail about {probe} as its owner: {links.ForOwner(address, probe)}");
        }

        foreach (var subscription in person.Subscriptions)
        {
            var what = subscription.Params.Expiry!.Mine ? "probes you own" : $"probes matching \"{subscription.Params.Expiry.Metric}\"";
            footer.Add(string.Create(CultureInfo.InvariantCulture,
                $"  Pause your subscription {subscription.Id} ({what}): {links.ForSubscription(subscription.Id)}"));
        }

        // One mail, one List-Unsubscribe link (docs/expiry.md): a subscription's when one contributed (it
        // covers the most), else the opt-out of the first probe, which the subject names.
        string unsubscribe;
        if (person.Subscriptions.Count > 0)
        {
            var first = person.Subscriptions.MinBy(s => s.Id)!;
            unsubscribe = links.ForSubscription(first.Id);
            footer.Add(string.Create(CultureInfo.InvariantCulture, $"  Your mail program's unsubscribe button pauses subscription {first.Id}."));
        }
        else
        {
            unsubscribe = links.ForOwner(address, owned[0]);
            footer.Add(owned.Count == 1
                ? $"  Your mail program's unsubscribe button stops mail about {owned[0]}."
                : $"  Your mail program's unsubscribe button stops mail about {owned[0]} only; use the links above for the others.");
        }

        if (portal.Expiring is { } url)
        {
            footer.Add($"  Every expiring probe: {url}");
        }

        // As for every alert: a person's subscriptions decide the delivery, immediate winning over digest,
        // and an owner told without a subscription gets the mail at once.
        var forDigest = person.Subscriptions.Count > 0
            && person.Subscriptions.All(s => s.Delivery == Delivery.Digest)
            && person.Owned.All(person.Subscribed.Contains);
        var outbox = mail.AlreadySent ? ImmutableArray<OutboxMail>.Empty : OutboxFor(mail, asOf, footer, unsubscribe, forDigest);
        return new PlannedExpiryMail(mail.Stage, mail.Audience, mail.To, mail.Probes, mail.AlreadySent, outbox);
    }

    private ImmutableArray<OutboxMail> OutboxFor(ExpiryMail mail, DateOnly asOf, IReadOnlyList<string> footer, string? unsubscribe, bool forDigest = false)
    {
        var composed = composer.Compose(mail, asOf, footer);
        var key = AlertKey(mail, asOf);
        return [.. mail.To.Select(to => new OutboxMail(key, to, MailKinds.Expiry, composed.Subject, composed.Body, UnsubscribeUrl: unsubscribe, ForDigest: forDigest))];
    }

    private static Person PersonFor(SortedDictionary<string, Person> people, string address)
    {
        if (!people.TryGetValue(address, out var person))
        {
            people[address] = person = new Person();
        }

        return person;
    }

    private static string? Address(string address, SortedSet<string> unusable)
    {
        try
        {
            return OutboxMail.NormalizeAddress(address);
        }
        catch (ArgumentException)
        {
            // An alert_emails entry such as "nobody" or a typo: the others still get their mail; the
            // caller logs the address (a definition to fix).
            unusable.Add(address);
            return null;
        }
    }

    private sealed class Person
    {
        public HashSet<string> Owned { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Subscribed { get; } = new(StringComparer.Ordinal);

        public List<Subscription> Subscriptions { get; } = [];
    }
}
