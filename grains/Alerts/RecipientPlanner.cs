namespace Telemetry.Grains.Alerts;

/// <summary>One person to tell about an alert, and how.</summary>
/// <param name="Email">Lower-case address.</param>
/// <param name="ForDigest">Into their next digest instead of a mail of its own.</param>
/// <param name="SubscriptionId">The subscription that matched (its unsubscribe link goes in the mail); null for a probe owner told without subscribing.</param>
/// <param name="OwnedProbe">Set for a probe owner told without subscribing: the probe (their opt-out link names it).</param>
public sealed record PlannedRecipient(string Email, bool ForDigest, long? SubscriptionId, string? OwnedProbe);

/// <summary>
/// Decides who hears about an alert (docs/alerts.md, "Who hears about an alert"): the owners it names
/// (a probe's <c>alert_emails</c>) minus those who opted out of that probe, and the owners of matching,
/// unpaused subscriptions; each person once. A person's own matching subscription decides their
/// delivery (immediate wins over digest when several match); an owner with none gets it immediately.
/// </summary>
public static class RecipientPlanner
{
    public static IReadOnlyList<PlannedRecipient> Plan(AlertDraft alert, IEnumerable<Subscription> subscriptions, IReadOnlySet<string> optedOutOwners)
    {
        var chosen = new Dictionary<string, PlannedRecipient>(StringComparer.Ordinal);
        foreach (var s in subscriptions.Where(s => SubscriptionMatcher.Matches(s, alert)).OrderBy(s => s.Id))
        {
            string email = s.Email.Trim().ToLowerInvariant();
            bool digest = s.Delivery == Delivery.Digest;
            if (!chosen.TryGetValue(email, out var current) || (current.ForDigest && !digest))
            {
                chosen[email] = new PlannedRecipient(email, digest, s.Id, null);
            }
        }
        // A rule raised for one subscription (crash rates) is that person's business only.
        if (alert.Target.SubscriptionId is null)
        {
            foreach (var owner in alert.Owners)
            {
                string email = owner.Trim().ToLowerInvariant();
                if (email.Length == 0 || chosen.ContainsKey(email) || optedOutOwners.Contains(email))
                {
                    continue;
                }
                chosen[email] = new PlannedRecipient(email, ForDigest: false, SubscriptionId: null, OwnedProbe: alert.Target.Subject);
            }
        }
        return chosen.Values.OrderBy(r => r.Email, StringComparer.Ordinal).ToList();
    }
}
