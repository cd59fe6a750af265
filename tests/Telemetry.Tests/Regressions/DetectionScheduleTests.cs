using Telemetry.Grains.Regressions;

namespace Telemetry.Tests.Regressions;

/// <summary>When a channel runs detection (docs/regressions.md, "Running detection").</summary>
public sealed class DetectionScheduleTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly D1 = new(2026, 3, 8), D2 = new(2026, 3, 9);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    [Fact]
    public void The_first_check_runs()
    {
        var decision = DetectionSchedule.Decide(Now, null, Day, new Dictionary<DateOnly, long>(), new HashSet<DateOnly>(), 1000);

        Assert.True(decision.Run);
        Assert.Equal("first", decision.Reason);
    }

    [Fact]
    public void Detection_runs_once_a_period_and_not_in_between()
    {
        var pings = new Dictionary<DateOnly, long> { [D1] = 5000 };
        var ready = new HashSet<DateOnly> { D1 };

        Assert.False(DetectionSchedule.Decide(Now, Now - Day + TimeSpan.FromMinutes(1), Day, pings, ready, 1000).Run);
        var due = DetectionSchedule.Decide(Now, Now - Day, Day, pings, ready, 1000);
        Assert.True(due.Run);
        Assert.Equal("periodic", due.Reason);
    }

    [Fact]
    public void A_build_date_reaching_the_threshold_runs_detection_at_once_and_only_once()
    {
        var lastRun = Now - TimeSpan.FromHours(1);
        var ready = new HashSet<DateOnly> { D1 };

        var below = DetectionSchedule.Decide(Now, lastRun, Day, new Dictionary<DateOnly, long> { [D1] = 5000, [D2] = 999 }, ready, 1000);
        var reached = DetectionSchedule.Decide(Now, lastRun, Day, new Dictionary<DateOnly, long> { [D1] = 5000, [D2] = 1000 }, ready, 1000);
        ready.UnionWith(reached.NewlyReady);
        var after = DetectionSchedule.Decide(Now, Now, Day, new Dictionary<DateOnly, long> { [D1] = 5000, [D2] = 3000 }, ready, 1000);

        Assert.False(below.Run);
        Assert.True(reached.Run);
        Assert.Equal("ready:20260309", reached.Reason);
        Assert.Equal([D2], reached.NewlyReady.ToArray());
        Assert.False(after.Run);
    }
}
