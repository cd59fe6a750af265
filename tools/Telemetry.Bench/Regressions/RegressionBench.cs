namespace Telemetry.Bench.Regressions;

/// <summary>
/// <c>regressions cost ...</c> (detection cost, <see cref="DetectionCostBench"/>) and <c>regressions latency ...</c>
/// (last ping to alert mail through a live silo, <see cref="AlertLatencyBench"/>); results in docs/benchmarks.md.
/// </summary>
public static class RegressionBench
{
    public const string Usage = "regressions cost [--metrics N] [--dates D] [--distinct K] [--seed S] [--repeat R] | regressions latency --silo URL --maildev URL [--admin-token T] [--runs N]";

    public static async Task<int> RunAsync(string[] args)
    {
        switch (args.Length > 1 ? args[1] : "")
        {
            case "cost":
                return DetectionCostBench.Run(args);
            case "latency":
                return await AlertLatencyBench.RunAsync(args);
            default:
                Console.Error.WriteLine("usage: Telemetry.Bench " + Usage);
                return 2;
        }
    }
}
