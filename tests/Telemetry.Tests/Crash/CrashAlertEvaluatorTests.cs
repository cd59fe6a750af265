using System.Collections.Immutable;
using System.Text.Json;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Crash;

using Microsoft.Extensions.Time.Testing;
using Telemetry.Tests.Alerts;

namespace Telemetry.Tests.Crash;

/// <summary>
/// Crash-rate subscriptions evaluated on constructed crash aggregates, publishing into a publisher that keeps
/// the notification core's promises (a key names one alert; a group fires one alert at a time).
/// </summary>
public sealed class CrashAlertEvaluatorTests
{
    // Evaluated late on 2026-11-23: windows end on the 22nd (the newest day's usage is still arriving).
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 11, 23);
    private static readonly CrashAlertOptions Options = new();

    [Fact]
    public async Task An_absolute_rule_fires_above_its_threshold_with_the_numbers_in_the_alert()
    {
        var data = new CrashData();
        // 2,000 usage hours and 10 crashes over the window of 20-22 November: 5 per 1,000 hours.
        foreach (int day in new[] { 20, 21, 22 })
        {
            data.Add(Day(day), Day(day), "nightly", "47.0a1", pings: 333, hoursEach: 2, crashes: day == 22 ? 4 : 3);
        }
        data.Add(Day(22), Day(22), "nightly", "47.0a1", pings: 1, hoursEach: 2, crashes: 0);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Absolute(7, threshold: 4));

        var fired = Assert.Single(run.Fired);
        Assert.True(fired.Recorded);
        Assert.Equal(5.0, fired.Rate, 9);
        var alert = Assert.Single(publisher.Alerts);
        Assert.Equal("crash_rate", alert.Kind);
        Assert.Equal("crash_rate:7:absolute:nightly:*:-:2026-11-22", alert.Key);
        Assert.Equal("crash_rate:7:absolute:nightly:*:-", alert.GroupKey);
        Assert.Equal(new AlertTarget("nightly", null, "absolute", Day(22), 5.0, 7), alert.Target with { Score = Math.Round(alert.Target.Score!.Value, 9) });
        Assert.Empty(alert.Owners);
        Assert.Contains("5 main crashes per 1,000 usage hours (threshold 4)", alert.Title);
        Assert.Contains("activity days 2026-11-20 to 2026-11-22", alert.Summary);
        Assert.Contains("10 crashes in 2,000 usage hours", alert.Summary);
        var details = JsonDocument.Parse(alert.DetailsJson).RootElement;
        Assert.Equal(5.0, details.GetProperty("rate").GetDouble(), 9);
        Assert.Equal(2000, details.GetProperty("usage_hours").GetDouble(), 9);
        Assert.Equal(4, details.GetProperty("threshold").GetDouble());
        Assert.Equal("2026-11-20", details.GetProperty("window_start").GetString());
        var ci = details.GetProperty("ci95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.True(ci[0] < 5 && 5 < ci[1]);
    }

    [Fact]
    public async Task A_content_crash_rule_watches_content_crashes_and_a_main_crash_rule_does_not()
    {
        var data = new CrashData();
        // 2,000 usage hours with no main-process crash and 20 content-process crashes: 10 per 1,000 hours.
        data.Add(Day(22), Day(22), "nightly", "47.0a1", pings: 1000, hoursEach: 2, crashes: 0, contentCrashes: 20);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));
        var content = Sub(8, new CrashRateParams("nightly", null, new Dictionary<string, string>(), 4, null, 3, 1000, Content: true));

        var run = await Evaluate(data, publisher, Absolute(7, threshold: 4), content);

        Assert.Equal(8, Assert.Single(run.Fired).SubscriptionId);
        Assert.Equal(10.0, run.Fired[0].Rate, 9);
        Assert.Equal("content_crashes", JsonDocument.Parse(Assert.Single(publisher.Alerts).DetailsJson).RootElement.GetProperty("measure").GetString());
        Assert.Contains("10 content crashes per 1,000 usage hours", publisher.Alerts[0].Title);
        Assert.Equal(7, Assert.Single(run.Quiet).SubscriptionId);
    }

    [Theory]
    [InlineData(8, "at or below the threshold of 4")] // exactly 4 per 1,000 hours: not above
    [InlineData(2, "at or below the threshold of 4")]
    public async Task An_absolute_rule_at_or_below_its_threshold_records_nothing(long crashes, string reason)
    {
        var data = new CrashData();
        data.Add(Day(21), Day(21), "nightly", "47.0a1", pings: 1000, hoursEach: 2, crashes: crashes);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Absolute(7, threshold: 4));

        Assert.Empty(publisher.Alerts);
        Assert.Contains(reason, Assert.Single(run.Quiet).Reason);
    }

    [Fact]
    public async Task Nothing_fires_below_the_minimum_usage_hours_however_high_the_rate()
    {
        var data = new CrashData();
        data.Add(Day(22), Day(22), "nightly", "47.0a1", pings: 250, hoursEach: 2, crashes: 50); // 500 h at 100 per 1,000 h
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Absolute(7, threshold: 4, minUsageHours: 1000));

        Assert.Empty(publisher.Alerts);
        Assert.Contains("below the minimum of 1000", Assert.Single(run.Quiet).Reason);
    }

    [Fact]
    public async Task The_absolute_window_is_the_last_days_before_today_by_activity_date()
    {
        var data = new CrashData();
        // In the window (activity 20-22 November, some submitted days later): 2,000 h, 4 crashes = 2 per 1,000 h.
        data.Add(Day(20), Day(20), "nightly", "47.0a1", pings: 500, hoursEach: 2, crashes: 1);
        data.Add(Day(23), Day(21), "nightly", "47.0a1", pings: 500, hoursEach: 2, crashes: 3);
        // Outside it: crashes of the 19th submitted on the 20th, and today's crashes (usage still arriving).
        data.Add(Day(20), Day(19), "nightly", "47.0a1", pings: 0, hoursEach: 0, crashes: 500);
        data.Add(Day(23), Day(23), "nightly", "47.0a1", pings: 0, hoursEach: 0, crashes: 500);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Absolute(1, threshold: 3), Absolute(2, threshold: 1.5));

        var fired = Assert.Single(run.Fired);
        Assert.Equal(2, fired.SubscriptionId);
        Assert.Equal(2.0, fired.Rate, 9);
        Assert.Contains("at or below the threshold of 3", Assert.Single(run.Quiet).Reason);
    }

    [Fact]
    public async Task Filters_and_a_version_narrow_the_rows_a_rule_sees()
    {
        var data = new CrashData();
        data.Add(Day(21), Day(21), "nightly", "47.0a1", pings: 1000, hoursEach: 2, crashes: 20, os: "Windows_NT"); // 10 per 1,000 h
        data.Add(Day(21), Day(21), "nightly", "47.0a1", pings: 9000, hoursEach: 2, crashes: 18, os: "Linux");      // 1 per 1,000 h
        data.Add(Day(21), Day(21), "nightly", "46.0a1", pings: 5000, hoursEach: 2, crashes: 0, os: "Windows_NT");
        data.Add(Day(21), Day(21), "beta", "46.0b9", pings: 1000, hoursEach: 2, crashes: 500, os: "Linux");
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher,
            Absolute(1, threshold: 5),                                                          // the channel: 38 / 30,000 h
            Absolute(2, threshold: 5, filters: new() { ["os_name"] = "Windows_NT" }),            // both versions: 20 / 12,000 h
            Absolute(3, threshold: 5, version: "47.0a1", filters: new() { ["os_name"] = "Windows_NT" }), // 20 / 2,000 h
            Absolute(4, threshold: 5, version: "47.0a1", filters: new() { ["os_name"] = "Linux" }));     // 18 / 18,000 h

        var fired = Assert.Single(run.Fired);
        Assert.Equal(3, fired.SubscriptionId);
        Assert.Equal(10.0, fired.Rate, 9);
        Assert.Equal("47.0a1", fired.Version);
        Assert.Equal("crash_rate:3:absolute:nightly:47.0a1:os_name=Windows_NT:2026-11-22", Assert.Single(publisher.Alerts).Key);
        Assert.Equal(new long[] { 1, 2, 4 }, run.Quiet.Select(q => q.SubscriptionId));
        Assert.Contains("(os_name=Windows_NT)", publisher.Alerts[0].Title);
    }

    [Fact]
    public async Task A_relative_rule_compares_the_newest_version_with_the_previous_over_the_same_days_since_release()
    {
        var data = Releases(newerHoursPerDay: 16_667, newerCrashesPerDay: 33); // 2.0 against 1.0 per 1,000 h
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Relative(9, pct: 20));

        var fired = Assert.Single(run.Fired);
        Assert.Equal("47.0a1", fired.Version);
        Assert.Equal(Day(19), fired.WindowEnd);
        var alert = Assert.Single(publisher.Alerts);
        Assert.Equal("crash_rate:9:relative:nightly:47.0a1:-:2026-11-19", alert.Key);
        Assert.Equal(new AlertTarget("nightly", "47.0a1", "relative", Day(19), alert.Target.Score, 9), alert.Target);
        Assert.Contains("over 46.0a1 (1)", alert.Title);
        var details = JsonDocument.Parse(alert.DetailsJson).RootElement;
        var baseline = details.GetProperty("baseline");
        Assert.Equal("46.0a1", baseline.GetProperty("version").GetString());
        // The previous version's first three days only: its later, crashier days are not its first days.
        Assert.Equal("2026-10-20", baseline.GetProperty("window_start").GetString());
        Assert.Equal("2026-10-22", baseline.GetProperty("window_end").GetString());
        Assert.Equal(1.0, baseline.GetProperty("rate").GetDouble(), 9);
        Assert.Equal("2026-11-17", details.GetProperty("window_start").GetString());
        Assert.Equal(1.98, details.GetProperty("rate").GetDouble(), 2);
        Assert.True(details.GetProperty("ci95")[0].GetDouble() > 1.0);
        Assert.Equal(98, details.GetProperty("increase_pct").GetDouble(), 0);
        Assert.Equal(20, details.GetProperty("relative_increase_pct").GetDouble());
    }

    [Fact]
    public async Task A_relative_rule_does_not_fire_on_a_small_sample_whose_interval_reaches_the_previous_rate()
    {
        // 1,200 usage hours at 2.5 per 1,000 h: far above 1.0, but 3 crashes say little.
        var data = Releases(newerHoursPerDay: 400, newerCrashesPerDay: 1);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Relative(9, pct: 20));

        Assert.Empty(publisher.Alerts);
        Assert.Contains("not conclusive", Assert.Single(run.Quiet).Reason);
    }

    [Fact]
    public async Task A_relative_rule_does_not_fire_when_the_increase_is_within_the_percentage()
    {
        var data = Releases(newerHoursPerDay: 33_334, newerCrashesPerDay: 37); // 1.11 against 1.0 per 1,000 h, on plenty of data
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Relative(9, pct: 20));

        Assert.Empty(publisher.Alerts);
        Assert.Contains("not more than 20 % higher", Assert.Single(run.Quiet).Reason);
    }

    [Fact]
    public async Task A_newer_version_still_in_its_first_days_is_compared_over_the_days_it_has()
    {
        var data = new CrashData();
        data.Add(Day(20, 10), Day(20, 10), "nightly", "46.0a1", pings: 50_000, hoursEach: 1, crashes: 50);   // 1.0 on its first day
        data.Add(Day(21, 10), Day(21, 10), "nightly", "46.0a1", pings: 50_000, hoursEach: 1, crashes: 500);  // 10.0 on its second
        data.Add(Day(22), Day(22), "nightly", "47.0a1", pings: 20_000, hoursEach: 1, crashes: 60);           // 3.0 on its first day
        data.Add(Day(23), Day(23), "nightly", "47.0a1", pings: 20_000, hoursEach: 1, crashes: 500);          // today: not yet counted
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Relative(9, pct: 50, days: 7));

        var fired = Assert.Single(run.Fired);
        Assert.Equal(3.0, fired.Rate, 9);
        var baseline = JsonDocument.Parse(Assert.Single(publisher.Alerts).DetailsJson).RootElement.GetProperty("baseline");
        Assert.Equal(1.0, baseline.GetProperty("rate").GetDouble(), 9);
        Assert.Equal("2026-10-20", baseline.GetProperty("window_end").GetString());
    }

    [Fact]
    public async Task A_relative_rule_for_one_version_compares_it_with_the_version_before_it()
    {
        var data = Releases(newerHoursPerDay: 16_667, newerCrashesPerDay: 33);
        // A later version exists, but the subscription watches 47.0a1.
        data.Add(Day(22), Day(22), "nightly", "48.0a1", pings: 10_000, hoursEach: 1, crashes: 0);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));

        var run = await Evaluate(data, publisher, Relative(9, pct: 20, version: "47.0a1"), Relative(10, pct: 20));

        Assert.Equal("47.0a1", Assert.Single(run.Fired).Version);
        var quiet = Assert.Single(run.Quiet);
        Assert.Equal(10, quiet.SubscriptionId); // 48.0a1 crashes less than 47.0a1
    }

    [Fact]
    public async Task Evaluating_again_records_nothing_new_and_a_later_window_waits_until_the_alert_was_resolved()
    {
        var data = new CrashData();
        foreach (int day in new[] { 19, 20, 21, 22 })
        {
            data.Add(Day(day), Day(day), "nightly", "47.0a1", pings: 1000, hoursEach: 1, crashes: 10); // 10 per 1,000 h
        }
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now));
        var subscription = Absolute(7, threshold: 4, filters: new() { ["os_name"] = "Windows_NT" });

        var first = await Evaluate(data, publisher, subscription);
        var again = await Evaluate(data, publisher, subscription);

        Assert.True(Assert.Single(first.Fired).Recorded);
        var repeat = Assert.Single(again.Fired);
        Assert.False(repeat.Recorded);
        Assert.Equal(first.Fired[0].AlertId, repeat.AlertId);
        Assert.Single(publisher.Alerts);

        // The next day the window ends a day later (a new key) but the open alert of the same rule holds it back.
        data.Add(Day(24), Day(23), "nightly", "47.0a1", pings: 1000, hoursEach: 1, crashes: 10);
        var nextDay = await Evaluate(data, publisher, Now.AddDays(1), subscription);
        Assert.False(Assert.Single(nextDay.Fired).Recorded);
        Assert.Single(publisher.Alerts);

        // Once resolved, the rule still holding is news again.
        publisher.Resolve(first.Fired[0].AlertId);
        var afterResolve = await Evaluate(data, publisher, Now.AddDays(1), subscription);
        Assert.True(Assert.Single(afterResolve.Fired).Recorded);
        Assert.Equal(2, publisher.Alerts.Count);
        Assert.Equal("crash_rate:7:absolute:nightly:*:os_name=Windows_NT:2026-11-23", publisher.Alerts[1].Key);
        Assert.Equal(publisher.Alerts[0].GroupKey, publisher.Alerts[1].GroupKey);
    }

    [Fact]
    public async Task Keys_escape_what_would_make_them_ambiguous_and_do_not_depend_on_filter_order()
    {
        var data = new CrashData();
        data.Add(Day(22), Day(22), "nightly:x", "47.0a1", pings: 1000, hoursEach: 1, crashes: 10, os: "Windows NT&=", country: "DE");
        var a = new InMemoryAlertCore(new FakeTimeProvider(Now));
        var b = new InMemoryAlertCore(new FakeTimeProvider(Now));

        await Evaluate(data, a, Absolute(7, threshold: 4, channel: "nightly:x", filters: new() { ["os_name"] = "Windows NT&=", ["country"] = "DE" }));
        await Evaluate(data, b, Absolute(7, threshold: 4, channel: "nightly:x", filters: new() { ["country"] = "DE", ["os_name"] = "Windows NT&=" }));

        Assert.Equal("crash_rate:7:absolute:nightly%3Ax:*:country=DE&os_name=Windows%20NT%26%3D:2026-11-22", Assert.Single(a.Alerts).Key);
        Assert.Equal(a.Alerts[0].Key, Assert.Single(b.Alerts).Key);
    }

    [Fact]
    public async Task A_subscription_that_cannot_be_evaluated_is_reported_and_the_others_still_alert()
    {
        var data = new CrashData();
        data.Add(Day(22), Day(22), "nightly", "47.0a1", pings: 1000, hoursEach: 1, crashes: 10);
        var publisher = new InMemoryAlertCore(new FakeTimeProvider(Now)) { FailFor = 2 };

        var run = await Evaluate(data, publisher,
            Absolute(1, threshold: 4, filters: new() { ["os"] = "Linux" }),
            Absolute(2, threshold: 4),
            Absolute(3, threshold: 4));

        Assert.Equal(3, Assert.Single(run.Fired).SubscriptionId);
        Assert.Contains("os", run.Quiet.Single(q => q.SubscriptionId == 1).Reason);
        var failed = run.Quiet.Single(q => q.SubscriptionId == 2);
        Assert.True(failed.Failed);
        Assert.Contains("publisher down", failed.Reason);
    }

    // ----- data and subscriptions -----

    private static DateOnly Day(int day, int month = 11) => new(2026, month, day);

    /// <summary>
    /// 46.0a1 released 20 October: 100,000 h and 100 crashes over its first three days (1.0 per 1,000 h), then
    /// a far crashier fourth day; 47.0a1 released 17 November with the given usage and crashes on each of its
    /// first three days.
    /// </summary>
    private static CrashData Releases(long newerHoursPerDay, long newerCrashesPerDay)
    {
        var data = new CrashData();
        for (int i = 0; i < 3; i++)
        {
            // Submitted a day after the activity, except the release day itself.
            data.Add(Day(20 + i + (i > 0 ? 1 : 0), 10), Day(20 + i, 10), "nightly", "46.0a1", pings: i == 0 ? 33_334 : 33_333, hoursEach: 1, crashes: i == 0 ? 34 : 33);
            data.Add(Day(17 + i), Day(17 + i), "nightly", "47.0a1", pings: newerHoursPerDay, hoursEach: 1, crashes: newerCrashesPerDay);
        }
        data.Add(Day(23, 10), Day(23, 10), "nightly", "46.0a1", pings: 10_000, hoursEach: 1, crashes: 1000);
        return data;
    }

    private static Subscription Absolute(long id, double threshold, string channel = "nightly", string? version = null,
        Dictionary<string, string>? filters = null, int days = 3, double minUsageHours = 1000) =>
        Sub(id, new CrashRateParams(channel, version, filters ?? new(), threshold, null, days, minUsageHours));

    private static Subscription Relative(long id, double pct, string? version = null, int days = 3, double minUsageHours = 1000) =>
        Sub(id, new CrashRateParams("nightly", version, new Dictionary<string, string>(), null, pct, days, minUsageHours));

    private static Subscription Sub(long id, CrashRateParams p) => new()
    {
        Id = id,
        Email = $"person{id}@example.org",
        Kind = AlertKinds.CrashRate,
        Params = new SubscriptionParams { CrashRate = p },
        Delivery = Delivery.Immediate,
        DigestHour = 8,
        Paused = false,
        CreatedAt = Now.AddDays(-30),
        UpdatedAt = Now.AddDays(-30),
    };

    private static Task<CrashAlertRun> Evaluate(CrashData data, InMemoryAlertCore publisher, params Subscription[] subscriptions) =>
        Evaluate(data, publisher, Now, subscriptions);

    private static Task<CrashAlertRun> Evaluate(CrashData data, InMemoryAlertCore publisher, DateTimeOffset now, params Subscription[] subscriptions) =>
        new CrashAlertEvaluator(data, publisher, Options).EvaluateAsync(subscriptions, now, CancellationToken.None);

    /// <summary>Crash aggregate rows by submission date and aggregate key, as the crash grains hold them.</summary>
    private sealed class CrashData : ICrashRowSource
    {
        private readonly Dictionary<DateOnly, Dictionary<string, List<CrashRow>>> _dates = new();

        /// <summary>Main pings of <paramref name="hoursEach"/> hours and crash pings, all with the same dimensions.</summary>
        public void Add(DateOnly submission, DateOnly activity, string channel, string version, long pings, double hoursEach, long crashes,
            string os = "Windows_NT", string country = "??", long contentCrashes = 0)
        {
            long seconds = (long)(hoursEach * 3600);
            var values = new long[CrashStatNames.Count * 2];
            const int sq = CrashStatNames.Count;
            values[0] = values[sq] = pings;
            values[CrashStatNames.UsageHours] = pings * seconds;
            values[CrashStatNames.UsageHours + sq] = pings * seconds * seconds;
            values[2] = values[2 + sq] = crashes;
            values[3] = values[3 + sq] = contentCrashes;
            string key = CrashStatNames.GrainKey(CrashDimensions.FormatDate(submission), channel, version);
            if (!_dates.TryGetValue(submission, out var aggregates))
            {
                _dates[submission] = aggregates = new(StringComparer.Ordinal);
            }
            if (!aggregates.TryGetValue(key, out var rows))
            {
                aggregates[key] = rows = [];
            }
            rows.Add(new CrashRow
            {
                SubmissionDate = CrashDimensions.FormatDate(submission),
                ActivityDate = CrashDimensions.FormatDate(activity),
                Dimensions = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
                {
                    ["build_version"] = version, ["channel"] = channel, ["os_name"] = os, ["country"] = country,
                }),
                Values = [.. values],
            });
        }

        public Task<ImmutableArray<string>> AggregateKeysAsync(DateOnly submissionDate) =>
            Task.FromResult(_dates.TryGetValue(submissionDate, out var a) ? a.Keys.Order(StringComparer.Ordinal).ToImmutableArray() : []);

        public Task<ImmutableArray<CrashRow>> RowsAsync(string aggregateKey)
        {
            var (date, _, _) = CrashStatNames.ParseGrainKey(aggregateKey);
            return Task.FromResult(_dates[DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture)][aggregateKey].ToImmutableArray());
        }
    }
}
