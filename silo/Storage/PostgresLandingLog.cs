using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The landing log in PostgreSQL. A group commit is one transaction: take a transaction id, then
/// a batch id, and find the docIds already stored; then COPY the new rows in binary (PostgreSQL
/// spends about half the CPU per row of a multi-row INSERT ... ON CONFLICT). Should another group
/// commit store one of the same docIds in between, the COPY fails on the primary key and the
/// group is written again with INSERT ... ON CONFLICT DO NOTHING. Batch ids are settled by
/// transaction ids (see <see cref="GetSettledHorizonAsync"/>).
/// </summary>
public sealed class PostgresLandingLog : ILandingLog, IAsyncDisposable
{
    /// <summary>Server-side limit on one statement of this log's connections (group commits use less).</summary>
    public static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Server-side limit on a transaction waiting for its client between statements.</summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(5);

    // A group commit's transaction: two statements (batch id and duplicates, then COPY) of at most
    // 5 s each and idle gaps of at most 2 s (both enforced by the server), then COMMIT.
    // Its start: its bounds, then its transaction id before its batch id
    // (the settled horizon relies on this order).
    private const string AppendPrelude =
        "SET LOCAL statement_timeout = 5000; SET LOCAL idle_in_transaction_session_timeout = 2000; SELECT pg_current_xact_id(); ";

    // See GetSettledHorizonAsync: the fallback when an unrelated transaction holds the xmin back.
    private static readonly TimeSpan SettleByAge = TimeSpan.FromMinutes(10);

    private readonly NpgsqlDataSource _dataSource;
    private readonly Queue<(DateTimeOffset At, long Value, long Xid)> _samples = new();
    private Task<long>? _horizonTask;
    private long _settled;

    public PostgresLandingLog(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Options = $"-c statement_timeout={(int)StatementTimeout.TotalMilliseconds} -c idle_in_transaction_session_timeout={(int)IdleInTransactionTimeout.TotalMilliseconds}",
            MaxPoolSize = 50,
            WriteBufferSize = 64 * 1024, // bodies are ~20 KB: fewer, larger socket writes
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
    }

    public bool IsDurable => true;

