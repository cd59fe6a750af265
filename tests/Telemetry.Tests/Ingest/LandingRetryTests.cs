using Telemetry.Silo.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>The retry schedule of an import's landings, on a clock the test moves.</summary>
public sealed class LandingRetryTests
{
    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;

        public void Advance(TimeSpan by) => Now += by;
    }

    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void A_record_backs_off_exponentially_and_is_not_landed_once_its_budget_is_spent()
    {
        var clock = new ManualClock();
        var retry = new LandingRetry(TimeSpan.FromSeconds(10), clock);
        var record = retry.Begin();
        var delays = new List<TimeSpan>();
        while (record.MayTry())
        {
            if (record.AfterFailure() is not { } delay)
            {
                break;
            }
            delays.Add(delay);
            clock.Advance(delay);
        }
        // 250 ms doubling to the 4 s cap, the last wait cut so the last attempt is at the budget's end.
        Assert.Equal(new[] { 250, 500, 1000, 2000, 4000, 2250 }, delays.Select(d => (int)d.TotalMilliseconds));
        Assert.True(retry.GaveUp);
    }

    [Fact]
    public void Once_a_record_gave_up_the_others_stop_waiting_and_new_ones_only_probe_now_and_then()
    {
        var clock = new ManualClock();
        var retry = new LandingRetry(TimeSpan.FromSeconds(5), clock);
        var first = retry.Begin();
        clock.Advance(TimeSpan.FromSeconds(1));
        var second = retry.Begin();
        Assert.True(first.MayTry());
        Assert.True(second.MayTry());
        Assert.NotNull(second.AfterFailure());

        clock.Advance(TimeSpan.FromSeconds(4) + Ms);
        Assert.True(first.MayTry());
        Assert.Null(first.AfterFailure()); // 5 s spent
        Assert.True(retry.GaveUp);
        // The second still had a second of budget but stops with the first.
        Assert.False(second.MayTry());

        // New records are not landed without trying, except one probe per interval.
        Assert.False(retry.Begin().MayTry());
        clock.Advance(LandingRetry.MaxDelay);
        var probe = retry.Begin();
        Assert.True(probe.MayTry());
        Assert.False(retry.Begin().MayTry());
        Assert.Null(probe.AfterFailure()); // a failed probe is not retried

        // A landing succeeds: records wait for the landing log again.
        clock.Advance(LandingRetry.MaxDelay);
        var back = retry.Begin();
        Assert.True(back.MayTry());
        retry.Landed();
        Assert.False(retry.GaveUp);
        var next = retry.Begin();
        Assert.True(next.MayTry());
        Assert.Equal(LandingRetry.FirstDelay, next.AfterFailure());
    }

    [Fact]
    public void An_outage_shorter_than_the_budget_loses_nothing()
    {
        var clock = new ManualClock();
        var retry = new LandingRetry(TimeSpan.FromSeconds(60), clock);
        var records = Enumerable.Range(0, 3).Select(_ => retry.Begin()).ToList();
        var downUntil = clock.Now + TimeSpan.FromSeconds(30);
        var landed = 0;
        var due = records.Select(_ => clock.Now).ToList();
        while (landed < records.Count)
        {
            var i = due.IndexOf(due.Min());
            clock.Now = due[i];
            Assert.True(records[i].MayTry());
            if (clock.Now >= downUntil)
            {
                retry.Landed();
                landed++;
                due[i] = DateTimeOffset.MaxValue;
                continue;
            }
            var delay = records[i].AfterFailure();
            Assert.NotNull(delay);
            due[i] = clock.Now + delay.Value;
        }
        Assert.False(retry.GaveUp);
    }
}
