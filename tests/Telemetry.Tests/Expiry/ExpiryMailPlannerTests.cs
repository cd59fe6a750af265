using System.Collections.Immutable;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Probes;
using static Telemetry.Tests.Expiry.ExpiryScheduleTests;

namespace Telemetry.Tests.Expiry;

/// <summary>
/// Who gets which expiry mail once owners' opt-outs and expiry subscriptions are taken into account,
/// and which unsubscribe link each mail carries (docs/expiry.md, "Who gets which mail"). The day is
/// 2029-12-24 of <see cref="ExpiryScheduleTests"/>: first notice of A, B, C (owners a; b and A@X; c),
/// final notice of OLD (owner old).
/// </summary>
public sealed class ExpiryMailPlannerTests
{
    private const string Day = "2029-12-24";

    private static readonly ExpiryMailPlanner Planner = new(new ExpiryMailComposer(Settings), new FakeLinks(), new ExpiryPortalLinks("https://portal.example.org/"));

    private static readonly IReadOnlyDictionary<string, IReadOnlySet<string>> NoOptOuts = new Dictionary<string, IReadOnlySet<string>>();

    internal static Subscription Sub(long id, string email, string? glob = null, bool mine = false, bool paused = false, Delivery delivery = Delivery.Immediate) => new()
    {
        Id = id,
        Email = email,
        Kind = AlertKinds.Expiry,
        Params = new SubscriptionParams { Expiry = new ExpiryParams(glob, mine) },
        Delivery = delivery,
        DigestHour = 0,
        Paused = paused,
        CreatedAt = DateTimeOffset.UnixEpoch,
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    private static ExpiryRun Run(string day = Day, IReadOnlySet<NoticeKey>? sent = null) =>
        Schedule.Due(D(day), sent ?? ImmutableHashSet<NoticeKey>.Empty, D(day).AddDays(-1));

    /// <summary>"first owner [a@x.org] A,B unsubscribe=owner:a@x.org:A rows=1".</summary>
    private static string Describe(PlannedExpiryMail m) =>
        $"{m.Stage.WireName()} {m.Audience.ToString().ToLowerInvariant()}{(m.AlreadySent ? " (sent)" : "")} [{string.Join(",", m.To)}] " +
        $"{string.Join(",", m.Probes.Select(p => p.Name))} unsubscribe={Unsubscribe(m)} rows={m.Outbox.Length}";

    private static string Unsubscribe(PlannedExpiryMail m) =>
        m.Outbox.IsEmpty ? "-" : m.Outbox.Select(o => o.UnsubscribeUrl?.Replace(FakeLinks.Base, "", StringComparison.Ordinal) ?? "none").Distinct().Single();

    private static Dictionary<string, IReadOnlySet<string>> OptOuts(params (string Probe, string[] Owners)[] entries) =>
        entries.ToDictionary(e => e.Probe, e => (IReadOnlySet<string>)e.Owners.ToHashSet(), StringComparer.Ordinal);

    [Fact]
    public void Without_subscriptions_owners_and_the_list_get_what_the_schedule_says_with_an_opt_out_link_per_probe()
    {
        var plan = Planner.Plan(Run(), [], NoOptOuts);

        Seq.Equal(
        [
            $"first list [{List}] A,B,C unsubscribe=none rows=1",
            "first owner [a@x.org] A,B unsubscribe=owner/a@x.org/A rows=1",
            "first owner [b@x.org] B unsubscribe=owner/b@x.org/B rows=1",
            "first owner [c@x.org] C unsubscribe=owner/c@x.org/C rows=1",
            $"final list [{List},{Sheriff}] OLD unsubscribe=none rows=2",
            "final owner [old@x.org] OLD unsubscribe=owner/old@x.org/OLD rows=1",
        ], plan.Mails.Select(Describe));

        var toA = plan.Mails.Single(m => m.To[0] == "a@x.org").Outbox.Single();
        Assert.Equal(MailKinds.Expiry, toA.Kind);
        Assert.Equal("[Telemetry] First notice: 2 probes expire on 2030-02-04 (Firefox 101)", toA.Subject);
        Assert.Contains($"Stop mail about A as its owner: {FakeLinks.Base}owner/a@x.org/A\n", toA.TextBody, StringComparison.Ordinal);
        Assert.Contains($"Stop mail about B as its owner: {FakeLinks.Base}owner/a@x.org/B\n", toA.TextBody, StringComparison.Ordinal);
        Assert.Contains("unsubscribe button stops mail about A only; use the links above for the others.", toA.TextBody, StringComparison.Ordinal);
        Assert.Contains("Every expiring probe: https://portal.example.org/expiring\n", toA.TextBody, StringComparison.Ordinal);

        // The list's mail has the portal link but nothing to unsubscribe from.
        var toList = plan.Mails[0].Outbox.Single();
        Assert.Contains("Every expiring probe: https://portal.example.org/expiring\n", toList.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Stop mail", toList.TextBody, StringComparison.Ordinal);

        Seq.Equal(
        [
            "A 101.0a1 First 2030-02-04 2029-12-24",
            "B 101.0a1 First 2030-02-04 2029-12-24",
            "C 100.0b2 First 2030-02-04 2029-12-24",
            "OLD 100.0a1 Final 2030-01-07 2029-12-24",
        ], plan.NewNotices.Select(n => $"{n.Key.Probe} {n.Key.Version} {n.Key.Stage} {n.ExpiryDate:yyyy-MM-dd} {n.AsOf:yyyy-MM-dd}"));
    }

    [Fact]
    public void An_owner_who_opted_out_of_a_probe_is_not_mailed_about_it_but_still_about_their_others()
    {
        var plan = Planner.Plan(Run(), [], OptOuts(("B", ["A@X.ORG"]), ("C", ["c@x.org"])));

        Seq.Equal(
        [
            $"first list [{List}] A,B,C unsubscribe=none rows=1",
            "first owner [a@x.org] A unsubscribe=owner/a@x.org/A rows=1",
            "first owner [b@x.org] B unsubscribe=owner/b@x.org/B rows=1",
            $"final list [{List},{Sheriff}] OLD unsubscribe=none rows=2",
            "final owner [old@x.org] OLD unsubscribe=owner/old@x.org/OLD rows=1",
        ], plan.Mails.Select(Describe));
        // Opting out changes who is mailed, not what is recorded: C's notice went to the list.
        Assert.Contains(plan.NewNotices, n => n.Key.Probe == "C");
    }

    [Fact]
    public void Subscribers_get_the_probes_their_subscriptions_match_one_mail_per_person_and_stage_with_the_subscription_link()
    {
        Subscription[] subscriptions =
        [
            Sub(7, "watcher@y.org", glob: "*"),
            Sub(8, "a@x.org", mine: true),           // owns A and B: one mail, not two
            Sub(9, "c@x.org", glob: "O?D"),          // owns C (first), watches OLD (final)
            Sub(10, List, glob: "*"),                // the list has every probe already
            Sub(11, "paused@y.org", glob: "*", paused: true),
            Sub(12, "b@x.org", glob: "A"),           // owns B, watches A: one mail with both
            Sub(13, "old@x.org", mine: true),        // opted out of OLD as its owner, subscribed to it all the same
            Sub(14, "nomatch@y.org", glob: "GC_*"),
        ];

        var plan = Planner.Plan(Run(), subscriptions, OptOuts(("OLD", ["old@x.org"])));

        Seq.Equal(
        [
            $"first list [{List}] A,B,C unsubscribe=none rows=1",
            "first owner [a@x.org] A,B unsubscribe=subscription/8 rows=1",
            "first ownerandsubscriber [b@x.org] A,B unsubscribe=subscription/12 rows=1",
            "first owner [c@x.org] C unsubscribe=owner/c@x.org/C rows=1",
            "first subscriber [watcher@y.org] A,B,C unsubscribe=subscription/7 rows=1",
            $"final list [{List},{Sheriff}] OLD unsubscribe=none rows=2",
            "final subscriber [c@x.org] OLD unsubscribe=subscription/9 rows=1",
            "final subscriber [old@x.org] OLD unsubscribe=subscription/13 rows=1",
            "final subscriber [watcher@y.org] OLD unsubscribe=subscription/7 rows=1",
        ], plan.Mails.Select(Describe));

        var toB = plan.Mails.Single(m => m.To[0] == "b@x.org").Outbox.Single().TextBody;
        Assert.Contains("owner (alert_emails) of some of the probes below and your probe expiry subscription matches the others", toB, StringComparison.Ordinal);
        Assert.Contains($"Stop mail about B as its owner: {FakeLinks.Base}owner/b@x.org/B\n", toB, StringComparison.Ordinal);
        Assert.Contains($"Pause your subscription 12 (probes matching \"A\"): {FakeLinks.Base}subscription/12\n", toB, StringComparison.Ordinal);
        Assert.Contains("unsubscribe button pauses subscription 12.", toB, StringComparison.Ordinal);

        var toWatcher = plan.Mails.First(m => m.To[0] == "watcher@y.org").Outbox.Single().TextBody;
        Assert.Contains("because your probe expiry subscription matches the probes below", toWatcher, StringComparison.Ordinal);
        Assert.DoesNotContain("as its owner", toWatcher, StringComparison.Ordinal);
    }

    [Fact]
    public void A_digest_subscriber_gets_the_mail_in_their_digest_unless_an_immediate_subscription_or_an_owned_probe_asks_for_it_now()
    {
        Subscription[] subscriptions =
        [
            Sub(1, "digest@y.org", glob: "*", delivery: Delivery.Digest),
            Sub(2, "both@y.org", glob: "A", delivery: Delivery.Digest),
            Sub(3, "both@y.org", glob: "B", delivery: Delivery.Immediate),
            Sub(4, "a@x.org", mine: true, delivery: Delivery.Digest),      // covers every probe a owns
            Sub(5, "c@x.org", glob: "OLD", delivery: Delivery.Digest),    // does not cover C, which c owns
        ];
        var plan = Planner.Plan(Run(), subscriptions, NoOptOuts);

        Seq.Equal(
        [
            $"first {List} now",
            "first a@x.org digest",
            "first b@x.org now",
            "first both@y.org now",
            "first c@x.org now",
            "first digest@y.org digest",
            $"final {List} now",
            $"final {Sheriff} now",
            "final c@x.org digest",
            "final digest@y.org digest",
            "final old@x.org now",
        ], plan.Mails.SelectMany(m => m.Outbox.Select(o => $"{m.Stage.WireName()} {o.Recipient} {(o.ForDigest ? "digest" : "now")}")));
    }

    [Fact]
    public void Notices_sent_before_are_reported_with_their_recipients_and_queue_nothing()
    {
        var sent = ImmutableHashSet.Create(new NoticeKey("A", "101.0a1", NoticeStage.First), new NoticeKey("B", "101.0a1", NoticeStage.First));
        var plan = Planner.Plan(Run(sent: sent), [Sub(7, "watcher@y.org", glob: "A")], NoOptOuts);

        Seq.Equal(
        [
            $"first list [{List}] C unsubscribe=none rows=1",
            "first owner [c@x.org] C unsubscribe=owner/c@x.org/C rows=1",
            $"first list (sent) [{List}] A,B unsubscribe=- rows=0",
            "first owner (sent) [a@x.org] A,B unsubscribe=- rows=0",
            "first owner (sent) [b@x.org] B unsubscribe=- rows=0",
            "first subscriber (sent) [watcher@y.org] A unsubscribe=- rows=0",
            $"final list [{List},{Sheriff}] OLD unsubscribe=none rows=2",
            "final owner [old@x.org] OLD unsubscribe=owner/old@x.org/OLD rows=1",
        ], plan.Mails.Select(Describe));
        Assert.DoesNotContain(plan.NewNotices, n => n.Key.Probe is "A" or "B");
    }

    [Fact]
    public void An_owner_entry_that_is_not_an_address_is_reported_and_the_other_owners_are_mailed()
    {
        var schedule = new ExpirySchedule([new ExpiringProbe("P", "101", ["nobody", "ok@x.org"])], Calendar, Settings);
        var plan = Planner.Plan(schedule.Due(D(Day), ImmutableHashSet<NoticeKey>.Empty, null), [], NoOptOuts);

        Seq.Equal(
        [
            $"first list [{List}] P unsubscribe=none rows=1",
            "first owner [ok@x.org] P unsubscribe=owner/ok@x.org/P rows=1",
        ], plan.Mails.Select(Describe));
        Seq.Equal(["nobody"], plan.UnusableAddresses);
    }

    [Fact]
    public async Task A_later_mail_to_the_same_person_about_other_probes_is_queued_not_taken_for_the_earlier_one()
    {
        var outbox = new MemoryOutboxStore(TimeProvider.System);
        var first = Planner.Plan(Run("2029-12-24"), [], NoOptOuts);  // a@x.org: A, B (first notice)
        var final = Planner.Plan(Run("2030-01-21"), [], NoOptOuts);  // a@x.org: A, B (final notice)
        // The same day again once only B's notice is new (say B was added to the definitions since).
        var sentButB = ImmutableHashSet.Create(
            new NoticeKey("A", "101.0a1", NoticeStage.First), new NoticeKey("C", "100.0b2", NoticeStage.First), new NoticeKey("OLD", "100.0a1", NoticeStage.Final));
        var firstAgainLater = Planner.Plan(Schedule.Due(D("2029-12-24"), sentButB, null), [], NoOptOuts);
        Seq.Equal([List, "a@x.org", "b@x.org"], firstAgainLater.Outbox.Select(m => m.Recipient));

        var queued = await outbox.EnqueueAsync([.. first.Outbox, .. final.Outbox], default);
        Assert.All(queued, r => Assert.False(r.AlreadyQueued));
        // The list and a@x.org had a mail of this stage and day already, about other probes: a new one is queued.
        var later = await outbox.EnqueueAsync([.. firstAgainLater.Outbox.Where(m => m.Recipient != "b@x.org")], default);
        Assert.Equal(2, later.Count);
        Assert.All(later, r => Assert.False(r.AlreadyQueued));
        Assert.Matches("^expiry:first:2029-12-24:[0-9a-f]{16}$", first.Outbox[0].AlertKey);
    }

    [Theory]
    [InlineData("GC_*", "GC_MS", true)]
    [InlineData("GC_*", "GC_", true)]
    [InlineData("GC_*", "XGC_MS", false)]
    [InlineData("*_MS", "GC_MS", true)]
    [InlineData("*_MS", "GC_MS_X", false)]
    [InlineData("G?_MS", "GC_MS", true)]
    [InlineData("G?_MS", "G_MS", false)]
    [InlineData("*", "ANYTHING", true)]
    [InlineData("A*B*C", "AxxByyC", true)]
    [InlineData("A*B*C", "AxxCyyB", false)]
    [InlineData("GC_MS", "GC_MS", true)]
    [InlineData("gc_*", "GC_MS", true)]
    public void Metric_globs_match_probe_names_ignoring_case(string glob, string name, bool matches)
    {
        var schedule = new ExpirySchedule([new ExpiringProbe(name, "101")], Calendar, Settings);
        var plan = Planner.Plan(schedule.Due(D(Day), ImmutableHashSet<NoticeKey>.Empty, null), [Sub(1, "watcher@y.org", glob: glob)], NoOptOuts);
        Assert.Equal(matches, plan.Mails.Any(m => m.To.Contains("watcher@y.org")));
    }

    private sealed class FakeLinks : IUnsubscribeLinks
    {
        public const string Base = "https://portal.example.org/unsubscribe/";

        public string ForSubscription(long subscriptionId) => $"{Base}subscription/{subscriptionId}";

        public string ForOwner(string email, string probe) => $"{Base}owner/{email}/{probe}";
    }
}
