using System.Collections.Immutable;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>A generated series with what was done to it.</summary>
/// <param name="BasePings">The series' typical pings per build date (before day-to-day and volume changes).</param>
/// <param name="Changes">The changes a detector should report (none for a scenario that is not a regression).</param>
/// <param name="EventIndex">Where the scenario's event happens (change, drift start, spike, volume or layout change); -1 for no change.</param>
public sealed record LabelledSeries(MetricSeries Series, SyntheticScenario Scenario, double BasePings, ImmutableArray<LabelledChange> Changes, int EventIndex);
