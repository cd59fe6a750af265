using System.Text.Json;
using Telemetry.Grains.Alerts;
using Telemetry.Silo.Alerts;

namespace Telemetry.Tests.Alerts;

/// <summary>The plain rules of the notification core: globs, who hears of an alert, the lifecycle, parameters, tokens.</summary>
public sealed class AlertRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 10, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("GC_*", "GC_MS", true)]
    [InlineData("gc_*", "GC_MS", true)]
    [InlineData("GC_*", "CYCLE_COLLECTOR", false)]
    [InlineData("*_MS", "GC_MS", true)]
    [InlineData("*_MS", "GC_MS_MAX", false)]
    [InlineData("GC_?S", "GC_MS", true)]
    [InlineData("GC_?S", "GC_MMS", false)]
    [InlineData("*", "ANYTHING", true)]
    [InlineData("A*B*C", "AxxBxxC", true)]
    [InlineData("A*B*C", "AxxCxxB", false)]
    [InlineData("GC_MS", "GC_MS", true)]
    [InlineData("GC_MS", "GC_MS2", false)]
    public void Globs_match_names_ignoring_case(string pattern, string name, bool expected) =>
        Assert.Equal(expected, Glob.Matches(pattern, name));

    private static Subscription Sub(long id, string email, string kind, SubscriptionParams p, Delivery delivery = Delivery.Immediate, bool paused = false) => new()
    {
        Id = id,
        Email = email,
        Kind = kind,
        Params = p,
        Delivery = delivery,
        DigestHour = 8,
        Paused = paused,
        CreatedAt = Now,
        UpdatedAt = Now,
    };

    private static SubscriptionParams Regression(string channel, string metric, double min = 0) =>
        new() { Regression = new RegressionParams(channel, metric, min) };

    private static AlertDraft RegressionDraft(string metric = "GC_MS", double score = 0.3, params string[] owners) =>
        new(AlertKinds.Regression, $"regression:nightly:{metric}:20261120:default", $"{metric} regressed", "text",
            new AlertTarget("nightly", metric, "default", new DateOnly(2026, 11, 20), score), owners);

    [Fact]
    public void A_regression_reaches_owners_and_matching_subscribers_once_each_and_nobody_else()
    {
        var subs = new[]
        {
            Sub(1, "gc-fan@example.org", AlertKinds.Regression, Regression("nightly", "GC_*")),
            Sub(2, "other-channel@example.org", AlertKinds.Regression, Regression("beta", "GC_*")),
            Sub(3, "other-metric@example.org", AlertKinds.Regression, Regression("nightly", "CC_*")),
            Sub(4, "picky@example.org", AlertKinds.Regression, Regression("nightly", "*", min: 0.5)),
            Sub(5, "paused@example.org", AlertKinds.Regression, Regression("nightly", "*"), paused: true),
            Sub(6, "owner@example.org", AlertKinds.Regression, Regression("nightly", "GC_MS"), Delivery.Digest),
            Sub(7, "gc-fan@example.org", AlertKinds.Regression, Regression("nightly", "GC_MS"), Delivery.Digest),
            Sub(8, "expiry@example.org", AlertKinds.Expiry, new SubscriptionParams { Expiry = new ExpiryParams("*", false) }),
        };
        var plan = RecipientPlanner.Plan(RegressionDraft("GC_MS", 0.3, "Owner@Example.org", "quiet-owner@example.org", "second-owner@example.org"),
            subs, new HashSet<string> { "quiet-owner@example.org" });

        Assert.Equal(["gc-fan@example.org", "owner@example.org", "second-owner@example.org"], plan.Select(p => p.Email));
        var fan = plan.Single(p => p.Email == "gc-fan@example.org");
        Assert.False(fan.ForDigest); // immediate wins over the same person's digest subscription
        Assert.Equal(1, fan.SubscriptionId);
        var owner = plan.Single(p => p.Email == "owner@example.org");
        Assert.True(owner.ForDigest); // an owner's own subscription decides their delivery
        Assert.Equal(6, owner.SubscriptionId);
        var second = plan.Single(p => p.Email == "second-owner@example.org");
        Assert.Null(second.SubscriptionId);
        Assert.Equal("GC_MS", second.OwnedProbe);
    }

    [Fact]
    public void A_crash_rate_alert_of_one_subscription_reaches_that_subscriber_only()
    {
        var p = new SubscriptionParams { CrashRate = new CrashRateParams("release", null, new Dictionary<string, string>(), 5, null, 3, 1000) };
        var subs = new[] { Sub(1, "a@example.org", AlertKinds.CrashRate, p), Sub(2, "b@example.org", AlertKinds.CrashRate, p) };
        var draft = new AlertDraft(AlertKinds.CrashRate, "crash:2:release", "t", "s", new AlertTarget("release", SubscriptionId: 2), ["owner@example.org"]);
        Assert.Equal(["b@example.org"], RecipientPlanner.Plan(draft, subs, new HashSet<string>()).Select(r => r.Email));
    }

    [Fact]
    public void Expiry_subscriptions_match_by_glob_or_by_ownership()
    {
        var mine = Sub(1, "me@example.org", AlertKinds.Expiry, new SubscriptionParams { Expiry = new ExpiryParams(null, true) });
        var glob = Sub(2, "x@example.org", AlertKinds.Expiry, new SubscriptionParams { Expiry = new ExpiryParams("GC_*", false) });
        var owned = new AlertDraft(AlertKinds.Expiry, "k", "t", "s", new AlertTarget(Subject: "CC_FOO"), ["ME@example.org"]);
        var gc = new AlertDraft(AlertKinds.Expiry, "k2", "t", "s", new AlertTarget(Subject: "GC_FOO"), ["someone@example.org"]);
        Assert.True(SubscriptionMatcher.Matches(mine, owned));
        Assert.False(SubscriptionMatcher.Matches(mine, gc));
        Assert.False(SubscriptionMatcher.Matches(glob, owned));
        Assert.True(SubscriptionMatcher.Matches(glob, gc));
    }

    private static AlertRecord Alert(AlertState state = AlertState.New) =>
        AlertRecords.New(7, RegressionDraft(), Now) with { State = state };

    [Fact]
    public void The_lifecycle_records_who_did_what_and_refuses_what_makes_no_sense()
    {
        var a = Alert();
        var ack = AlertLifecycle.Apply(a, AlertActions.Acknowledge, "ann@example.org", "looking", null, null, Now.AddMinutes(1));
        Assert.True(ack.Ok);
        Assert.Equal(AlertState.Acknowledged, ack.Alert!.State);
        var last = ack.Alert.History[^1];
        Assert.Equal(("ann@example.org", "acknowledge", AlertState.Acknowledged, "looking"), (last.By, last.Action, last.State, last.Comment));

        Assert.False(AlertLifecycle.Apply(ack.Alert, AlertActions.Acknowledge, "bob@example.org", null, null, null, Now).Ok);
        var resolved = AlertLifecycle.Apply(ack.Alert, AlertActions.Resolve, "bob@example.org", null, "https://bugzil.la/1", null, Now.AddMinutes(2)).Alert!;
        Assert.Equal(AlertState.Resolved, resolved.State);
        Assert.Equal("https://bugzil.la/1", resolved.History[^1].Bug);
        Assert.False(AlertLifecycle.Apply(resolved, AlertActions.Resolve, "bob@example.org", null, null, null, Now).Ok);

        var again = AlertLifecycle.Refire(resolved, Now.AddDays(1));
        Assert.Equal(AlertState.Regressed, again.State);
        Assert.Equal(2, AlertLifecycle.Firings(again));
        Assert.Equal("alert:7:2", AlertMail.MailKey(again));
        Assert.Equal("alert:7", AlertMail.MailKey(a));

        var reopened = AlertLifecycle.Apply(AlertLifecycle.Apply(a, AlertActions.Invalid, "c@example.org", null, null, null, Now).Alert!,
            AlertActions.Reopen, "c@example.org", null, null, null, Now).Alert!;
        Assert.Equal(AlertState.New, reopened.State);
    }

    [Fact]
    public void Snooze_and_mute_silence_an_alert_without_changing_its_state()
    {
        var a = Alert();
        Assert.True(AlertLifecycle.Apply(a, AlertActions.Snooze, "x@example.org", null, null, null, Now).BadRequest);
        Assert.True(AlertLifecycle.Apply(a, AlertActions.Snooze, "x@example.org", null, null, Now.AddHours(-1), Now).BadRequest);
        var snoozed = AlertLifecycle.Apply(a, AlertActions.Snooze, "x@example.org", null, null, Now.AddDays(2), Now).Alert!;
        Assert.Equal(AlertState.New, snoozed.State);
        Assert.True(snoozed.IsSilenced(Now.AddDays(1)));
        Assert.False(snoozed.IsSilenced(Now.AddDays(3)));
        var muted = AlertLifecycle.Apply(a, AlertActions.Mute, "x@example.org", null, null, null, Now).Alert!;
        Assert.True(muted.IsSilenced(Now.AddYears(1)));
        Assert.False(AlertLifecycle.Apply(muted, AlertActions.Unmute, "x@example.org", null, null, null, Now).Alert!.IsSilenced(Now));
        Assert.True(AlertLifecycle.Apply(a, AlertActions.Comment, "x@example.org", "  ", null, null, Now).BadRequest);
        Assert.True(AlertLifecycle.Apply(a, "delete", "x@example.org", null, null, null, Now).BadRequest);
    }

    [Theory]
    [InlineData("regression", """{"channel":"nightly"}""", "params.metric")]
    [InlineData("regression", """{"channel":"nightly","metric":"GC_*","min_score":"high"}""", "params.min_score")]
    [InlineData("regression", """{"channel":"nightly","metric":"GC_*","threshold":3}""", "params.threshold")]
    [InlineData("expiry", """{}""", "exactly one of metric")]
    [InlineData("expiry", """{"mine":true,"metric":"GC_*"}""", "exactly one of metric")]
    [InlineData("crash_rate", """{"channel":"release"}""", "exactly one of threshold")]
    [InlineData("crash_rate", """{"channel":"release","threshold":2,"relative_increase_pct":10}""", "exactly one of threshold")]
    [InlineData("crash_rate", """{"channel":"release","threshold":2,"days":0}""", "params.days")]
    [InlineData("crash_rate", """{"channel":"release","threshold":2,"filters":{"os_name":3}}""", "params.filters.os_name must be")]
    [InlineData("crash_rate", """{"channel":"release","threshold":2,"filters":{"os":"Linux"}}""", "params.filters.os is not a crash dimension")]
    [InlineData("sentry", """{"project":"firefox","rules":["flood"]}""", "params.rules[0]")]
    [InlineData("weather", """{}""", "kind must be one of")]
    public void Bad_parameters_are_refused_naming_the_field(string kind, string json, string expected)
    {
        using var doc = JsonDocument.Parse(json);
        var (p, error) = SubscriptionJson.Parse(kind, doc.RootElement);
        Assert.Null(p);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parameters_get_their_defaults_and_survive_a_round_trip()
    {
        using var doc = JsonDocument.Parse("""{"channel":"release","filters":{"os_name":"Windows_NT"},"threshold":2.5}""");
        var (p, _) = SubscriptionJson.Parse(AlertKinds.CrashRate, doc.RootElement);
        var c = p!.CrashRate!;
        Assert.Equal((3, 1000.0, (string?)null, (double?)null), (c.Days, c.MinUsageHours, c.Version, c.RelativeIncreasePct));
        string json = SubscriptionJson.ToJson(AlertKinds.CrashRate, p).ToJsonString();
        Assert.Equal(c with { Filters = c.Filters }, SubscriptionJson.FromStored(AlertKinds.CrashRate, json).CrashRate! with { Filters = c.Filters });
        Assert.Equal("Windows_NT", SubscriptionJson.FromStored(AlertKinds.CrashRate, json).CrashRate!.Filters["os_name"]);
    }

    [Fact]
    public void Tokens_are_bound_to_their_purpose_and_any_change_breaks_them()
    {
        var signer = new TokenSigner(new byte[32]);
        string token = signer.Sign(TokenSigner.Unsubscribe, "s|12");
        Assert.Equal("s|12", signer.Verify(TokenSigner.Unsubscribe, token));
        Assert.Null(signer.Verify(TokenSigner.Session, token));
        Assert.Null(new TokenSigner(Enumerable.Repeat((byte)1, 32).ToArray()).Verify(TokenSigner.Unsubscribe, token));
        string forged = new TokenSigner(new byte[32]).Sign(TokenSigner.Unsubscribe, "s|13");
        Assert.Null(signer.Verify(TokenSigner.Unsubscribe, forged.Split('.')[0] + "." + token.Split('.')[1]));
        Assert.Null(signer.Verify(TokenSigner.Unsubscribe, "garbage"));
        Assert.Null(signer.Verify(TokenSigner.Unsubscribe, "a.b.c"));

        string session = PersonAuth.IssueSession(signer, "ann@example.org", Now.AddHours(1));
        Assert.Equal("ann@example.org", PersonAuth.ReadSession(signer, session, Now));
        Assert.Null(PersonAuth.ReadSession(signer, session, Now.AddHours(2)));
    }

    [Theory]
    [InlineData(8, "2026-11-30T09:30:00Z", "2026-11-30T08:00:00Z")]
    [InlineData(8, "2026-11-30T08:00:00Z", "2026-11-30T08:00:00Z")]
    [InlineData(8, "2026-11-30T07:59:00Z", "2026-11-29T08:00:00Z")]
    [InlineData(0, "2026-12-01T00:10:00Z", "2026-12-01T00:00:00Z")]
    public void The_digest_period_ends_at_the_latest_digest_hour(int hour, string now, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            DigestRunner.LastOccurrence(hour, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));
}
