using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Expiry;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The expiry ledger in PostgreSQL (tables <c>expiry_notices</c> and <c>expiry_runs</c>,
/// silo/Storage/Sql/005-expiry.sql; docs/expiry.md). A recording run is one READ COMMITTED
/// transaction: it locks the <c>expiry_runs</c> row, reads the notices sent so far, lets the caller
/// plan, then inserts the new notices, queues their mails through
/// <see cref="PostgresOutboxStore.EnqueueAsync(NpgsqlTransaction, IReadOnlyList{Telemetry.Grains.Notifications.OutboxMail}, CancellationToken)"/>
/// and moves the last run day, and commits: notices and mails together or not at all. A second run,
/// from any silo, waits for the lock and then sees what the first recorded.
/// </summary>
public sealed class PostgresExpiryLedger : IExpiryLedger, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresOutboxStore _outbox;
    private readonly TimeProvider _time;

    public PostgresExpiryLedger(string connectionString, PostgresOutboxStore outbox, TimeProvider time)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // A run holds the lock while it reads subscriptions and opt-outs: seconds at most. A stuck
            // statement or an abandoned transaction must end and release the lock for the next run.
            Options = "-c statement_timeout=30000 -c idle_in_transaction_session_timeout=60000",
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
        _outbox = outbox;
        _time = time;
    }

    public bool IsDurable => true;

    public async Task<ExpiryLedgerState> ReadAsync(CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var state = await ReadStateAsync(conn, tx, forUpdate: false, ct);
        await tx.CommitAsync(ct);
        return state;
    }

    public async Task<TResult> RecordAsync<TResult>(Func<ExpiryLedgerState, CancellationToken, Task<ExpiryLedgerWrite<TResult>>> plan, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct); // READ COMMITTED: see docs/notifications.md
        var write = await plan(await ReadStateAsync(conn, tx, forUpdate: true, ct), ct);
        var now = _time.GetUtcNow();
        if (write.Notices.Count > 0)
        {
            // No ON CONFLICT: under the lock a notice recorded before is a bug, and failing the
            // transaction keeps its mail from going out twice.
            await using var insert = new NpgsqlCommand("""
                INSERT INTO expiry_notices (probe, version, stage, expiry_date, as_of, recorded_at)
                SELECT t.p, t.v, t.s, t.e, t.a, @now FROM unnest(@p, @v, @s, @e, @a) AS t(p, v, s, e, a)
                """, conn, tx);
            insert.Parameters.AddWithValue("now", now);
            insert.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = write.Notices.Select(n => n.Key.Probe).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("v", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = write.Notices.Select(n => n.Key.Version).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("s", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = write.Notices.Select(n => n.Key.Stage.WireName()).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("e", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = write.Notices.Select(n => n.ExpiryDate).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter("a", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = write.Notices.Select(n => n.AsOf).ToArray() });
            await insert.ExecuteNonQueryAsync(ct);
        }
        if (write.Mails.Count > 0)
        {
            await _outbox.EnqueueAsync(tx, write.Mails, ct);
        }
        await using (var update = new NpgsqlCommand(
            "UPDATE expiry_runs SET last_run = greatest(last_run, @d), updated_at = @now WHERE id = 1", conn, tx))
        {
            update.Parameters.AddWithValue("d", write.AsOf);
            update.Parameters.AddWithValue("now", now);
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return write.Result;
    }

    private static async Task<ExpiryLedgerState> ReadStateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, bool forUpdate, CancellationToken ct)
    {
        DateOnly? lastRun;
        await using (var run = new NpgsqlCommand("SELECT last_run FROM expiry_runs WHERE id = 1" + (forUpdate ? " FOR UPDATE" : ""), conn, tx))
        {
            var value = await run.ExecuteScalarAsync(ct)
                ?? throw new InvalidOperationException("expiry_runs has no row; the schema migration (005-expiry.sql) did not run");
            lastRun = value is DBNull ? null : value is DateOnly d ? d : DateOnly.FromDateTime((DateTime)value);
        }
        // A new statement after the lock: under READ COMMITTED it sees what the run before committed.
        var sent = new HashSet<NoticeKey>();
        await using var cmd = new NpgsqlCommand("SELECT probe, version, stage FROM expiry_notices", conn, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var stage = reader.GetString(2);
            if (!NoticeStages.TryParse(stage, out var s))
            {
                throw new InvalidOperationException($"expiry_notices holds an unknown stage '{stage}'");
            }
            sent.Add(new NoticeKey(reader.GetString(0), reader.GetString(1), s.Value));
        }
        return new ExpiryLedgerState(lastRun, sent);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
