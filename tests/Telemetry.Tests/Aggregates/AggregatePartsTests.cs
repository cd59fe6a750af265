using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Aggregates;
using static Telemetry.Tests.Aggregates.AggregateStateCodecTests;

namespace Telemetry.Tests.Aggregates;

/// <summary>
/// Aggregate states stored as a header and parts (docs/ingest-cost.md, "Aggregate state writes"): the
/// parts read back into exactly the state written, and a write after a change stores what changed
/// unless that is most of the state. The same against PostgreSQL: Storage/AggregatePartStorageTests.
/// </summary>
public sealed class AggregatePartsTests
{
    /// <summary>The series keys a part holds.</summary>
    private static SeriesKey[] SeriesIn(byte[] part) => [.. AggregateStateCodec.Read(part).Series.Keys];

    /// <summary>A state of 40 series with one layout, as a book that has stored it.</summary>
    private static (AggregateState State, AggregatePartBook Book) Stored40()
    {
        var state = new AggregateState { Pings = 40 };
        state.Layouts["GC_MS"] = new MetricLayout { Kind = 0, Low = 1, High = 10_000, BucketCount = 50 };
        for (int i = 0; i < 40; i++)
        {
            var acc = new HistogramAccumulator(50) { Count = 1, Sum = i };
            acc.Counts[i] = 1;
            state.Series[Key("GC_MS", "", "OS" + i)] = acc;
        }
        var book = AggregatePartBook.Unknown();
        book.Stored(book.Next(state));
        return (state, book);
    }

    private static void AddOne(AggregateState state, string os)
    {
        var acc = state.Series[Key("GC_MS", "", os)];
        acc.Counts[3]++;
        acc.Sum += 3;
        acc.Count++;
    }

    [Fact]
    public void A_state_reads_back_exactly_from_its_header_and_parts_in_order()
    {
        var state = Sample();
        var book = AggregatePartBook.Unknown();
        var first = book.Next(state);
        Assert.True(first.IsBase);
        book.Stored(first);
        var read = AggregateParts.ReadHeader(AggregateParts.Header(state));
        AggregateParts.Apply(first.Part!, read);
        AssertSame(state, read);
        AssertSame(new AggregateState(), AggregateParts.ReadHeader(AggregateParts.Header(new AggregateState())));
    }

    [Fact]
    public void A_write_after_a_small_change_is_a_delta_of_the_changed_series_and_later_parts_win()
    {
        var (state, book) = Stored40();
        var parts = new List<byte[]> { AggregateParts.Part(state.Series, state.Layouts) };
        AddOne(state, "OS7");
        state.Layouts["NEW"] = new MetricLayout { Kind = 2, Low = 0, High = 1, BucketCount = 3 };
        state.Series[Key("NEW", "", "OS7")] = new HistogramAccumulator { Counts = [0, 1, 0], Sum = 1, Count = 1 };

        var write = book.Next(state);
        Assert.False(write.IsBase);
        Assert.Equal([Key("GC_MS", "", "OS7"), Key("NEW", "", "OS7")], SeriesIn(write.Part!).OrderBy(k => k.Metric, StringComparer.Ordinal));
        Assert.Equal(["NEW"], AggregateStateCodec.Read(write.Part!).Layouts.Keys);
        book.Stored(write);
        parts.Add(write.Part!);

        AddOne(state, "OS7"); // the same series again: the next delta holds its new value
        var again = book.Next(state);
        Assert.Equal([Key("GC_MS", "", "OS7")], SeriesIn(again.Part!));
        book.Stored(again);
        parts.Add(again.Part!);

        var read = AggregateParts.ReadHeader(AggregateParts.Header(state));
        foreach (var part in parts)
        {
            AggregateParts.Apply(part, read);
        }
        AssertSame(state, read);
    }

    [Fact]
    public void Nothing_changed_writes_the_header_alone()
    {
        var (state, book) = Stored40();
        state.Pings++; // header fields are not in parts
        var write = book.Next(state);
        Assert.Null(write.Part);
        Assert.Equal(0, write.SeriesWritten);
    }

    [Fact]
    public void A_change_to_most_series_or_deltas_outgrowing_half_the_base_make_a_new_base()
    {
        var (state, book) = Stored40();
        for (int i = 0; i < 20; i++)
        {
            AddOne(state, "OS" + i);
        }
        var most = book.Next(state);
        Assert.True(most.IsBase);
        Assert.Equal(40, most.SeriesWritten);
        book.Stored(most);

        // Small deltas pile up until together they would pass half of the base; that write is a base.
        var kinds = new List<bool>();
        for (int round = 0; round < 12; round++)
        {
            AddOne(state, "OS" + (round % 5));
            AddOne(state, "OS" + (5 + round % 5));
            var write = book.Next(state);
            kinds.Add(write.IsBase);
            book.Stored(write);
        }
        Assert.False(kinds[0]);
        int firstBase = kinds.IndexOf(true);
        Assert.InRange(firstBase, 3, 11);
        Assert.All(kinds.Take(firstBase), k => Assert.False(k));
    }

    [Fact]
    public void Replaced_content_is_a_base_even_where_counts_equal_what_was_stored()
    {
        // Reprocessing replaces every accumulator with a new object; equal counts and sums must not hide
        // different buckets, and series it no longer has must go.
        var (state, book) = Stored40();
        var key = Key("GC_MS", "", "OS1");
        var replaced = new HistogramAccumulator(50) { Count = state.Series[key].Count, Sum = state.Series[key].Sum };
        replaced.Counts[9] = 1;
        state.Series[key] = replaced;
        var swap = book.Next(state);
        Assert.True(swap.IsBase);
        Assert.Equal(replaced.Counts, AggregateStateCodec.Read(swap.Part!).Series[key].Counts);
        book.Stored(swap);
        Assert.Null(book.Next(state).Part);

        state.Series.Remove(Key("GC_MS", "", "OS2"));
        var removal = book.Next(state);
        Assert.True(removal.IsBase);
        Assert.Equal(39, removal.SeriesWritten);
        Assert.DoesNotContain(Key("GC_MS", "", "OS2"), SeriesIn(removal.Part!));

        book.Stored(removal);
        state.Layouts.Remove("GC_MS");
        Assert.True(book.Next(state).IsBase);
    }

    [Fact]
    public void A_write_that_failed_leaves_its_series_to_the_next_write()
    {
        var (state, book) = Stored40();
        AddOne(state, "OS3");
        var failed = book.Next(state); // never Stored: its transaction rolled back
        Assert.Equal([Key("GC_MS", "", "OS3")], SeriesIn(failed.Part!));
        Assert.Equal([Key("GC_MS", "", "OS3")], SeriesIn(book.Next(state).Part!));
    }

    [Fact]
    public void Damaged_headers_and_parts_are_refused()
    {
        var state = Sample();
        var header = AggregateParts.Header(state);
        for (int cut = 0; cut < header.Length; cut++)
        {
            Assert.Throws<InvalidDataException>(() => AggregateParts.ReadHeader(header.AsSpan(0, cut)));
        }
        Assert.Throws<InvalidDataException>(() => AggregateParts.ReadHeader([.. header, 0]));
        var part = AggregateParts.Part(state.Series, state.Layouts);
        for (int cut = 0; cut < part.Length; cut++)
        {
            Assert.Throws<InvalidDataException>(() => AggregateParts.Apply(part.AsSpan(0, cut), new AggregateState()));
        }
        // A whole state (header fields inside) is not a part.
        Assert.Throws<InvalidDataException>(() => AggregateParts.Apply(AggregateStateCodec.Write(state), new AggregateState()));
    }
}
