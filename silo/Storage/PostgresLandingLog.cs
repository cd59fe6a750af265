using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Storage;

/// <summary>The landing log in PostgreSQL: one multi-row INSERT per group commit.</summary>
public sealed class PostgresLandingLog : ILandingLog, IAsyncDisposable
{
    /// <summary>Server-side limit on one statement; the settled horizon waits well beyond it.</summary>
    public static readonly TimeSpan StatementTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(30);

    private readonly NpgsqlDataSource _dataSource;
    private readonly ConcurrentQueue<(DateTimeOffset At, long Value)> _samples = new();
    private long _settled;

    public PostgresLandingLog(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Options = $"-c statement_timeout={(int)StatementTimeout.TotalMilliseconds}",
            MaxPoolSize = 50,
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
    }

    public bool IsDurable => true;

    public async Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
    {
        int n = entries.Count;
        var docIds = new string[n];
        var partitions = new int[n];
        var dates = new DateOnly[n];
        var received = new DateTime[n];
        var paths = new string[n];
        var bodies = new byte[n][];
        var countries = new string?[n];
        for (int i = 0; i < n; i++)
        {
            var e = entries[i];
            docIds[i] = e.DocId;
            partitions[i] = e.Partition;
            dates[i] = e.SubmissionDate;
            received[i] = e.ReceivedAt.UtcDateTime;
            paths[i] = e.Path;
            bodies[i] = e.Body.ToArray();
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
        await using var cmd = _dataSource.CreateCommand(sql);
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

    public async Task<long> GetSettledHorizonAsync(CancellationToken ct)
    {
        // A batch id is taken inside the INSERT statement, which the server aborts after
        // StatementTimeout; so every id handed out before a moment well past that is settled.
        await using (var cmd = _dataSource.CreateCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM landing_batch_seq"))
        {
            long value = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct));
            _samples.Enqueue((DateTimeOffset.UtcNow, value));
        }
        var cutoff = DateTimeOffset.UtcNow - SettleDelay;
        while (_samples.TryPeek(out var s) && s.At <= cutoff)
        {
            _samples.TryDequeue(out _);
            _settled = Math.Max(_settled, s.Value);
        }
        while (_samples.Count > 10_000 && _samples.TryDequeue(out _)) { }
        return _settled;
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

    public async Task<long> DeleteBeforeAsync(DateOnly cutoff, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("DELETE FROM landing WHERE submission_date < @c");
        cmd.Parameters.AddWithValue("c", cutoff);
        cmd.CommandTimeout = 600;
        return await cmd.ExecuteNonQueryAsync(ct);
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
