using System.Collections.Immutable;
using Telemetry.Grains.Probes;

namespace Telemetry.Tests.Probes;

public sealed class BucketLayoutTests
{
    [Fact]
    public void WorkedExampleExponential1To10000With50Buckets()
    {
        var layout = BucketLayout.Exponential(1, 10000, 50);
        Assert.Equal(50, layout.BucketCount);
        Seq.Equal([0L, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20], layout.LowerBounds.Take(14));
        Seq.Equal([7083L, 8416, 10000], layout.LowerBounds.TakeLast(3));
    }

    [Fact]
    public void WorkedExampleLinear1To100With10Buckets()
    {
        Seq.Equal([0L, 1, 13, 26, 38, 51, 63, 75, 88, 100], BucketLayout.Linear(1, 100, 10).LowerBounds);
    }

    [Fact]
    public void WorkedExampleExponential1To3000With10Buckets()
    {
        Seq.Equal([0L, 1, 3, 8, 21, 57, 154, 414, 1114, 3000], BucketLayout.Exponential(1, 3000, 10).LowerBounds);
    }

    [Fact]
    public void LowBelowOneIsTreatedAsOne()
    {
        var layout = BucketLayout.Exponential(0, 3000, 10);
        Assert.Equal(1, layout.Low);
        Assert.Same(BucketLayout.Exponential(1, 3000, 10), layout);
        Assert.Equal(BucketLayout.Linear(1, 100, 10).LowerBounds, BucketLayout.Linear(-5, 100, 10).LowerBounds);
    }

    [Fact]
    public void FixedKindsUseOneTwoThree()
    {
        foreach (var kind in new[] { HistogramKind.Boolean, HistogramKind.Flag, HistogramKind.Count })
        {
            var layout = BucketLayout.ForKind(kind, 7, 99, 42);
            Assert.Equal(kind, layout.Kind);
            Assert.Equal((1L, 2L, 3), (layout.Low, layout.High, layout.BucketCount));
            Seq.Equal([0L, 1, 2], layout.LowerBounds);
        }
    }

