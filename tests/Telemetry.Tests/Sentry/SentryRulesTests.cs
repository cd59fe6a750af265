using System.Text.Json;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Sentry;

namespace Telemetry.Tests.Sentry;

/// <summary>The arithmetic of the Sentry rules, with the seed's scenarios and the thresholds' edges.</summary>
public sealed class SentryRulesTests
{
    private static readonly DateTimeOffset T = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Issues_rank_by_events_then_latest_event_then_fingerprint()
    {
        var ranked = SentryRules.Rank(
        [
            new("default", "a", 10, T),
            new("default", "b", 20, T),
            new("default", "c", 5, T),
            new("default", "d", 10, T.AddMinutes(1)),
            new("default", "0", 10, T.AddMinutes(1)),
        ]);
        Assert.Equal(["b", "0", "d", "a", "c"], ranked.Select(i => i.Fingerprint));
    }

    [Theory]
    [InlineData(200, false)] // strictly more than 200
    [InlineData(201, true)]
    public void A_top_issue_needs_strictly_more_than_the_minimum_events(long events, bool fires)
    {
        var ranked = SentryRules.Rank([new("default", "top", events, T), new("default", "small", 3, T)]);
        Assert.Equal(fires, SentryRules.IsTopIssue(ranked, "top", new SentryThresholds()));
    }

    [Fact]
    public void An_issue_below_the_top_n_is_not_a_top_issue_however_many_events_it_has()
    {
        var issues = Enumerable.Range(0, 11).Select(i => new IssueCount("default", $"f{i}", 1000 - i, T)).ToList();
        var ranked = SentryRules.Rank(issues);
        Assert.True(SentryRules.IsTopIssue(ranked, "f9", new SentryThresholds()));
        Assert.False(SentryRules.IsTopIssue(ranked, "f10", new SentryThresholds()));
        Assert.True(SentryRules.IsTopIssue(ranked, "f10", new SentryThresholds(TopN: 11)));
    }

    [Theory]
    [InlineData(50, 0, true)]        // a new burst above the floor
    [InlineData(49, 0, false)]       // below the floor
    [InlineData(100, 3360, true)]    // 20 an hour before: 5 × 20 = 100
    [InlineData(99, 3360, false)]
    public void A_spike_is_five_times_the_hourly_mean_of_the_week_before_and_at_least_the_floor(long lastHour, long week, bool fires) =>
        Assert.Equal(fires, SentryRules.IsSpike(lastHour, week, new SentryThresholds()));

    [Theory]
    [InlineData("""{"project":"default","rules":["top-issue"],"top_n":0}""", "params.top_n")]
    [InlineData("""{"project":"default","top_min_events":-1}""", "params.top_min_events")]
    [InlineData("""{"project":"default","spike_factor":"high"}""", "params.spike_factor")]
    [InlineData("""{"rules":["spike"]}""", "params.project")]
    public void Subscription_thresholds_out_of_range_are_refused_naming_the_field(string json, string field)
    {
        using var doc = JsonDocument.Parse(json);
        var (p, error) = SubscriptionJson.Parse(AlertKinds.Sentry, doc.RootElement);
        Assert.Null(p);
        Assert.Contains(field, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Subscription_thresholds_override_the_defaults_one_by_one()
    {
        using var doc = JsonDocument.Parse("""{"project":"*","rules":["top-issue"],"top_n":3,"top_min_events":50}""");
        var (t, error) = SentryThresholds.FromParams(doc.RootElement);
        Assert.Null(error);
        Assert.Equal(new SentryThresholds(TopN: 3, TopMinEvents: 50), t);
        var (p, _) = SubscriptionJson.Parse(AlertKinds.Sentry, doc.RootElement);
        var sub = new Subscription
        {
            Id = 1, Email = "a@example.org", Kind = AlertKinds.Sentry, Params = p!, Delivery = Delivery.Immediate,
            DigestHour = 8, Paused = false, CreatedAt = T, UpdatedAt = T,
        };
        var draft = new AlertDraft(AlertKinds.Sentry, "k", "t", "s", new AlertTarget(Subject: "firefox-desktop"), []);
        Assert.True(SubscriptionMatcher.Matches(sub, draft)); // * is every project
    }
}
