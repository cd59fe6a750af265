using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains;
using Telemetry.Grains.Aggregates;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;
using static Telemetry.Tests.Aggregates.AggregateStateCodecTests;

namespace Telemetry.Tests.Storage;

/// <summary>
/// Aggregate states stored as a header and parts in PostgreSQL (silo/Storage/PostgresAggregateStorage.cs;
/// docs/ingest-cost.md, "Aggregate state writes"), through the grain storage a real silo registers: a
/// write stores only what changed, in one transaction with the header, a stale ETag changes nothing,
/// and states stored whole by the ADO.NET storage before are read and moved.
/// </summary>
[Collection("postgres")]
public sealed class AggregatePartStorageTests(PostgresFixture pg, ITestOutputHelper output)
{
    private const string StateName = "aggregate";

    /// <summary>A build-date aggregate's size: 10 OS/architecture variants × 300 metrics of 50 buckets.</summary>
    private static AggregateState Large()
    {
        var random = new Random(12);
        var state = new AggregateState { Pings = 5000, DataVersion = 3 };
        state.Progress[0] = new PartitionProgress { Checkpoint = 17, Applied = [19, 20] };
        for (int m = 0; m < 300; m++)
        {
            string metric = $"METRIC_{m:D3}_WITH_A_NAME_AS_LONG_AS_FIREFOX_ONES";
            state.Layouts[metric] = new MetricLayout { Kind = 0, Low = 1, High = 10_000, BucketCount = 50 };
            for (int v = 0; v < 10; v++)
            {
                var acc = new HistogramAccumulator(50) { Count = 500 };
                for (int b = 0; b < 20; b++)
                {
                    acc.Counts[random.Next(50)] += random.Next(1, 1000);
                }
                acc.Sum = random.Next(1, 1_000_000);
                state.Series[Key(metric, "", "OS" + v)] = acc;
            }
        }
        return state;
    }

    private static GrainId Grain(string key) => GrainId.Create("aggregate", key);

