using Telemetry.Grains.Regressions;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// The probability of where a change began, and the range of build dates a finding names as
/// suspects (docs/regressions.md, "The suspect range").
/// </summary>
public sealed class ChangePointPosteriorTests
{
    private static double[] Step(int n, int at, double before, double after) =>
        [.. Enumerable.Range(0, n).Select(k => k < at ? before : after)];

    [Fact]
    public void AClearStepLeavesOneSuspectDate()
    {
        var values = Step(12, 7, 0, 1);
        var precisions = Enumerable.Repeat(400.0, 12).ToArray(); // standard error 0.05 a date: the step is 20 of them
        var posterior = ChangePointPosterior.Of(values, precisions, sign: 1);

        Assert.Equal(1, posterior[7], 6);
        Assert.Equal(0, posterior[0]);
        Assert.Equal((7, 7), ChangePointPosterior.CredibleRange(posterior, 7));
    }

    [Fact]
    public void WithoutAnyChangeEveryDateIsAsLikelyAndTheRangeHoldsNineteenTwentieths()
    {
        var values = new double[21];
        var precisions = Enumerable.Repeat(1.0, 21).ToArray();
        var posterior = ChangePointPosterior.Of(values, precisions, sign: 1);

        Assert.All(posterior.Skip(1), p => Assert.Equal(1.0 / 20, p, 12));
        var (first, last) = ChangePointPosterior.CredibleRange(posterior, 10);
        Assert.Equal(19, last - first + 1); // 19 of the 20 positions: 95 %
        Assert.InRange(10, first, last);
        Assert.True(first >= 1, "the first date is before any step");
    }

    [Fact]
    public void AStepTheOtherWayFitsNoBetterThanNoStep()
    {
        // Values fall at 5, but the change being dated moved them up: position 5 is as likely as any
        // position where the data show no rise, and less likely than none of them.
        var values = Step(10, 5, 1, 0);
        var precisions = Enumerable.Repeat(100.0, 10).ToArray();
        var posterior = ChangePointPosterior.Of(values, precisions, sign: 1);
        Assert.All(posterior.Skip(1), p => Assert.Equal(1.0 / 9, p, 9));
    }

    [Fact]
    public void TheRangeGrowsTowardsTheMoreLikelyNeighbourAndAlwaysHoldsTheBlamedDate()
    {
        double[] posterior = [0, 0.01, 0.02, 0.30, 0.45, 0.21, 0.01];
        // 0.45, then the earlier neighbour (0.30 against 0.21), then the later one (0.21 against 0.02): 0.96.
        Assert.Equal((3, 5), ChangePointPosterior.CredibleRange(posterior, 4));
        // Blamed at a date after the most likely ones: the range reaches back over them.
        Assert.Equal((3, 6), ChangePointPosterior.CredibleRange(posterior, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChangePointPosterior.CredibleRange(posterior, 7));
    }

    [Fact]
    public void UnderItsModelTheRangeHoldsTheTrueStartNineteenTimesInTwenty()
    {
        // Steps of one to three standard errors of a date, at random positions, with precisions that
        // vary from date to date as volumes do: the 95 % range must hold the true start about 95 %
        // of the time (not 70 %: too narrow to trust; not 100 %: wider than it needs to be). A little
        // more than 95 % is expected: dates come whole, and the date that brings a range past 95 %
        // usually brings it well past.
        var rng = new Random(7);
        int trials = 4000, held = 0;
        long width = 0;
        for (int t = 0; t < trials; t++)
        {
            int n = 17, at = rng.Next(4, 14);
            double step = 1 + 2 * rng.NextDouble();
            var precisions = Enumerable.Range(0, n).Select(_ => 0.5 + rng.NextDouble()).ToArray();
            var values = Enumerable.Range(0, n).Select(k => (k < at ? 0 : step) + Normal(rng) / Math.Sqrt(precisions[k])).ToArray();
            var posterior = ChangePointPosterior.Of(values, precisions, sign: 1);
            int blamed = Array.IndexOf(posterior, posterior.Max());
            var (first, last) = ChangePointPosterior.CredibleRange(posterior, blamed);
            held += first <= at && at <= last ? 1 : 0;
            width += last - first + 1;
        }
        double coverage = (double)held / trials;
        Assert.InRange(coverage, 0.93, 0.99);
        Assert.True((double)width / trials < 8, $"mean width {(double)width / trials:F1} of 16 positions");
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
