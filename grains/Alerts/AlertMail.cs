using System.Globalization;
using System.Text;
using Telemetry.Grains.Notifications;

namespace Telemetry.Grains.Alerts;

/// <summary>
/// The mails of the notification core (docs/alerts.md, "Mail"): one per (alert firing, recipient) and the
/// daily digest. Links point to the portal (<c>Portal:BaseUrl</c>); every mail carries its unsubscribe link.
/// </summary>
public sealed class AlertMail(string portalBaseUrl, IUnsubscribeLinks links)
{
    private readonly string _base = portalBaseUrl.TrimEnd('/');

    /// <summary>The alert's permanent portal page.</summary>
    public string AlertUrl(long id) => string.Create(CultureInfo.InvariantCulture, $"{_base}/alerts/{id}");

    /// <summary>The outbox key of an alert's mail: the first firing is <c>alert:ID</c>, a re-fire after resolution <c>alert:ID:N</c>.</summary>
    public static string MailKey(AlertRecord a)
    {
        int n = AlertLifecycle.Firings(a);
        return n == 1
            ? string.Create(CultureInfo.InvariantCulture, $"alert:{a.Id}")
            : string.Create(CultureInfo.InvariantCulture, $"alert:{a.Id}:{n}");
    }

    public OutboxMail Compose(AlertRecord a, PlannedRecipient to)
    {
        string? unsubscribe = to.SubscriptionId is { } sid ? links.ForSubscription(sid)
            : to.OwnedProbe is { } probe ? links.ForOwner(to.Email, probe)
            : null;
        string subject = (a.State == AlertState.Regressed ? "[regressed] " : "") + OneLine(a.Title);
        var body = new StringBuilder();
        if (a.State == AlertState.Regressed)
        {
            body.Append("This alert was resolved and has fired again.\n\n");
        }
        body.Append(a.Summary.TrimEnd()).Append("\n\n");
        body.Append("Details, history and actions: ").Append(AlertUrl(a.Id)).Append('\n');
        body.Append('\n');
        body.Append(to.SubscriptionId is { } id
            ? string.Create(CultureInfo.InvariantCulture, $"You receive this because of your subscription #{id}.")
            : $"You receive this because you are listed as an owner of {to.OwnedProbe ?? "this probe"} (alert_emails).");
        body.Append('\n');
        if (unsubscribe is not null)
        {
            body.Append(to.SubscriptionId is not null ? "Stop these mails (pauses the subscription): " : "Stop mails about this probe: ")
                .Append(unsubscribe).Append('\n');
        }
        return new OutboxMail(MailKey(a), to.Email, a.Kind, subject, body.ToString(), HtmlBody: null, UnsubscribeUrl: unsubscribe, ForDigest: to.ForDigest);
    }

    /// <summary>
    /// The digest of one recipient: every folded mail, grouped by kind, each with its subject and link.
    /// Its key names the period (<paramref name="periodEnd"/>) and the first row, so it is queued once.
    /// </summary>
    public OutboxMail ComposeDigest(string recipient, IReadOnlyList<OutboxRow> rows, DateTimeOffset periodEnd)
    {
        var body = new StringBuilder();
        body.Append(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count} {(rows.Count == 1 ? "alert" : "alerts")} since your last digest (until {periodEnd:yyyy-MM-dd HH:mm} UTC).\n"));
        foreach (var group in rows.GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            body.Append('\n').Append(KindTitle(group.Key)).Append(string.Create(CultureInfo.InvariantCulture, $" ({group.Count()})\n"));
            foreach (var row in group)
            {
                body.Append("- ").Append(row.Subject).Append('\n');
                if (AlertIdOf(row.AlertKey) is { } id)
                {
                    body.Append("  ").Append(AlertUrl(id)).Append('\n');
                }
            }
        }
        var unsubscribes = rows.Select(r => r.UnsubscribeUrl).Where(u => u is not null).Distinct().ToList();
        if (unsubscribes.Count > 0)
        {
            body.Append("\nStop mails of a subscription or probe listed here:\n");
            foreach (var u in unsubscribes)
            {
                body.Append("- ").Append(u).Append('\n');
            }
        }
        string subject = string.Create(CultureInfo.InvariantCulture,
            $"Telemetry digest: {rows.Count} {(rows.Count == 1 ? "alert" : "alerts")} ({periodEnd:yyyy-MM-dd})");
        string key = string.Create(CultureInfo.InvariantCulture, $"digest:{periodEnd:yyyy-MM-ddTHH}:{rows[0].Id}");
        // List-Unsubscribe takes the link of the only subscription when there is just one.
        return new OutboxMail(key, recipient, MailKinds.Digest, subject, body.ToString(), UnsubscribeUrl: unsubscribes.Count == 1 ? unsubscribes[0] : null);
    }

    /// <summary>The alert an outbox key of <see cref="MailKey"/> names (<c>alert:{id}</c>, <c>alert:{id}:{n}</c>); null for other mail (digests, expiry notices).</summary>
    public static long? AlertIdOf(string key)
    {
        if (!key.StartsWith("alert:", StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key.AsSpan("alert:".Length);
        int colon = rest.IndexOf(':');
        return long.TryParse(colon < 0 ? rest : rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out long id) ? id : null;
    }

    private static string KindTitle(string kind) => kind switch
    {
        AlertKinds.Regression => "Histogram regressions",
        AlertKinds.Expiry => "Expiring probes",
        AlertKinds.CrashRate => "Crash rates",
        AlertKinds.Sentry => "Browser errors",
        _ => kind,
    };

    private static string OneLine(string s)
    {
        string line = new(s.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
        return line.Length <= OutboxMail.MaxSubjectLength ? line : line[..(OutboxMail.MaxSubjectLength - 1)] + "…";
    }
}