    public async Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
    {
        try
        {
            return await AppendByCopyAsync(entries, ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // A concurrent group commit stored one of these docIds after the check: nothing of this
            // transaction stayed; write the group again, letting the server skip the duplicates.
            return await AppendByInsertAsync(entries, ct);
        }
    }

    private async Task<AppendResult> AppendByCopyAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
    {
        int n = entries.Count;
        var docIds = new string[n];
        for (int i = 0; i < n; i++)
        {
            docIds[i] = entries[i].DocId;
        }
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long batchId;
        HashSet<string> existing;
        await using (var cmd = new NpgsqlCommand(
            AppendPrelude + "SELECT nextval('landing_batch_seq'), ARRAY(SELECT doc_id FROM landing WHERE doc_id = ANY(@d))", conn, tx))
        {
            cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = docIds });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.NextResultAsync(ct); // past the transaction id
            await reader.ReadAsync(ct);
            batchId = reader.GetInt64(0);
            existing = new HashSet<string>(reader.GetFieldValue<string[]>(1), StringComparer.Ordinal);
        }
        var flags = new bool[n];
        int fresh = 0;
        for (int i = 0; i < n; i++)
        {
            flags[i] = !existing.Contains(docIds[i]);
            fresh += flags[i] ? 1 : 0;
        }
        if (fresh > 0)
        {
            await using var import = await conn.BeginBinaryImportAsync(
                "COPY landing (doc_id, batch_id, partition, submission_date, received_at, path, body, country) FROM STDIN (FORMAT BINARY)", ct);
            for (int i = 0; i < n; i++)
            {
                if (!flags[i])
                {
                    continue;
                }
                var e = entries[i];
                await import.StartRowAsync(ct);
                await import.WriteAsync(e.DocId, NpgsqlDbType.Text, ct);
                await import.WriteAsync(batchId, NpgsqlDbType.Bigint, ct);
                await import.WriteAsync(e.Partition, NpgsqlDbType.Integer, ct);
                await import.WriteAsync(e.SubmissionDate, NpgsqlDbType.Date, ct);
                await import.WriteAsync(e.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                await import.WriteAsync(e.Path, NpgsqlDbType.Text, ct);
                await import.WriteAsync(e.Body, NpgsqlDbType.Bytea, ct);
                if (e.Country is null)
                {
                    await import.WriteNullAsync(ct);
                }
                else
                {
                    await import.WriteAsync(e.Country, NpgsqlDbType.Text, ct);
                }
            }
            await import.CompleteAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new AppendResult(batchId, flags);
    }

    private async Task<AppendResult> AppendByInsertAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
    {
        int n = entries.Count;
        var docIds = new string[n];
        var partitions = new int[n];
        var dates = new DateOnly[n];
        var received = new DateTime[n];
        var paths = new string[n];
        var bodies = new ArraySegment<byte>[n];
        var countries = new string?[n];
        for (int i = 0; i < n; i++)
        {
            var e = entries[i];
            docIds[i] = e.DocId;
            partitions[i] = e.Partition;
            dates[i] = e.SubmissionDate;
            received[i] = e.ReceivedAt.UtcDateTime;
            paths[i] = e.Path;
            bodies[i] = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Body, out var segment) ? segment : new ArraySegment<byte>(e.Body.ToArray());
            countries[i] = e.Country;
        }
        const string sql = """
            WITH b AS (SELECT nextval('landing_batch_seq') AS id)
            INSERT INTO landing (doc_id, batch_id, partition, submission_date, received_at, path, body, country)
            SELECT t.d, b.id, t.p, t.sd, t.ra, t.pa, t.bo, t.c
            FROM b, unnest(@d, @p, @sd, @ra, @pa, @bo, @c) AS t(d, p, sd, ra, pa, bo, c)
            ON CONFLICT (doc_id) DO NOTHING
            RETURNING doc_id, batch_id
            """;
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var xid = new NpgsqlCommand(
            AppendPrelude, conn, tx))
        {
            await xid.ExecuteNonQueryAsync(ct); // the transaction id before the batch id, as in AppendByCopyAsync
        }
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = docIds });
        cmd.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = partitions });
        cmd.Parameters.Add(new NpgsqlParameter("sd", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = dates });
        cmd.Parameters.Add(new NpgsqlParameter("ra", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = received });
        cmd.Parameters.Add(new NpgsqlParameter("pa", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = paths });
        cmd.Parameters.Add(new NpgsqlParameter("bo", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = bodies });
        cmd.Parameters.Add(new NpgsqlParameter("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = countries });
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        long batchId = 0;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                inserted.Add(reader.GetString(0));
                batchId = reader.GetInt64(1);
            }
        }
        await tx.CommitAsync(ct);
        var flags = new bool[n];
        for (int i = 0; i < n; i++)
        {
            flags[i] = inserted.Remove(docIds[i]);
        }
        return new AppendResult(batchId, flags);
    }

    public async Task<long> GetLastBatchIdAsync(CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM landing_batch_seq");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    public Task<long> GetSettledHorizonAsync(CancellationToken ct)
    {
        // Every partition asks at every poll and their polls run in step: callers that arrive while
        // a computation is running share it (its answer is at most as new as theirs would be, which
        // is always safe: an older horizon only holds checkpoints back).
        lock (_samples)
        {
            if (_horizonTask is { IsCompleted: false } running)
            {
                return running.WaitAsync(ct);
            }
            return _horizonTask = ComputeSettledHorizonAsync(CancellationToken.None);
        }
    }

    private async Task<long> ComputeSettledHorizonAsync(CancellationToken ct)
    {
        // A group commit gets its transaction id before its batch id. So after reading L, the last
        // batch id handed out, a transaction id X assigned afterwards is above the id of every
        // transaction that took a batch id ≤ L (ids are assigned in increasing order). Once no
        // transaction below X is running (a later snapshot's xmin ≥ X), all of them have committed
        // or aborted and L is settled. No timing assumption is needed; only if something else
        // keeps a transaction open very long does a sample settle by age (far beyond the
        // server-side bounds on a group commit's statements and idle time).
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        long last, xid;
        await using (var tx = await conn.BeginTransactionAsync(ct))
        await using (var cmd = new NpgsqlCommand(
            "SET LOCAL synchronous_commit = off; " + // this transaction writes nothing worth waiting for
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM landing_batch_seq; " +
            "SELECT pg_current_xact_id()::text::bigint", conn, tx))
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            last = reader.GetInt64(0);
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            xid = reader.GetInt64(0);
            await reader.DisposeAsync();
            await tx.CommitAsync(ct);
        }
        long xmin;
        await using (var cmd = new NpgsqlCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", conn))
        {
            xmin = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
        }
        var now = DateTimeOffset.UtcNow;
        lock (_samples)
        {
            _samples.Enqueue((now, last, xid));
            while (_samples.TryPeek(out var sample) && (sample.Xid <= xmin || now - sample.At >= SettleByAge))
            {
                _samples.Dequeue();
                _settled = Math.Max(_settled, sample.Value);
            }
            while (_samples.Count > 10_000)
            {
                _samples.Dequeue(); // never settled by xid yet: the newest keep the horizon moving by age
            }
            return _settled;
        }
    }

    public async Task<IReadOnlyList<LandedBatch>> ListBatchesAsync(int partition, long afterBatch, int limit, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT batch_id, min(received_at) FROM landing
            WHERE partition = @p AND batch_id > @a
            GROUP BY batch_id ORDER BY batch_id LIMIT @l
            """);
        cmd.Parameters.AddWithValue("p", partition);
        cmd.Parameters.AddWithValue("a", afterBatch);
        cmd.Parameters.AddWithValue("l", limit);
        var result = new List<LandedBatch>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new LandedBatch(reader.GetInt64(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero)));
        }
        return result;
    }

    public async Task<IReadOnlyList<LandedRow>> ReadBatchAsync(int partition, long batchId, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT batch_id, partition, doc_id, submission_date, received_at, path, body, country FROM landing
            WHERE partition = @p AND batch_id = @b ORDER BY doc_id
            """);
        cmd.Parameters.AddWithValue("p", partition);
        cmd.Parameters.AddWithValue("b", batchId);
        return await ReadRowsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<LandedRow>> ReadForRebuildAsync(int partition, long maxBatch, DateOnly? fromDate, DateOnly? toDate,
        (long BatchId, string DocId)? after, int limit, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT batch_id, partition, doc_id, submission_date, received_at, path, body, country FROM landing
            WHERE partition = @p AND batch_id <= @m
              AND (@from::date IS NULL OR submission_date >= @from)
              AND (@to::date IS NULL OR submission_date <= @to)
              AND (@ab::bigint IS NULL OR (batch_id, doc_id) > (@ab, @ad))
            ORDER BY batch_id, doc_id LIMIT @l
            """);
        cmd.Parameters.AddWithValue("p", partition);
        cmd.Parameters.AddWithValue("m", maxBatch);
        cmd.Parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.Date) { Value = (object?)fromDate ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("to", NpgsqlDbType.Date) { Value = (object?)toDate ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("ab", NpgsqlDbType.Bigint) { Value = (object?)after?.BatchId ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("ad", NpgsqlDbType.Text) { Value = (object?)after?.DocId ?? DBNull.Value });
        cmd.Parameters.AddWithValue("l", limit);
        return await ReadRowsAsync(cmd, ct);
    }

    public async Task<long> DeleteBeforeAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct)
    {
        // In chunks: a day of pings is millions of rows (each with ~10 TOAST chunks), far more than
        // one statement may take under the server-side statement_timeout of this connection.
        long total = 0;
        while (true)
        {
            await using var cmd = _dataSource.CreateCommand("""
                DELETE FROM landing WHERE doc_id IN (
                    SELECT doc_id FROM landing WHERE submission_date < @c AND batch_id <= @b LIMIT @n)
                """);
            cmd.Parameters.AddWithValue("c", cutoff);
            cmd.Parameters.AddWithValue("b", maxBatchId);
            cmd.Parameters.AddWithValue("n", RetentionChunkRows);
            int deleted = await cmd.ExecuteNonQueryAsync(ct);
            total += deleted;
            if (deleted < RetentionChunkRows)
            {
                return total;
            }
        }
    }

    private const int RetentionChunkRows = 2000;

    public async Task<DateTimeOffset?> GetReceivedAtAsync(string docId, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT received_at FROM landing WHERE doc_id = @d");
        cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Text) { Value = docId });
        return await cmd.ExecuteScalarAsync(ct) is DateTime receivedAt ? new DateTimeOffset(receivedAt, TimeSpan.Zero) : null;
    }

    public async Task<long> CountAsync(CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT count(*) FROM landing");
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
    }

    private static async Task<IReadOnlyList<LandedRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var result = new List<LandedRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new LandedRow(
                reader.GetInt64(0),
                reader.GetInt32(1),
                reader.GetString(2),
                reader.GetFieldValue<DateOnly>(3),
                new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero),
                reader.GetString(5),
                reader.GetFieldValue<byte[]>(6),
                reader.IsDBNull(7) ? null : reader.GetString(7)));
        }
        return result;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