    [Fact]
    public void EnumeratedIsOneToNValuesWithNValuesPlusOneBuckets()
    {
        var layout = BucketLayout.Enumerated(11);
        Assert.Equal(HistogramKind.Enumerated, layout.Kind);
        Assert.Equal(1, layout.TypeCode);
        Assert.Equal((1L, 11L, 12), (layout.Low, layout.High, layout.BucketCount));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), layout.LowerBounds);
        Assert.True(layout.HasSameBounds(BucketLayout.Linear(1, 11, 12)));
        Assert.NotEqual(layout, BucketLayout.Linear(1, 11, 12)); // same bounds, different kind
    }

    [Fact]
    public void CategoricalSizeIsMaxOfLabelsNValuesAndFifty()
    {
        var few = ImmutableArray.Create("a", "b", "c");
        Assert.Equal(50, BucketLayout.CategoricalSize(3, null));
        Assert.Equal(50, BucketLayout.CategoricalSize(3, 20));
        Assert.Equal(70, BucketLayout.CategoricalSize(3, 70));
        Assert.Equal(60, BucketLayout.CategoricalSize(60, 10));

        var layout = BucketLayout.Categorical(few);
        Assert.Equal((HistogramKind.Categorical, 1L, 50L, 51), (layout.Kind, layout.Low, layout.High, layout.BucketCount));
        Seq.Equal(few, layout.Labels);
        Assert.Equal("b", layout.LabelOf(1));
        Assert.Null(layout.LabelOf(3));
        Assert.Null(layout.LabelOf(-1));

        var many = Enumerable.Range(0, 60).Select(i => $"L{i}").ToImmutableArray();
        var big = BucketLayout.Categorical(many, 10);
        Assert.Equal((1L, 60L, 61), (big.Low, big.High, big.BucketCount));
        var bigger = BucketLayout.Categorical(many, 75);
        Assert.Equal((1L, 75L, 76), (bigger.Low, bigger.High, bigger.BucketCount));

        // Labeled layouts are not shared between definitions, but their bounds are.
        var other = BucketLayout.Categorical(ImmutableArray.Create("x"));
        Assert.NotEqual(layout, other);
        Assert.True(layout.HasSameBounds(other));
    }

    [Fact]
    public void IndexOfValueFindsTheBucketWithTheLargestLowerBoundNotAboveTheValue()
    {
        var layout = BucketLayout.Exponential(1, 10000, 50); // 0,1,..,8,10,12,14,17,...,8416,10000
        Assert.Equal(-1, layout.IndexOfValue(-0.5));
        Assert.Equal(-1, layout.IndexOfValue(-1L));
        Assert.Equal(-1, layout.IndexOfValue(double.NaN));
        Assert.Equal(0, layout.IndexOfValue(0));
        Assert.Equal(0, layout.IndexOfValue(0.99));
        Assert.Equal(1, layout.IndexOfValue(1));
        Assert.Equal(8, layout.IndexOfValue(8.5));
        Assert.Equal(8, layout.IndexOfValue(9));
        Assert.Equal(9, layout.IndexOfValue(10));
        Assert.Equal(9, layout.IndexOfValue(11.999));
        Assert.Equal(10, layout.IndexOfValue(12L));
        Assert.Equal(48, layout.IndexOfValue(9999.9));
        Assert.Equal(49, layout.IndexOfValue(10000));
        Assert.Equal(49, layout.IndexOfValue(1e12));
        Assert.Equal(49, layout.IndexOfValue(double.PositiveInfinity));
        Assert.Equal(49, layout.IndexOfValue(long.MaxValue));

        // Exhaustive comparison with a linear scan.
        foreach (var l in new[] { layout, BucketLayout.Linear(1, 100, 10), BucketLayout.Enumerated(20), BucketLayout.SimpleMeasures })
        {
            for (var v = 0; v <= l.High + 5; v++)
            {
                var expected = l.LowerBounds.LastIndexOf(l.LowerBounds.Last(b => b <= v));
                Assert.Equal(expected, l.IndexOfValue(v));
                Assert.Equal(expected, l.IndexOfValue(v + 0.25));
                Assert.Equal(expected, l.IndexOfValue((long)v));
            }
        }
    }

    [Fact]
    public void IndexOfBoundFindsExactLowerBoundsOnly()
    {
        foreach (var layout in new[]
                 {
                     BucketLayout.Exponential(1, 10000, 50), BucketLayout.Linear(1, 100, 10), BucketLayout.Enumerated(30),
                     BucketLayout.Exponential(32768, 16777216, 200), BucketLayout.ForKind(HistogramKind.Flag, 1, 2, 3),
                 })
        {
            for (var i = 0; i < layout.BucketCount; i++)
            {
                Assert.Equal(i, layout.IndexOfBound(layout.LowerBounds[i]));
            }

            var bounds = layout.LowerBounds.ToHashSet();
            for (var v = -3L; v <= Math.Min(layout.High + 3, 5000); v++)
            {
                if (!bounds.Contains(v))
                {
                    Assert.Equal(-1, layout.IndexOfBound(v));
                }
            }

            Assert.Equal(-1, layout.IndexOfBound(long.MinValue));
            Assert.Equal(-1, layout.IndexOfBound(long.MaxValue));
        }
    }

    [Fact]
    public void IdenticalLayoutsShareOneInstance()
    {
        Assert.Same(BucketLayout.Exponential(1, 10000, 50), BucketLayout.Exponential(1, 10000, 50));
        Assert.Same(BucketLayout.Exponential(1, 10000, 50), BucketLayout.FromDeclared(0, 1, 10000, 50));
        Assert.Same(BucketLayout.Linear(1, 100, 10), BucketLayout.ForKind(HistogramKind.Linear, 1, 100, 10));
        Assert.Same(BucketLayout.Scalars, BucketLayout.Exponential(1, 10000, 100));
        Assert.Same(BucketLayout.CountHistogramObservations, BucketLayout.Scalars);

        var layouts = new BucketLayout[64];
        Parallel.For(0, layouts.Length, i => layouts[i] = BucketLayout.Exponential(3, 777_777, 77));
        Assert.All(layouts, l => Assert.Same(layouts[0], l));
    }

    [Fact]
    public void FixedAggregatorLayouts()
    {
        Assert.Equal((HistogramKind.Exponential, 1L, 10000L, 100),
            (BucketLayout.CountHistogramObservations.Kind, BucketLayout.CountHistogramObservations.Low, BucketLayout.CountHistogramObservations.High, BucketLayout.CountHistogramObservations.BucketCount));
        Assert.Equal((HistogramKind.Exponential, 1L, 10000L, 100),
            (BucketLayout.Scalars.Kind, BucketLayout.Scalars.Low, BucketLayout.Scalars.High, BucketLayout.Scalars.BucketCount));
        Assert.Equal((HistogramKind.Exponential, 1L, 30000L, 50),
            (BucketLayout.SimpleMeasures.Kind, BucketLayout.SimpleMeasures.Low, BucketLayout.SimpleMeasures.High, BucketLayout.SimpleMeasures.BucketCount));
        Assert.Equal(30000, BucketLayout.SimpleMeasures.LowerBounds[^1]);
    }

    [Theory]
    [InlineData(0, 1, 10000, 50, true)]
    [InlineData(1, 1, 100, 10, true)]
    [InlineData(1, 0, 100, 10, true)] // low 0 → 1
    [InlineData(2, 1, 2, 3, true)]
    [InlineData(3, 1, 2, 3, true)]
    [InlineData(4, 1, 2, 3, true)]
    [InlineData(2, 0, 1, 3, true)] // fixed kinds: any 3-bucket declaration is the canonical (1, 2, 3)
    [InlineData(2, 1, 2, 4, false)]
    [InlineData(5, 1, 50, 51, true)]
    [InlineData(5, 1, 50, 40, false)]
    [InlineData(0, 1, 10000, 2, false)] // bucket_count < 3
    [InlineData(0, 1, 10000, 10001, false)] // bucket_count > 10000
    [InlineData(0, 1, 1, 10, false)] // high == low
    [InlineData(0, 100, 10, 10, false)] // high < low
    [InlineData(0, 1, 0, 10, false)]
    [InlineData(1, 1, 5, 10, false)] // linear buckets would repeat
    [InlineData(0, 1, 5_000_000_000, 10, false)] // high beyond 32 bits
    [InlineData(6, 1, 10, 11, false)] // 6 is not a ping type code
    [InlineData(-1, 1, 10, 11, false)]
    public void FromDeclaredValidatesTheLayout(int typeCode, long low, long high, int buckets, bool valid)
    {
        var layout = BucketLayout.FromDeclared(typeCode, low, high, buckets);
        Assert.Equal(valid, layout is not null);
        if (layout is not null)
        {
            Assert.Equal(typeCode, layout.TypeCode);
            Assert.Equal(0, layout.LowerBounds[0]);
            for (var i = 1; i < layout.BucketCount; i++)
            {
                Assert.True(layout.LowerBounds[i] > layout.LowerBounds[i - 1]);
            }
        }
    }

    [Fact]
    public void InvalidFactoryArgumentsThrow()
    {
        Assert.Throws<ArgumentException>(() => BucketLayout.Exponential(1, 10000, 2));
        Assert.Throws<ArgumentException>(() => BucketLayout.Linear(10, 5, 10));
        Assert.Throws<ArgumentException>(() => BucketLayout.Enumerated(1));
        Assert.False(BucketLayout.TryCreate(HistogramKind.Linear, 1, 3, 5, default, out _, out var error));
        Assert.Contains("do not fit", error);
    }

    [Fact]
    public void KindNamesAndTypeCodesRoundTrip()
    {
        foreach (var kind in Enum.GetValues<HistogramKind>())
        {
            Assert.Equal(kind, HistogramKinds.FromName(HistogramKinds.Name(kind)));
            var code = HistogramKinds.TypeCode(kind);
            Assert.Equal(kind == HistogramKind.Enumerated ? HistogramKind.Linear : kind, HistogramKinds.FromTypeCode(code));
        }

        Assert.Equal("enumerated", HistogramKinds.Name(HistogramKind.Enumerated));
        Assert.Equal(1, HistogramKinds.TypeCode(HistogramKind.Enumerated));
        Assert.Equal(HistogramKind.Flag, HistogramKinds.FromName(" Flag "));
        Assert.Null(HistogramKinds.FromName("histogram"));
        Assert.Null(HistogramKinds.FromName(null));
        Assert.Null(HistogramKinds.FromTypeCode(6));
    }
}
