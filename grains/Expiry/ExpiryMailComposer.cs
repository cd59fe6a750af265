using System.Globalization;
using System.Text;

namespace Telemetry.Grains.Expiry;

/// <summary>The subject and plain-text body of an expiry mail.</summary>
public sealed record ComposedMail(string Subject, string Body);

/// <summary>
/// Writes expiry mails: which probes expire on which date, in which version, who owns them, and
/// what to do (remove the probe, or extend <c>expires_in_version</c> after a data review).
/// See docs/expiry.md.
/// </summary>
public sealed class ExpiryMailComposer
{
    private readonly ExpiryNoticeSettings settings;
    private readonly int cadenceDays;

    public ExpiryMailComposer(ExpiryNoticeSettings settings, int cadenceDays = ReleaseCalendar.DefaultCadenceDays)
    {
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings;
        this.cadenceDays = cadenceDays;
    }

    /// <summary>
    /// Composes <paramref name="mail"/> as sent on <paramref name="asOf"/> (days left are counted from it);
    /// <paramref name="footer"/> lines (links: unsubscribe, the portal) go before the closing line.
    /// </summary>
    public ComposedMail Compose(ExpiryMail mail, DateOnly asOf, IReadOnlyList<string>? footer = null)
    {
        ArgumentNullException.ThrowIfNull(mail);
        if (mail.Probes.IsEmpty)
        {
            throw new ArgumentException("A mail without probes cannot be composed.", nameof(mail));
        }

        return new ComposedMail(Subject(mail), Body(mail, asOf, footer ?? []));
    }

    private static string Subject(ExpiryMail mail)
    {
        var stage = mail.Stage == NoticeStage.First ? "First notice" : "Final notice";
        var count = mail.Probes.Length == 1 ? "1 probe expires" : $"{mail.Probes.Length} probes expire";
        var first = mail.Probes.Min(p => p.ExpiryDate);
        var last = mail.Probes.Max(p => p.ExpiryDate);
        var when = first == last
            ? $"on {Format(first)} (Firefox {mail.Probes[0].Train.Major})"
            : $"between {Format(first)} and {Format(last)}";
        return $"[Telemetry] {stage}: {count} {when}";
    }

    private string Body(ExpiryMail mail, DateOnly asOf, IReadOnlyList<string> footer)
    {
        var text = new MailText();
        var days = settings.DaysBefore(mail.Stage);
        text.AppendLine(mail.Stage == NoticeStage.First
            ? $"This is the first notice, {days} days ahead, about Telemetry probes that are about to expire."
            : $"This is the final notice, {days} days ahead, about Telemetry probes that are about to expire. " +
              $"A first notice went out {settings.FirstNoticeDays} days ahead.");
        text.AppendLine(mail.Audience switch
        {
            MailAudience.Owner => "You receive it because you are listed as an owner (alert_emails) of the probes below.",
            MailAudience.Subscriber => "You receive it because your probe expiry subscription matches the probes below.",
            MailAudience.OwnerAndSubscriber =>
                "You receive it because you are listed as an owner (alert_emails) of some of the probes below and your probe expiry subscription matches the others.",
            _ => "You receive it as a list that is told about every expiring probe.",
        });
        text.AppendLine();
        text.AppendLine("A probe stops recording in every build whose version is at or after its expires_in_version. " +
                        "The first such builds are the Nightly builds of that version, from the day Nightly moves to it: that day is the expiry date.");

        var anyProjected = false;
        foreach (var group in mail.Probes.GroupBy(p => p.Train).OrderBy(g => g.Key.NightlyStart))
        {
            var train = group.Key;
            anyProjected |= train.Projected;
            text.AppendLine();
            text.AppendLine(
                $"Expiring on {Format(train.NightlyStart)} ({Relative(train.NightlyStart, asOf)}{(train.Projected ? ", projected" : "")}), " +
                $"when Nightly becomes {train.Major}.0a1 (Firefox {train.Major}, release {Format(train.Release)}):");
            foreach (var probe in group.OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                text.AppendLine($"  - {probe.Name}");
                text.AppendLine($"      expires_in_version: {probe.ExpiresInVersion}");
                text.AppendLine($"      owners: {(probe.Owners.IsEmpty ? "none listed" : string.Join(", ", probe.Owners))}");
            }
        }

        text.AppendLine();
        text.AppendLine("What to do for each probe:");
        text.AppendLine("  * If its data is no longer needed, remove the probe: delete its definition and the code that records it.");
        text.AppendLine("  * If it is still needed, extend expires_in_version to a later version (or \"never\"). " +
                        "Extending collection needs a data review: request one before landing the change.");
        text.AppendLine("If nothing is done, the probe stops recording on its expiry date.");
        text.AppendLine();
        if (anyProjected)
        {
            text.AppendLine($"A projected date lies beyond the release calendar's last known version and assumes {cadenceDays} days per version.");
        }

        foreach (var line in footer)
        {
            text.AppendLine(line);
        }

        if (footer.Count > 0)
        {
            text.AppendLine();
        }

        text.AppendLine($"Sent for {Format(asOf)} by the Telemetry expiry schedule.");
        return text.ToString();
    }

    // Bodies end lines with "\n" on every OS; the mail transport applies its own line ends.
    private sealed class MailText
    {
        private readonly StringBuilder builder = new();

        public void AppendLine(string line = "") => builder.Append(line).Append('\n');

        public override string ToString() => builder.ToString();
    }

    private static string Relative(DateOnly date, DateOnly asOf)
    {
        var days = date.DayNumber - asOf.DayNumber;
        return days switch
        {
            0 => "today",
            1 => "in 1 day",
            > 1 => $"in {days} days",
            -1 => "1 day ago",
            _ => $"{-days} days ago",
        };
    }

    private static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
