namespace Telemetry.Bench.Detectors;

/// <summary>What happens to a synthetic series (docs/regressions.md, "The benchmark").</summary>
public enum ScenarioKind
{
    /// <summary>Nothing: only sampling noise and the day-to-day wobble of the population.</summary>
    NoChange,

    /// <summary>From one date on, every ping's values move up or down (a regression in the common path).</summary>
    MeanShift,

    /// <summary>From one date on, a share of the pings becomes much slower (a regression on some machines).</summary>
    TailGrowth,

    /// <summary>From one date on, a share of the pings moves up and as many move down.</summary>
    BimodalSplit,

    /// <summary>The mean moves a little every date for 10–20 dates.</summary>
    Drift,

    /// <summary>One date differs a lot, the next is back to normal (a bad build respun). Not a regression.</summary>
    Spike,

    /// <summary>From one date on, 10 times more or fewer pings, same distribution. Not a regression.</summary>
    VolumeChange,

    /// <summary>From one date on, the probe's buckets change, the values do not. Not a regression.</summary>
    LayoutChange,

    /// <summary>A real but harmless shift (2 % of the samples cross the median) at high volume. Not a regression.</summary>
    TinyShift,
}
