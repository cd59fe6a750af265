using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Storage.Bodies;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The landing log in PostgreSQL. A group commit is one transaction: take a transaction id, then
/// a batch id, and find the docIds already stored; then COPY the new rows in binary (PostgreSQL
/// spends about half the CPU per row of a multi-row INSERT ... ON CONFLICT). Should another group
/// commit store one of the same docIds in between, the COPY fails on the primary key and the
/// group is written again with INSERT ... ON CONFLICT DO NOTHING. Batch ids are settled by
/// transaction ids (see <see cref="GetSettledHorizonAsync"/>). With a body store the rows are small:
/// the group's bodies go to one object written while the rows are copied, and the commit waits for
/// it (docs/body-store.md).
/// </summary>
public sealed class PostgresLandingLog : ILandingLog, IBodyObjectMaintenance, IAsyncDisposable
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
    private readonly IBodyStore? _bodies;
    private readonly string _keyPrefix;
    private readonly bool _ownsBodies;
    private Task<long>? _horizonTask;
    private long _settled;
    private string? _namespace;

    /// <param name="connectionString">The database.</param>
    /// <param name="bodies">Where bodies go (docs/body-store.md); null keeps them in the rows.</param>
    /// <param name="keyPrefix">Prefix of this cluster's object keys in <paramref name="bodies"/>.</param>
    /// <param name="ownsBodies">Dispose <paramref name="bodies"/> with the log (the silo's; tests share theirs).</param>
    public PostgresLandingLog(string connectionString, IBodyStore? bodies = null, string keyPrefix = "", bool ownsBodies = false)
    {
        _bodies = bodies;
        _ownsBodies = ownsBodies;
        _keyPrefix = keyPrefix;
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
        var fresh = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            flags[i] = !existing.Contains(docIds[i]);
            if (flags[i])
            {
                fresh.Add(i);
            }
        }
        if (fresh.Count > 0)
        {
            // With a body store, the new rows' bodies are written as one object while the rows are copied;
            // the commit waits for both (a 200 still means durable).
            var layout = _bodies is null ? null : await LayOutAsync(entries, fresh, batchId, ct);
            Task put = layout is null ? Task.CompletedTask : _bodies!.PutAsync(layout.Key, layout.Parts, ct);
            try
            {
                await using (var import = await conn.BeginBinaryImportAsync(
                    "COPY landing (doc_id, batch_id, partition, submission_date, received_at, path, body, country, body_offset, body_length) FROM STDIN (FORMAT BINARY)", ct))
                {
                    for (int k = 0; k < fresh.Count; k++)
                    {
                        var e = entries[fresh[k]];
                        await import.StartRowAsync(ct);
                        await import.WriteAsync(e.DocId, NpgsqlDbType.Text, ct);
                        await import.WriteAsync(batchId, NpgsqlDbType.Bigint, ct);
                        await import.WriteAsync(e.Partition, NpgsqlDbType.Integer, ct);
                        await import.WriteAsync(e.SubmissionDate, NpgsqlDbType.Date, ct);
                        await import.WriteAsync(e.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                        await import.WriteAsync(e.Path, NpgsqlDbType.Text, ct);
                        if (layout is null)
                        {
                            await import.WriteAsync(e.Body, NpgsqlDbType.Bytea, ct);
                        }
                        else
                        {
                            await import.WriteNullAsync(ct);
                        }
                        if (e.Country is null)
                        {
                            await import.WriteNullAsync(ct);
                        }
                        else
                        {
                            await import.WriteAsync(e.Country, NpgsqlDbType.Text, ct);
                        }
                        if (layout is null)
                        {
                            await import.WriteNullAsync(ct);
                            await import.WriteNullAsync(ct);
                        }
                        else
                        {
                            await import.WriteAsync(layout.Offsets[fresh[k]], NpgsqlDbType.Bigint, ct);
                            await import.WriteAsync(entries[fresh[k]].Body.Length, NpgsqlDbType.Integer, ct);
                        }
                    }
                    await import.CompleteAsync(ct);
                }
                if (layout is not null)
                {
                    await RecordObjectAsync(conn, tx, batchId, layout, ct);
                }
            }
            finally
            {
                await ObserveAsync(put); // never leave the write running unobserved behind a failed COPY
            }
            await put; // its failure fails the group commit: nothing is committed
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
        var offsets = new long?[n];
        var lengths = new int?[n];
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long batchId;
        await using (var first = new NpgsqlCommand(AppendPrelude + "SELECT nextval('landing_batch_seq')", conn, tx))
        {
            // The transaction id before the batch id, as in AppendByCopyAsync.
            await using var reader = await first.ExecuteReaderAsync(ct);
            await reader.NextResultAsync(ct);
            await reader.ReadAsync(ct);
            batchId = reader.GetInt64(0);
        }
        // Which rows the server will skip is known only after the INSERT: the object holds every body
        // of the group (a skipped one is a few wasted bytes; an object no row refers to is collected).
        var layout = _bodies is null ? null : await LayOutAsync(entries, Enumerable.Range(0, n).ToList(), batchId, ct);
        for (int i = 0; i < n; i++)
        {
            var e = entries[i];
            docIds[i] = e.DocId;
            partitions[i] = e.Partition;
            dates[i] = e.SubmissionDate;
            received[i] = e.ReceivedAt.UtcDateTime;
            paths[i] = e.Path;
            countries[i] = e.Country;
            if (layout is null)
            {
                bodies[i] = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(e.Body, out var segment) ? segment : new ArraySegment<byte>(e.Body.ToArray());
            }
            else
            {
                offsets[i] = layout.Offsets[i];
                lengths[i] = e.Body.Length;
            }
        }
        if (layout is not null)
        {
            await _bodies!.PutAsync(layout.Key, layout.Parts, ct);
        }
        const string sql = """
            WITH ins AS (
                INSERT INTO landing (doc_id, batch_id, partition, submission_date, received_at, path, body, country, body_offset, body_length)
                SELECT t.d, @b, t.p, t.sd, t.ra, t.pa, t.bo, t.c, t.o, t.l
                FROM unnest(@d, @p, @sd, @ra, @pa, @bo, @c, @o, @l) AS t(d, p, sd, ra, pa, bo, c, o, l)
                ON CONFLICT (doc_id) DO NOTHING
                RETURNING doc_id, submission_date),
            obj AS (
                INSERT INTO landing_objects (batch_id, object_key, row_count, bytes, min_date, max_date)
                SELECT @b, @k, count(*), @bytes, min(submission_date), max(submission_date) FROM ins
                WHERE @k::text IS NOT NULL
                HAVING count(*) > 0)
            SELECT doc_id FROM ins
            """;
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue("b", batchId);
        cmd.Parameters.Add(new NpgsqlParameter("k", NpgsqlDbType.Text) { Value = (object?)layout?.Key ?? DBNull.Value });
        cmd.Parameters.AddWithValue("bytes", layout?.Bytes ?? 0L);
        cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = docIds });
        cmd.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = partitions });
        cmd.Parameters.Add(new NpgsqlParameter("sd", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = dates });
        cmd.Parameters.Add(new NpgsqlParameter("ra", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = received });
        cmd.Parameters.Add(new NpgsqlParameter("pa", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = paths });
        cmd.Parameters.Add(new NpgsqlParameter("bo", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = layout is null ? bodies : new byte[]?[n] });
        cmd.Parameters.Add(new NpgsqlParameter("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = countries });
        cmd.Parameters.Add(new NpgsqlParameter("o", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = offsets });
        cmd.Parameters.Add(new NpgsqlParameter("l", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = lengths });
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                inserted.Add(reader.GetString(0));
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

    /// <summary>The object of one group commit: its key, its bodies in order, and each entry's offset in it.</summary>
    private sealed record ObjectLayout(string Key, IReadOnlyList<ReadOnlyMemory<byte>> Parts, Dictionary<int, long> Offsets, long Bytes, DateOnly MinDate, DateOnly MaxDate, int Rows);

    private async Task<ObjectLayout> LayOutAsync(IReadOnlyList<LandingEntry> entries, List<int> indexes, long batchId, CancellationToken ct)
    {
        // Ordered by partition, so the rows one partition reads back (ReadBatchAsync) are one contiguous range.
        indexes.Sort((a, b) =>
        {
            int c = entries[a].Partition.CompareTo(entries[b].Partition);
            return c != 0 ? c : string.CompareOrdinal(entries[a].DocId, entries[b].DocId);
        });
        var parts = new ReadOnlyMemory<byte>[indexes.Count];
        var offsets = new Dictionary<int, long>(indexes.Count);
        long at = 0;
        DateOnly min = DateOnly.MaxValue, max = DateOnly.MinValue;
        for (int k = 0; k < indexes.Count; k++)
        {
            var e = entries[indexes[k]];
            parts[k] = e.Body;
            offsets[indexes[k]] = at;
            at += e.Body.Length;
            min = e.SubmissionDate < min ? e.SubmissionDate : min;
            max = e.SubmissionDate > max ? e.SubmissionDate : max;
        }
        return new ObjectLayout(await ObjectKeyAsync(batchId, ct), parts, offsets, at, min, max, indexes.Count);
    }

    private static async Task RecordObjectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long batchId, ObjectLayout layout, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO landing_objects (batch_id, object_key, row_count, bytes, min_date, max_date) VALUES (@b, @k, @r, @by, @min, @max)", conn, tx);
        cmd.Parameters.AddWithValue("b", batchId);
        cmd.Parameters.AddWithValue("k", layout.Key);
        cmd.Parameters.AddWithValue("r", layout.Rows);
        cmd.Parameters.AddWithValue("by", layout.Bytes);
        cmd.Parameters.AddWithValue("min", layout.MinDate);
        cmd.Parameters.AddWithValue("max", layout.MaxDate);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // observed; the caller decides what the failure means
        }
    }

    /// <summary>Keys of this database's objects start with this: the configured prefix and the database's name space.</summary>
    public async Task<string> ObjectPrefixAsync(CancellationToken ct)
    {
        if (_namespace is null)
        {
            await using var cmd = _dataSource.CreateCommand("SELECT namespace FROM landing_store");
            _namespace = (string?)await cmd.ExecuteScalarAsync(ct)
                ?? throw new InvalidOperationException("landing_store has no name space: the schema migration did not run");
        }
        return $"{_keyPrefix}{_namespace}/";
    }

    /// <summary>The key of a batch's object: zero-padded ids keep key order equal to batch order, 100,000 objects per folder.</summary>
    private async Task<string> ObjectKeyAsync(long batchId, CancellationToken ct) =>
        $"{await ObjectPrefixAsync(ct)}{batchId / 100_000:D9}/{batchId:D16}";

    /// <summary>The batch id in one of this database's object keys, or null for a key of another shape.</summary>
    internal static long? BatchIdOfKey(string key, string prefix)
    {
        if (!key.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = key.AsSpan(prefix.Length);
        int slash = rest.IndexOf('/');
        return slash == 9 && rest.Length == 9 + 1 + 16 && long.TryParse(rest[(slash + 1)..], System.Globalization.NumberStyles.None, null, out long id) && id / 100_000 == long.Parse(rest[..slash])
            ? id
            : null;
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
            SELECT l.batch_id, l.partition, l.doc_id, l.submission_date, l.received_at, l.path, l.body, l.country, l.body_offset, l.body_length, o.object_key
            FROM landing l LEFT JOIN landing_objects o ON o.batch_id = l.batch_id
            WHERE l.partition = @p AND l.batch_id = @b ORDER BY l.doc_id
            """);
        cmd.Parameters.AddWithValue("p", partition);
        cmd.Parameters.AddWithValue("b", batchId);
        return await ReadRowsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<LandedRow>> ReadForRebuildAsync(int partition, long maxBatch, DateOnly? fromDate, DateOnly? toDate,
        (long BatchId, string DocId)? after, int limit, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT l.batch_id, l.partition, l.doc_id, l.submission_date, l.received_at, l.path, l.body, l.country, l.body_offset, l.body_length, o.object_key
            FROM landing l LEFT JOIN landing_objects o ON o.batch_id = l.batch_id
            WHERE l.partition = @p AND l.batch_id <= @m
              AND (@from::date IS NULL OR l.submission_date >= @from)
              AND (@to::date IS NULL OR l.submission_date <= @to)
              AND (@ab::bigint IS NULL OR (l.batch_id, l.doc_id) > (@ab, @ad))
            ORDER BY l.batch_id, l.doc_id LIMIT @l
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

    public async Task<int> DeleteRetiredObjectsAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct)
    {
        // Every row of such an object has a submission date before the cutoff and a batch id at or below
        // the lowest checkpoint, so DeleteBeforeAsync has deleted them all. The object goes first, then
        // its record: a crash in between leaves a record whose object is gone, deleted again next time.
        if (_bodies is null)
        {
            return 0;
        }
        int total = 0;
        while (true)
        {
            var batches = new List<long>();
            var keys = new List<string>();
            await using (var cmd = _dataSource.CreateCommand("""
                SELECT batch_id, object_key FROM landing_objects WHERE max_date < @c AND batch_id <= @b ORDER BY max_date, batch_id LIMIT @n
                """))
            {
                cmd.Parameters.AddWithValue("c", cutoff);
                cmd.Parameters.AddWithValue("b", maxBatchId);
                cmd.Parameters.AddWithValue("n", RetentionChunkObjects);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    batches.Add(reader.GetInt64(0));
                    keys.Add(reader.GetString(1));
                }
            }
            if (batches.Count == 0)
            {
                return total;
            }
            await _bodies.DeleteAsync(keys, ct);
            await using (var cmd = _dataSource.CreateCommand("DELETE FROM landing_objects WHERE batch_id = ANY(@b)"))
            {
                cmd.Parameters.AddWithValue("b", batches.ToArray());
                await cmd.ExecuteNonQueryAsync(ct);
            }
            total += batches.Count;
            if (batches.Count < RetentionChunkObjects)
            {
                return total;
            }
        }
    }

    private const int RetentionChunkObjects = 1000;

    public async Task<OrphanCollection> CollectOrphansAsync(TimeSpan grace, CancellationToken ct)
    {
        // An object no committed batch refers to: its group commit failed or its silo died after the
        // write. Walk the keys in batch order from where the last run stopped; stop at the first object
        // younger than the grace (its commit may still be running, and so may later ones) or above the
        // settled horizon (a batch that may still commit). Below both, an object without a record in
        // landing_objects will never get one.
        if (_bodies is null)
        {
            return default;
        }
        string prefix = await ObjectPrefixAsync(ct);
        long horizon = await GetSettledHorizonAsync(ct);
        string? from;
        await using (var cmd = _dataSource.CreateCommand("SELECT collected_through FROM landing_store"))
        {
            from = await cmd.ExecuteScalarAsync(ct) as string;
        }
        var now = DateTimeOffset.UtcNow;
        int examined = 0, deleted = 0;
        var chunk = new List<(string Key, long Batch)>();
        await foreach (var obj in _bodies.ListAsync(prefix, from, ct))
        {
            if (now - obj.LastModified < grace)
            {
                break;
            }
            if (BatchIdOfKey(obj.Key, prefix) is not { } batch)
            {
                continue; // not one of ours: left alone
            }
            if (batch > horizon)
            {
                break;
            }
            chunk.Add((obj.Key, batch));
            if (chunk.Count == RetentionChunkObjects)
            {
                deleted += await CollectChunkAsync(chunk, ct);
                examined += chunk.Count;
                chunk.Clear();
            }
        }
        if (chunk.Count > 0)
        {
            deleted += await CollectChunkAsync(chunk, ct);
            examined += chunk.Count;
        }
        return new OrphanCollection(examined, deleted);
    }

    private async Task<int> CollectChunkAsync(List<(string Key, long Batch)> chunk, CancellationToken ct)
    {
        var referenced = new HashSet<long>();
        await using (var cmd = _dataSource.CreateCommand("SELECT batch_id FROM landing_objects WHERE batch_id = ANY(@b)"))
        {
            cmd.Parameters.AddWithValue("b", chunk.Select(c => c.Batch).ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                referenced.Add(reader.GetInt64(0));
            }
        }
        var orphans = chunk.Where(c => !referenced.Contains(c.Batch)).Select(c => c.Key).ToList();
        if (orphans.Count > 0)
        {
            await _bodies!.DeleteAsync(orphans, ct);
        }
        await using (var cmd = _dataSource.CreateCommand(
            "UPDATE landing_store SET collected_through = @k WHERE collected_through IS NULL OR collected_through < @k COLLATE \"C\""))
        {
            cmd.Parameters.AddWithValue("k", chunk[^1].Key);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return orphans.Count;
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

    private async Task<IReadOnlyList<LandedRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var result = new List<LandedRow>();
        // Rows whose body is in the store: (index in result, object key, offset, length).
        var elsewhere = new List<(int Index, string Key, long Offset, int Length)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                byte[]? body = reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6);
                if (body is null)
                {
                    if (reader.IsDBNull(10) || reader.IsDBNull(8))
                    {
                        throw new InvalidOperationException($"row {reader.GetString(2)} of batch {reader.GetInt64(0)} has no body and no object");
                    }
                    elsewhere.Add((result.Count, reader.GetString(10), reader.GetInt64(8), reader.GetInt32(9)));
                }
                result.Add(new LandedRow(
                    reader.GetInt64(0),
                    reader.GetInt32(1),
                    reader.GetString(2),
                    reader.GetFieldValue<DateOnly>(3),
                    new DateTimeOffset(reader.GetDateTime(4), TimeSpan.Zero),
                    reader.GetString(5),
                    body ?? [],
                    reader.IsDBNull(7) ? null : reader.GetString(7)));
            }
        }
        if (elsewhere.Count > 0)
        {
            if (_bodies is null)
            {
                throw new InvalidOperationException(
                    $"{elsewhere.Count} row(s) have their body in a body store, but none is configured ({BodyStoreOptions.Section}:Kind is database)");
            }
            // One ranged read per object: a partition's rows of one group commit lie next to each other.
            foreach (var group in elsewhere.GroupBy(r => r.Key))
            {
                long from = group.Min(r => r.Offset);
                long to = group.Max(r => r.Offset + r.Length);
                var bytes = await _bodies.ReadAsync(group.Key, from, checked((int)(to - from)), ct);
                foreach (var (index, _, offset, length) in group)
                {
                    result[index] = result[index] with { Body = bytes.AsSpan((int)(offset - from), length).ToArray() };
                }
            }
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        if (_ownsBodies && _bodies is IDisposable bodies)
        {
            bodies.Dispose();
        }
    }
}
