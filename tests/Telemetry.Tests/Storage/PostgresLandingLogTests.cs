using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Storage;

/// <summary>
/// The PostgreSQL landing log on a real server: group commits COPY new rows, report duplicates,
/// and stay exactly-once when another writer stores the same docId mid-commit.
/// </summary>
[Collection("postgres")]
public sealed class PostgresLandingLogTests(PostgresFixture fixture)
{
    private static readonly DateOnly Day = new(2026, 11, 26);

    private static LandingEntry Entry(string docId, int partition, byte[] body) =>
        new(docId, partition, Day, new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero), docId + "/main/Firefox/57.0/release/20170901000000", body, "DE");

    private async Task<(PostgresLandingLog Log, string ConnectionString)> NewLogAsync()
    {
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        return (new PostgresLandingLog(cs), cs);
    }

    [Fact]
    public async Task A_group_commit_stores_new_rows_byte_for_byte_and_reports_duplicates()
    {
        var (log, _) = await NewLogAsync();
        await using var _ = log;
        var bodyA = Enumerable.Range(0, 20_000).Select(i => (byte)(i * 7)).ToArray();
        var bodyB = new byte[] { 0x1f, 0x8b, 1, 2, 3 };
        // The body is a slice of a larger (pooled) buffer, as the submit endpoint passes it.
        var pooled = new byte[bodyB.Length + 10];
        bodyB.CopyTo(pooled, 3);
        var first = await log.AppendAsync([Entry("doc-a", 1, bodyA), Entry("doc-b", 1, bodyB) with { Body = pooled.AsMemory(3, bodyB.Length), Country = null }], CancellationToken.None);
        Assert.Equal([true, true], first.Inserted);
        Assert.True(first.BatchId > 0);

        var second = await log.AppendAsync([Entry("doc-b", 1, bodyB), Entry("doc-c", 2, bodyB)], CancellationToken.None);
        Assert.Equal([false, true], second.Inserted);
        Assert.True(second.BatchId > first.BatchId);

        var rows = await log.ReadBatchAsync(1, first.BatchId, CancellationToken.None);
        Assert.Equal(["doc-a", "doc-b"], rows.Select(r => r.DocId).Order(StringComparer.Ordinal));
        Assert.Equal(bodyA, rows.Single(r => r.DocId == "doc-a").Body);
        Assert.Equal(bodyB, rows.Single(r => r.DocId == "doc-b").Body);
        Assert.Equal("DE", rows.Single(r => r.DocId == "doc-a").Country);
        Assert.Null(rows.Single(r => r.DocId == "doc-b").Country);
        Assert.Equal(3, await log.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_stored_row_gives_back_its_receive_time_to_the_microsecond()
    {
        var (log, _) = await NewLogAsync();
        await using var _ = log;
        // An import recognises the row of its own earlier attempt by this time: it must come back exact.
        var receivedAt = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero).AddTicks(1234567890);
        await log.AppendAsync([Entry("doc-t", 1, [1, 2, 3]) with { ReceivedAt = receivedAt }], CancellationToken.None);
        Assert.Equal(receivedAt, await log.GetReceivedAtAsync("doc-t", CancellationToken.None));
        Assert.Null(await log.GetReceivedAtAsync("doc-none", CancellationToken.None));
    }

    [Fact]
    public async Task A_docId_stored_by_another_writer_during_the_commit_is_a_duplicate_and_the_rest_is_stored_once()
    {
        var (log, cs) = await NewLogAsync();
        await using var _ = log;
        // Another writer holds doc-x uncommitted: the commit's duplicate check cannot see it, its COPY
        // waits on the primary key, and fails once the other writer commits.
        var (other, tx) = await HoldDocIdAsync(cs, "doc-x");
        await using var _other = other;
        await using var _tx = tx;
        var append = log.AppendAsync([Entry("doc-x", 0, [1, 2, 3]), Entry("doc-y", 0, [4, 5, 6])], CancellationToken.None);
        await Task.Delay(500);
        Assert.False(append.IsCompleted); // blocked behind the other writer's row
        await tx.CommitAsync();
        var result = await append;

        Assert.Equal([false, true], result.Inserted);
        var stored = await log.ReadBatchAsync(0, result.BatchId, CancellationToken.None);
        Assert.Equal("doc-y", Assert.Single(stored).DocId);
        Assert.Equal(2, await log.CountAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_settled_horizon_waits_for_a_transaction_holding_a_batch_id_and_no_longer()
    {
        var (log, cs) = await NewLogAsync();
        await using var _ = log;
        var first = await log.AppendAsync([Entry("doc-1", 0, [1])], CancellationToken.None);
        // Nothing in flight: the horizon covers the committed batch at once.
        Assert.True(await log.GetSettledHorizonAsync(CancellationToken.None) >= first.BatchId);

        // A group commit stalled after taking its batch id (transaction id first, as the log does).
        await using var stalled = new NpgsqlConnection(cs);
        await stalled.OpenAsync();
        await using var tx = await stalled.BeginTransactionAsync();
        long held;
        await using (var cmd = new NpgsqlCommand("SELECT pg_current_xact_id(); SELECT nextval('landing_batch_seq')", stalled, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.NextResultAsync();
            await reader.ReadAsync();
            held = reader.GetInt64(0);
        }
        // The stalled transaction is the newest one: no transaction id completed after it.
        Assert.True(await log.GetSettledHorizonAsync(CancellationToken.None) < held);
        var later = await log.AppendAsync([Entry("doc-2", 0, [2])], CancellationToken.None);
        Assert.True(later.BatchId > held);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await log.GetSettledHorizonAsync(CancellationToken.None) < held);
        }

        // Once it ends (here: it commits a row in its batch), everything up to the later batch settles.
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO landing (doc_id, batch_id, partition, submission_date, received_at, path, body) VALUES ('doc-late', {held}, 0, '2026-11-26', now(), 'p', '\\x00')", stalled, tx))
        {
            await insert.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        Assert.True(await log.GetSettledHorizonAsync(CancellationToken.None) >= later.BatchId);
        Assert.Contains(held, (await log.ListBatchesAsync(0, 0, 100, CancellationToken.None)).Select(b => b.BatchId));
    }

    /// <summary>Another writer's open transaction holding <paramref name="docId"/> (body 0x00 in the row), not yet committed.</summary>
    internal static async Task<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> HoldDocIdAsync(string cs, string docId)
    {
        var other = new NpgsqlConnection(cs);
        await other.OpenAsync();
        var tx = await other.BeginTransactionAsync();
        await using var insert = new NpgsqlCommand(
            "INSERT INTO landing (doc_id, batch_id, partition, submission_date, received_at, path, body) VALUES (@d, nextval('landing_batch_seq'), 0, '2026-11-26', now(), 'p', '\\x00')", other, tx);
        insert.Parameters.AddWithValue("d", docId);
        await insert.ExecuteNonQueryAsync();
        return (other, tx);
    }

    [Fact]
    public async Task Retention_deletes_exactly_the_rows_before_the_cutoff_that_no_partition_may_replay()
    {
        var (log, _) = await NewLogAsync();
        await using var _ = log;
        var batches = new List<long>();
        for (int day = 0; day < 5; day++)
        {
            var entries = Enumerable.Range(0, 3).Select(i => Entry($"d{day}-{i}", i, [(byte)day]) with { SubmissionDate = Day.AddDays(-day) }).ToList();
            batches.Add((await log.AppendAsync(entries, CancellationToken.None)).BatchId);
        }

        // The lowest checkpoint is day -3's batch: day -4's rows (a later batch) may still be replayed.
        Assert.Equal(3, await log.DeleteBeforeAsync(Day.AddDays(-2), batches[3], CancellationToken.None));
        Assert.Equal(12, await log.CountAsync(CancellationToken.None));

        long deleted = await log.DeleteBeforeAsync(Day.AddDays(-2), long.MaxValue, CancellationToken.None);

        Assert.Equal(3, deleted); // day -4
        Assert.Equal(9, await log.CountAsync(CancellationToken.None));
        Assert.Equal(0, await log.DeleteBeforeAsync(Day.AddDays(-2), long.MaxValue, CancellationToken.None));
    }
}
