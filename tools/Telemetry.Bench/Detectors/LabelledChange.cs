using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// A change a detector should report: a finding on a date index in
/// [<paramref name="Start"/>, <paramref name="WindowEnd"/>] counts as finding it.
/// </summary>
/// <param name="Start">Index of the first changed date (a shift), or of the first drifting date.</param>
/// <param name="WindowEnd">Last index a finding may have and still count (shift: Start + 2; drift: its last date + 2).</param>
/// <param name="Direction">Where the mass moved.</param>
/// <param name="TrueEffect">Kolmogorov–Smirnov distance between the bucketed distributions before and after (for a drift: at its end), without sampling noise.</param>
public sealed record LabelledChange(int Start, int WindowEnd, RegressionDirection Direction, double TrueEffect);
