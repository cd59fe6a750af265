using System.Collections.Immutable;
using Telemetry.Grains.Expiry;
using static Telemetry.Tests.Expiry.ExpiryScheduleTests;

namespace Telemetry.Tests.Expiry;

public sealed class ExpiryMailComposerTests
{
    private static readonly ExpiryMailComposer Composer = new(Settings);

    private static ExpiryMail MailOf(string day, NoticeStage stage, MailAudience audience, string? to = null, DateOnly? lastRun = null) =>
        Schedule.Due(D(day), ImmutableHashSet<NoticeKey>.Empty, lastRun ?? D(day).AddDays(-1)).Mails
            .Single(m => m.Stage == stage && m.Audience == audience && (to is null || m.To.Contains(to)));

    [Fact]
    public void AnOwnerMailSaysWhatExpiresWhenAndWhatToDo()
    {
        var mail = Composer.Compose(MailOf("2030-02-18", NoticeStage.First, MailAudience.Owner, "a@x.org"), D("2030-02-18"));
        Assert.Equal("[Telemetry] First notice: 1 probe expires on 2030-04-01 (Firefox 103)", mail.Subject);
        Assert.Equal(
            """
            This is the first notice, 42 days ahead, about Telemetry probes that are about to expire.
            You receive it because you are listed as an owner (alert_emails) of the probes below.

            A probe stops recording in every build whose version is at or after its expires_in_version. The first such builds are the Nightly builds of that version, from the day Nightly moves to it: that day is the expiry date.

            Expiring on 2030-04-01 (in 42 days, projected), when Nightly becomes 103.0a1 (Firefox 103, release 2030-05-27):
              - E
                  expires_in_version: 103
                  owners: a@x.org

            What to do for each probe:
              * If its data is no longer needed, remove the probe: delete its definition and the code that records it.
              * If it is still needed, extend expires_in_version to a later version (or "never"). Extending collection needs a data review: request one before landing the change.
            If nothing is done, the probe stops recording on its expiry date.

            A projected date lies beyond the release calendar's last known version and assumes 28 days per version.
            Sent for 2030-02-18 by the Telemetry expiry schedule.

            """.ReplaceLineEndings("\n"),
            mail.Body);
    }

    [Fact]
    public void TheListMailNamesEveryProbeItsVersionAndOwners()
    {
        var mail = Composer.Compose(MailOf("2029-12-24", NoticeStage.First, MailAudience.List), D("2029-12-24"));
        Assert.Equal("[Telemetry] First notice: 3 probes expire on 2030-02-04 (Firefox 101)", mail.Subject);
        Assert.Contains("You receive it as a list that is told about every expiring probe.", mail.Body);
        Assert.Contains("Expiring on 2030-02-04 (in 42 days), when Nightly becomes 101.0a1 (Firefox 101, release 2030-04-01):", mail.Body);
        Assert.Contains("  - A\n      expires_in_version: 101\n      owners: a@x.org\n", mail.Body);
        Assert.Contains("  - B\n      expires_in_version: 101.0\n      owners: b@x.org, A@X.org\n", mail.Body);
        Assert.Contains("  - C\n      expires_in_version: 100.0b2\n      owners: c@x.org\n", mail.Body);
        Assert.True(mail.Body.IndexOf("  - A", StringComparison.Ordinal) < mail.Body.IndexOf("  - B", StringComparison.Ordinal));
        Assert.Contains("remove the probe", mail.Body);
        Assert.Contains("extend expires_in_version", mail.Body);
        Assert.Contains("data review", mail.Body);
        Assert.DoesNotContain("projected", mail.Body);
    }

    [Fact]
    public void TheFinalNoticeSaysSoAndShowsProbesWithoutOwners()
    {
        var mail = Composer.Compose(MailOf("2030-02-18", NoticeStage.Final, MailAudience.List), D("2030-02-18"));
        Assert.Equal("[Telemetry] Final notice: 1 probe expires on 2030-03-04 (Firefox 102)", mail.Subject);
        Assert.StartsWith("This is the final notice, 14 days ahead, about Telemetry probes that are about to expire. A first notice went out 42 days ahead.\n", mail.Body);
        Assert.Contains("  - D\n      expires_in_version: 102\n      owners: none listed\n", mail.Body);
        Assert.Contains("(in 14 days)", mail.Body);
    }

    [Fact]
    public void ACatchUpMailGroupsProbesByExpiryDateAndCountsDaysFromTheRun()
    {
        var list = MailOf("2030-02-20", NoticeStage.Final, MailAudience.List, lastRun: D("2030-01-15"));
        var mail = Composer.Compose(list, D("2030-02-20"));
        Assert.Equal("[Telemetry] Final notice: 4 probes expire between 2030-02-04 and 2030-03-04", mail.Subject);
        var expired = mail.Body.IndexOf("Expiring on 2030-02-04 (16 days ago), when Nightly becomes 101.0a1", StringComparison.Ordinal);
        var coming = mail.Body.IndexOf("Expiring on 2030-03-04 (in 12 days), when Nightly becomes 102.0a1", StringComparison.Ordinal);
        Assert.True(expired >= 0 && coming > expired, mail.Body);
        Assert.True(mail.Body.IndexOf("  - C", StringComparison.Ordinal) < coming);
        Assert.True(mail.Body.IndexOf("  - D", StringComparison.Ordinal) > coming);
    }

    [Fact]
    public void TheExpiryDayItselfIsToday()
    {
        var probe = Schedule.Probes.Single(p => p.Name == "D");
        var mail = new ExpiryMail(NoticeStage.Final, MailAudience.Owner, ["d@x.org"], [probe], AlreadySent: false);
        Assert.Contains("Expiring on 2030-03-04 (today)", Composer.Compose(mail, D("2030-03-04")).Body);
        Assert.Contains("(1 day ago)", Composer.Compose(mail, D("2030-03-05")).Body);
        Assert.Contains("(in 1 day)", Composer.Compose(mail, D("2030-03-03")).Body);
    }

    [Fact]
    public void AMailWithoutProbesIsRefused()
    {
        var empty = new ExpiryMail(NoticeStage.First, MailAudience.List, [List], [], AlreadySent: false);
        Assert.Throws<ArgumentException>(() => Composer.Compose(empty, D("2030-01-01")));
    }
}