    private static async Task<T> ScalarAsync<T>(string cs, string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>The series in the part written with the aggregate's last header write (none: 0), and whether it is a base.</summary>
    private static async Task<(int Series, bool Base)> LastPartAsync(string cs, GrainId grain)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT p.data, p.is_base FROM aggregate_parts p JOIN aggregate_states s ON s.id = p.aggregate_id
            WHERE s.grain = @g AND p.seq = s.version
            """, conn);
        cmd.Parameters.AddWithValue("g", StateName + "/" + grain);
        await using var r = await cmd.ExecuteReaderAsync();
        return await r.ReadAsync() ? (AggregateStateCodec.Read((byte[])r[0]).Series.Count, r.GetBoolean(1)) : (0, false);
    }

    private static Task<long> WalAsync(string cs) => ScalarAsync<long>(cs, "SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint");

    [Fact]
    public async Task A_write_stores_the_series_that_changed_and_the_state_reads_back_exactly()
    {
        string cs = await pg.Server.CreateDatabaseAsync();
        await using var host = await SiloHost.StartAsync(cs);
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Aggregates);
        var adoNet = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Telemetry);
        var grain = Grain("histograms|nightly|147|20261130");

        var state = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        var large = Large();
        state.State = large;

        await storage.WriteStateAsync(StateName, grain, state);
        Assert.Equal((large.Series.Count, true), await LastPartAsync(cs, grain));

        // One ping of one variant changes one series; the next write stores that series with the header.
        var acc = large.Series[Key("METRIC_007_WITH_A_NAME_AS_LONG_AS_FIREFOX_ONES", "", "OS4")];
        acc.Counts[9] += 1;
        acc.Sum += 40;
        acc.Count++;
        large.Pings++;
        large.DataVersion++;
        large.Progress[0].Applied.Add(21);
        long wal0 = await WalAsync(cs);
        await storage.WriteStateAsync(StateName, grain, state);
        long deltaWal = await WalAsync(cs) - wal0;
        Assert.Equal((1, false), await LastPartAsync(cs, grain));

        // Nothing changed: the header only.
        await storage.WriteStateAsync(StateName, grain, state);
        Assert.Equal((0, false), await LastPartAsync(cs, grain));

        var read = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        AssertSame(large, read.State!);

        // The state read back writes only what it changes too.
        read.State!.Series[Key("METRIC_299_WITH_A_NAME_AS_LONG_AS_FIREFOX_ONES", "", "OS0")].Count++;
        await storage.WriteStateAsync(StateName, grain, read);
        Assert.Equal((1, false), await LastPartAsync(cs, grain));

        // Every series changed: a new base replaces the parts, costing what the whole state did in one row.
        foreach (var a in read.State!.Series.Values)
        {
            a.Counts[0]++;
            a.Count++;
        }
        long wal1 = await WalAsync(cs);
        await storage.WriteStateAsync(StateName, grain, read);
        long baseWal = await WalAsync(cs) - wal1;
        Assert.Equal((large.Series.Count, true), await LastPartAsync(cs, grain));
        Assert.Equal(1L, await ScalarAsync<long>(cs, "SELECT count(*) FROM aggregate_parts"));
        var whole = new GrainState<AggregateState> { State = read.State };
        await adoNet.WriteStateAsync(StateName, Grain("whole-row"), whole);
        long wal2 = await WalAsync(cs);
        await adoNet.WriteStateAsync(StateName, Grain("whole-row"), whole);
        long wholeWal = await WalAsync(cs) - wal2;
        // WAL is the whole cluster's: other tests may add to these figures, so they are reported, not asserted.
        output.WriteLine($"WAL per write of {large.Series.Count} series: one series changed {deltaWal / 1024.0:F1} KiB; every series changed {baseWal / 1024.0:F0} KiB; the whole state rewritten in one row {wholeWal / 1024.0:F0} KiB");

        var final = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, final);
        AssertSame(read.State!, final.State!);

        // Parts are compressed with lz4 where the server has it (5× cheaper than pglz on them).
        bool serverHasLz4;
        try
        {
            await ScalarAsync<int>(cs, "CREATE TEMP TABLE lz4_probe (b bytea COMPRESSION lz4); SELECT 1");
            serverHasLz4 = true;
        }
        catch (PostgresException)
        {
            serverHasLz4 = false;
        }
        output.WriteLine($"server has lz4: {serverHasLz4}");
        if (serverHasLz4)
        {
            Assert.Equal('l', await ScalarAsync<char>(cs, "SELECT attcompression FROM pg_attribute WHERE attrelid = 'aggregate_parts'::regclass AND attname = 'data'"));
        }
    }

    [Fact]
    public async Task Replaced_content_deletes_the_series_it_no_longer_has()
    {
        string cs = await pg.Server.CreateDatabaseAsync();
        await using var host = await SiloHost.StartAsync(cs);
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Aggregates);
        var grain = Grain("histograms|beta|146|20261129");
        var state = new GrainState<AggregateState> { State = Large() };
        await storage.WriteStateAsync(StateName, grain, state);

        // Reprocessing: new content, a tenth of the series, new accumulator objects.
        var smaller = Sample();
        state.State!.Series = smaller.Series.ToDictionary(kv => kv.Key, kv => new HistogramAccumulator { Counts = [.. kv.Value.Counts], Sum = kv.Value.Sum, Count = kv.Value.Count });
        state.State!.Layouts = new Dictionary<string, MetricLayout>(smaller.Layouts, StringComparer.Ordinal);
        state.State!.Pings = smaller.Pings;
        await storage.WriteStateAsync(StateName, grain, state);

        var read = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, read);
        AssertSame(state.State!, read.State!);
        Assert.Equal((smaller.Series.Count, true), await LastPartAsync(cs, grain));
        Assert.Equal(1L, await ScalarAsync<long>(cs, "SELECT count(*) FROM aggregate_parts"));
    }

    [Fact]
    public async Task A_stale_activation_cannot_write_and_a_state_object_never_read_replaces_every_part()
    {
        string cs = await pg.Server.CreateDatabaseAsync();
        await using var host = await SiloHost.StartAsync(cs);
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Aggregates);
        var grain = Grain("histograms|release|145|20261128");
        await storage.WriteStateAsync(StateName, grain, new GrainState<AggregateState> { State = Sample() });

        var first = new GrainState<AggregateState>();
        var second = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, first);
        await storage.ReadStateAsync(StateName, grain, second);
        first.State!.Pings += 10;
        first.State!.Series[Key("GC_MS", "", "Linux")].Count++;
        await storage.WriteStateAsync(StateName, grain, first);

        second.State!.Pings += 99;
        second.State!.Series[Key("GC_MS", "", "WINNT")].Count += 99;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, second));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<AggregateState> { State = Sample() }));

        var read = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, read);
        AssertSame(first.State!, read.State!);

        // A state object the storage has not read (its stored parts unknown) with a current ETag: a base replaces every part.
        var other = Sample();
        other.Series.Remove(Key("EMPTY", "", ""));
        await storage.WriteStateAsync(StateName, grain, new GrainState<AggregateState> { State = other, ETag = read.ETag });
        await storage.ReadStateAsync(StateName, grain, read);
        AssertSame(other, read.State!);

        await storage.ClearStateAsync(StateName, grain, read);
        Assert.Equal(0L, await ScalarAsync<long>(cs, "SELECT count(*) FROM aggregate_parts"));
        var cleared = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, cleared);
        Assert.False(cleared.RecordExists);
        Assert.Empty(cleared.State!.Series);
    }

    [Fact]
    public async Task A_state_stored_whole_before_parts_existed_is_read_and_moved_at_its_next_write()
    {
        string cs = await pg.Server.CreateDatabaseAsync();
        await using var host = await SiloHost.StartAsync(cs);
        var storage = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Aggregates);
        var adoNet = host.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Telemetry);
        var grain = Grain("histograms|nightly|140|20261001");
        var old = Sample();
        await adoNet.WriteStateAsync(StateName, grain, new GrainState<AggregateState> { State = old });

        var state = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, state);
        Assert.True(state.RecordExists);
        AssertSame(old, state.State!);
        Assert.Equal(0L, await ScalarAsync<long>(cs, "SELECT count(*) FROM aggregate_states"));

        state.State!.Pings++;
        await storage.WriteStateAsync(StateName, grain, state);
        Assert.Equal((old.Series.Count, true), await LastPartAsync(cs, grain));
        var left = new GrainState<AggregateState>();
        await adoNet.ReadStateAsync(StateName, grain, left);
        Assert.Empty(left.State?.Series ?? []); // the old row is cleared

        var read = new GrainState<AggregateState>();
        await storage.ReadStateAsync(StateName, grain, read);
        AssertSame(state.State!, read.State!);
    }
}
