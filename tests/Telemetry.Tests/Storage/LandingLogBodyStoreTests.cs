using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Storage;
using Telemetry.Silo.Storage.Bodies;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Sentry;

namespace Telemetry.Tests.Storage;

/// <summary>
/// The PostgreSQL landing log with its bodies in a body store (docs/body-store.md), on both stores:
/// a real directory, and S3 (fauxqs on loopback). PostgreSQL keeps small rows; bodies come back
/// byte for byte; retention and orphan collection delete exactly the objects nothing refers to.
/// </summary>
[Collection("postgres")]
public sealed class LandingLogBodyStoreTests(PostgresFixture pg, FauxqsFixture fauxqs) : IClassFixture<FauxqsFixture>, IDisposable
{
    private static readonly DateOnly Day = new(2026, 11, 26);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "telemetry-landing-bodies-" + Guid.NewGuid().ToString("N")[..12]);

    public static TheoryData<string> Kinds => new() { "filesystem", "s3" };

    private static LandingEntry Entry(string docId, int partition, byte[] body, DateOnly? day = null) =>
        new(docId, partition, day ?? Day, new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero), docId + "/main/Firefox/57.0/release/20170901000000", body, "DE");

    private static byte[] Body(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(i * 13 + seed)).ToArray();

    private IBodyStore NewS3()
    {
        var o = fauxqs.Server.S3Options("landing-" + Guid.NewGuid().ToString("N")[..12]);
        return new S3BodyStore(S3BodyStore.CreateClient(o), o.Bucket);
    }

    private async Task<(PostgresLandingLog Log, IBodyStore Store, string ConnectionString)> NewLogAsync(string kind)
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        var store = kind == "s3" ? NewS3() : new FileSystemBodyStore(_dir);
        return (new PostgresLandingLog(cs, store, "landing/"), store, cs);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Bodies_go_to_one_object_per_commit_and_come_back_byte_for_byte_by_batch_and_for_rebuilds(string kind)
    {
        var (log, store, cs) = await NewLogAsync(kind);
        await using var _ = log;
        var bodies = Enumerable.Range(0, 9).Select(i => Body(1000 + i * 3001, i)).ToArray();
        // Partitions interleaved in the group, as requests arrive.
        var first = await log.AppendAsync([.. Enumerable.Range(0, 6).Select(i => Entry($"doc-{i}", i % 3, bodies[i]))], CancellationToken.None);
        var second = await log.AppendAsync([Entry("doc-2", 2, bodies[2]), .. Enumerable.Range(6, 3).Select(i => Entry($"doc-{i}", i % 3, bodies[i]))], CancellationToken.None);
        Assert.Equal([false, true, true, true], second.Inserted);

        for (int p = 0; p < 3; p++)
        {
            var rows = await log.ReadBatchAsync(p, first.BatchId, CancellationToken.None);
            Assert.Equal(Enumerable.Range(0, 6).Where(i => i % 3 == p).Select(i => $"doc-{i}"), rows.Select(r => r.DocId).Order(StringComparer.Ordinal));
            Assert.All(rows, r => Assert.Equal(bodies[int.Parse(r.DocId[4..])], r.Body));
        }
        // A rebuild reads in pages that cut through batches.
        var rebuilt = new List<LandedRow>();
        (long, string)? after = null;
        while (true)
        {
            var page = await log.ReadForRebuildAsync(1, long.MaxValue, Day, Day, after, 1, CancellationToken.None);
            if (page.Count == 0)
            {
                break;
            }
            rebuilt.AddRange(page);
            after = (page[^1].BatchId, page[^1].DocId);
        }
        Assert.Equal(["doc-1", "doc-4", "doc-7"], rebuilt.Select(r => r.DocId));
        Assert.All(rebuilt, r => Assert.Equal(bodies[int.Parse(r.DocId[4..])], r.Body));

        // PostgreSQL holds no body; one object per commit, with the bytes of its new rows only.
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("SELECT count(*) FILTER (WHERE body IS NOT NULL), count(*) FROM landing", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal(0, reader.GetInt64(0));
            Assert.Equal(9, reader.GetInt64(1));
        }
        var objects = new List<(long Batch, int Rows, long Bytes)>();
        await using (var cmd = new NpgsqlCommand("SELECT batch_id, row_count, bytes FROM landing_objects ORDER BY batch_id", conn))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                objects.Add((reader.GetInt64(0), reader.GetInt32(1), reader.GetInt64(2)));
            }
        }
        Assert.Equal([(first.BatchId, 6, bodies[..6].Sum(b => (long)b.Length)), (second.BatchId, 3, bodies[6..].Sum(b => (long)b.Length))], objects);
        var listed = await ListAsync(store, await log.ObjectPrefixAsync(CancellationToken.None));
        Assert.Equal(objects.Select(o => o.Bytes), listed.Select(o => o.Size));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_docId_stored_by_another_writer_during_the_commit_still_leaves_every_body_readable(string kind)
    {
        var (log, _, cs) = await NewLogAsync(kind);
        await using var _ = log;
        var (other, tx) = await PostgresLandingLogTests.HoldDocIdAsync(cs, "doc-x");
        await using var _other = other;
        await using var _tx = tx;
        var append = log.AppendAsync([Entry("doc-x", 0, Body(10, 1)), Entry("doc-y", 0, Body(20_000, 2)), Entry("doc-z", 1, Body(30, 3))], CancellationToken.None);
        await Task.Delay(500);
        Assert.False(append.IsCompleted);
        await tx.CommitAsync();
        var result = await append; // written again through the INSERT path, with a new object

        Assert.Equal([false, true, true], result.Inserted);
        Assert.Equal(Body(20_000, 2), Assert.Single(await log.ReadBatchAsync(0, result.BatchId, CancellationToken.None)).Body);
        Assert.Equal(Body(30, 3), Assert.Single(await log.ReadBatchAsync(1, result.BatchId, CancellationToken.None)).Body);
        Assert.Equal([0x00], Assert.Single(await log.ReadForRebuildAsync(0, long.MaxValue, null, null, null, 10, CancellationToken.None), r => r.DocId == "doc-x").Body);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_body_store_that_fails_fails_the_commit_and_nothing_is_stored(string kind)
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        IBodyStore broken;
        if (kind == "s3")
        {
            var o = new BodyStoreOptions { Kind = "s3", ServiceUrl = $"http://127.0.0.1:{TestPaths.FreePort()}", Bucket = "nowhere" };
            broken = new S3BodyStore(S3BodyStore.CreateClient(o), o.Bucket);
        }
        else
        {
            // Where the store wants the cluster's folder there is a file: every write fails, as on a broken disk.
            Directory.CreateDirectory(_dir);
            await File.WriteAllTextAsync(Path.Combine(_dir, "landing"), "in the way");
            broken = new FileSystemBodyStore(_dir);
        }
        await using var log = new PostgresLandingLog(cs, broken, "landing/");

        await Assert.ThrowsAnyAsync<Exception>(() => log.AppendAsync([Entry("doc-a", 0, Body(100, 1))], CancellationToken.None));

        Assert.Equal(0, await log.CountAsync(CancellationToken.None));
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM landing_objects", conn);
        Assert.Equal(0L, await cmd.ExecuteScalarAsync());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Retention_deletes_the_objects_whose_rows_are_all_gone_and_keeps_the_rest(string kind)
    {
        var (log, store, _) = await NewLogAsync(kind);
        await using var _ = log;
        var batches = new List<long>();
        for (int day = 0; day < 5; day++)
        {
            var entries = Enumerable.Range(0, 3).Select(i => Entry($"d{day}-{i}", i, Body(500, day), Day.AddDays(-day))).ToList();
            batches.Add((await log.AppendAsync(entries, CancellationToken.None)).BatchId);
        }
        // One object straddling the cutoff: one row before it, one after.
        var straddling = (await log.AppendAsync([Entry("s-old", 0, Body(10, 7), Day.AddDays(-4)), Entry("s-new", 1, Body(10, 8), Day)], CancellationToken.None)).BatchId;
        string prefix = await log.ObjectPrefixAsync(CancellationToken.None);
        Assert.Equal(6, (await ListAsync(store, prefix)).Count);

        // The lowest checkpoint is day -3's batch: day -4's object (a later batch) stays.
        Assert.Equal(3, await log.DeleteBeforeAsync(Day.AddDays(-2), batches[3], CancellationToken.None));
        Assert.Equal(1, await log.DeleteRetiredObjectsAsync(Day.AddDays(-2), batches[3], CancellationToken.None));
        Assert.Equal(4, await log.DeleteBeforeAsync(Day.AddDays(-2), long.MaxValue, CancellationToken.None));
        Assert.Equal(1, await log.DeleteRetiredObjectsAsync(Day.AddDays(-2), long.MaxValue, CancellationToken.None));

        var left = (await ListAsync(store, prefix)).Select(o => PostgresLandingLog.BatchIdOfKey(o.Key, prefix)).ToList();
        Assert.Equal([batches[0], batches[1], batches[2], straddling], left);
        // What is left still reads back, including the straddling object's newer row.
        Assert.Equal(Body(10, 8), Assert.Single(await log.ReadBatchAsync(1, straddling, CancellationToken.None)).Body);
        Assert.Equal(3, (await log.ReadForRebuildAsync(2, long.MaxValue, null, null, null, 100, CancellationToken.None)).Count);
        Assert.Equal(0, await log.DeleteRetiredObjectsAsync(Day.AddDays(-2), long.MaxValue, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Orphan_collection_deletes_old_objects_of_batches_that_never_committed_and_nothing_else(string kind)
    {
        var (log, store, cs) = await NewLogAsync(kind);
        await using var _ = log;
        var committed = (await log.AppendAsync([Entry("a", 0, Body(100, 1)), Entry("b", 1, Body(100, 2))], CancellationToken.None)).BatchId;
        string prefix = await log.ObjectPrefixAsync(CancellationToken.None);
        // Two group commits that wrote their object and then failed: their batch ids were taken and never committed.
        long orphanA, orphanB;
        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT nextval('landing_batch_seq'), nextval('landing_batch_seq')", conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            (orphanA, orphanB) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        string KeyOf(long batch) => $"{prefix}{batch / 100_000:D9}/{batch:D16}";
        await store.PutAsync(KeyOf(orphanA), [Body(50, 3)], CancellationToken.None);
        await store.PutAsync(KeyOf(orphanB), [Body(50, 4)], CancellationToken.None);
        await store.PutAsync(prefix + "README", [Body(5, 5)], CancellationToken.None); // not of the log's shape: left alone
        var later = (await log.AppendAsync([Entry("c", 0, Body(100, 6))], CancellationToken.None)).BatchId;
        await TestPaths.EventuallyAsync(async () => await log.GetSettledHorizonAsync(CancellationToken.None) >= later, TimeSpan.FromSeconds(20));

        // Younger than the grace: nothing is touched (a commit may still be on its way).
        Assert.Equal(new OrphanCollection(0, 0), await log.CollectOrphansAsync(TimeSpan.FromHours(1), CancellationToken.None));
        Assert.Equal(5, (await ListAsync(store, prefix)).Count);

        var collected = await log.CollectOrphansAsync(TimeSpan.Zero, CancellationToken.None);

        Assert.Equal(new OrphanCollection(4, 2), collected);
        Assert.Equal([KeyOf(committed), KeyOf(later), prefix + "README"], (await ListAsync(store, prefix)).Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.Equal(Body(100, 6), Assert.Single(await log.ReadBatchAsync(0, later, CancellationToken.None)).Body);
        // The next run starts after what this one examined.
        Assert.Equal(new OrphanCollection(0, 0), await log.CollectOrphansAsync(TimeSpan.Zero, CancellationToken.None));
    }

    private static async Task<List<StoredObject>> ListAsync(IBodyStore store, string prefix)
    {
        var list = new List<StoredObject>();
        await foreach (var o in store.ListAsync(prefix, null, CancellationToken.None))
        {
            list.Add(o);
        }
        return list;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
