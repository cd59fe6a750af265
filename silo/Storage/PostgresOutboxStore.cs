using System.Text;
using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The outbox in PostgreSQL (table <c>outbox</c>, silo/Storage/Sql/003-outbox.sql; docs/notifications.md).
/// <list type="bullet">
/// <item>Enqueue is <c>INSERT ... ON CONFLICT (alert_key, recipient) DO NOTHING</c>: the unique pair
/// makes a second enqueue of the same alert for the same person a no-op, from any silo, at any time.</item>
/// <item>An alert writer that records its alert in PostgreSQL enqueues in the same transaction with
/// <see cref="EnqueueAsync(NpgsqlTransaction, IReadOnlyList{OutboxMail}, CancellationToken)"/>: the alert
/// and its mails commit together or not at all.</item>
/// <item>Claiming takes due rows <c>FOR UPDATE SKIP LOCKED</c> and leases them to one dispatcher
/// (<c>claimed_by</c>, <c>claimed_until</c>): two silos never claim the same row, and a row whose
/// dispatcher died is due again when the lease runs out.</item>
/// </list>
/// </summary>
public sealed class PostgresOutboxStore : IOutboxStore, IAsyncDisposable
{
    private const string Columns =
        "id, alert_key, recipient, kind, subject, text_body, html_body, unsubscribe_url, state, attempts, next_attempt_at, last_error, claimed_by, claimed_until, created_at, sent_at";

    // The same columns qualified, for the claim's UPDATE ... FROM (where a bare "id" is ambiguous).
    private static readonly string ClaimedColumns = string.Join(", ", Columns.Split(", ").Select(c => "o." + c));

    private const string InsertSql = """
        INSERT INTO outbox (alert_key, recipient, kind, subject, text_body, html_body, unsubscribe_url, state, next_attempt_at, created_at)
        SELECT t.a, t.r, t.k, t.s, t.tb, t.hb, t.u, CASE WHEN t.d THEN 'folded' ELSE 'pending' END, @now, @now
        FROM unnest(@a, @r, @k, @s, @tb, @hb, @u, @d) WITH ORDINALITY AS t(a, r, k, s, tb, hb, u, d, ord)
        ORDER BY t.ord
        ON CONFLICT (alert_key, recipient) DO NOTHING
        RETURNING id, alert_key, recipient
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;

    public PostgresOutboxStore(string connectionString, TimeProvider time)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            // Every statement here touches a handful of rows by index; a stuck one should fail and be retried.
            Options = "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=15000",
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
        _time = time;
    }

    public bool IsDurable => true;

    public async Task<EnqueueResult> EnqueueAsync(OutboxMail mail, CancellationToken ct) =>
        (await EnqueueAsync([mail], ct))[0];

    public async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<OutboxMail> mails, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var results = await EnqueueAsync(tx, mails, ct);
        await tx.CommitAsync(ct);
        return results;
    }

    /// <summary>
    /// Enqueues inside the caller's open transaction (READ COMMITTED, the default), so that the mails
    /// commit with whatever else it writes, typically the alert they announce:
    /// <code>
    /// await using var tx = await conn.BeginTransactionAsync(ct);
    /// long alertId = await InsertAlertAsync(conn, tx, alert, ct);      // the alert writer's own row
    /// await outbox.EnqueueAsync(tx, [new OutboxMail($"regression:{alertId}", to, MailKinds.Regression, subject, body, UnsubscribeUrl: link)], ct);
    /// await tx.CommitAsync(ct);                                       // alert and mails, or neither
    /// </code>
    /// A pair queued before (or by a concurrent transaction that commits) is reported <c>AlreadyQueued</c>
    /// with its id. Nothing is committed or rolled back here.
    /// </summary>
    public async Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(NpgsqlTransaction tx, IReadOnlyList<OutboxMail> mails, CancellationToken ct)
    {
        var conn = tx.Connection ?? throw new InvalidOperationException("the transaction has ended");
        var m = mails.Select(x => x.Normalized()).ToList();
        var inserted = new Dictionary<(string, string), long>();
        await using (var cmd = new NpgsqlCommand(InsertSql, conn, tx))
        {
            cmd.Parameters.AddWithValue("now", _time.GetUtcNow());
            AddTextArray(cmd, "a", m.Select(x => x.AlertKey));
            AddTextArray(cmd, "r", m.Select(x => x.Recipient));
            AddTextArray(cmd, "k", m.Select(x => x.Kind));
            AddTextArray(cmd, "s", m.Select(x => x.Subject));
            AddTextArray(cmd, "tb", m.Select(x => x.TextBody));
            AddTextArray(cmd, "hb", m.Select(x => x.HtmlBody));
            AddTextArray(cmd, "u", m.Select(x => x.UnsubscribeUrl));
            cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Boolean) { Value = m.Select(x => x.ForDigest).ToArray() });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                inserted[(reader.GetString(1), reader.GetString(2))] = reader.GetInt64(0);
            }
        }
        var results = new EnqueueResult[m.Count];
        var missing = new List<int>();
        var reported = new HashSet<(string, string)>();
        for (int i = 0; i < m.Count; i++)
        {
            var pair = (m[i].AlertKey, m[i].Recipient);
            if (inserted.TryGetValue(pair, out long id))
            {
                // The same pair twice in one call: the first is the new row, the second finds it.
                results[i] = new EnqueueResult(id, AlreadyQueued: !reported.Add(pair));
            }
            else
            {
                missing.Add(i);
            }
        }
        if (missing.Count > 0)
        {
            // A new statement sees rows other transactions committed meanwhile (READ COMMITTED): the
            // conflicting row ON CONFLICT waited for is there.
            await using var cmd = new NpgsqlCommand(
                "SELECT o.id, o.alert_key, o.recipient FROM outbox o JOIN unnest(@a, @r) AS t(a, r) ON o.alert_key = t.a AND o.recipient = t.r", conn, tx);
            AddTextArray(cmd, "a", missing.Select(i => m[i].AlertKey));
            AddTextArray(cmd, "r", missing.Select(i => m[i].Recipient));
            var existing = new Dictionary<(string, string), long>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    existing[(reader.GetString(1), reader.GetString(2))] = reader.GetInt64(0);
                }
            }
            foreach (int i in missing)
            {
                results[i] = existing.TryGetValue((m[i].AlertKey, m[i].Recipient), out long id)
                    ? new EnqueueResult(id, AlreadyQueued: true)
                    : throw new InvalidOperationException(
                        $"outbox row ({m[i].AlertKey}, {m[i].Recipient}) conflicted but is not visible; enqueue in a READ COMMITTED transaction");
            }
        }
        return results;
    }

    public async Task<IReadOnlyList<OutboxRow>> ClaimDueAsync(string claimer, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        // SKIP LOCKED: a row another dispatcher is claiming right now is left to it, not waited for;
        // once its claim commits the row is no longer due (next_attempt_at moved to the claim's end).
        string sql = $"""
            WITH due AS (
                SELECT id FROM outbox
                WHERE state IN ('pending', 'sending') AND next_attempt_at <= @now
                ORDER BY next_attempt_at, id
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE outbox o
            SET state = 'sending', attempts = o.attempts + 1, claimed_by = @me, claimed_until = @until, next_attempt_at = @until
            FROM due WHERE o.id = due.id
            RETURNING {ClaimedColumns}
            """;
        await using var cmd = _dataSource.CreateCommand(sql);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("limit", limit);
        cmd.Parameters.AddWithValue("me", claimer);
        cmd.Parameters.AddWithValue("until", now + lease);
        var rows = await ReadRowsAsync(cmd, ct);
        rows.Sort((x, y) => x.Id.CompareTo(y.Id));
        return rows;
    }

    public async Task<bool> CompleteAsync(string claimer, OutboxCompletion c, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            UPDATE outbox
            SET state = @state, attempts = @attempts, next_attempt_at = @next, last_error = @error, sent_at = @sent,
                claimed_by = NULL, claimed_until = NULL
            WHERE id = @id AND state = 'sending' AND claimed_by = @me
            """);
        cmd.Parameters.AddWithValue("state", OutboxStates.Name(c.State));
        cmd.Parameters.AddWithValue("attempts", c.Attempts);
        cmd.Parameters.AddWithValue("next", c.NextAttemptAt);
        cmd.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)c.LastError ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("sent", NpgsqlDbType.TimestampTz) { Value = (object?)c.SentAt ?? DBNull.Value });
        cmd.Parameters.AddWithValue("id", c.Id);
        cmd.Parameters.AddWithValue("me", claimer);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<int> ReleaseAsync(string claimer, IReadOnlyList<long> ids, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            UPDATE outbox
            SET state = 'pending', attempts = greatest(attempts - 1, 0), next_attempt_at = @now, claimed_by = NULL, claimed_until = NULL
            WHERE id = ANY(@ids) AND state = 'sending' AND claimed_by = @me
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("ids", ids.ToArray());
        cmd.Parameters.AddWithValue("me", claimer);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyDictionary<string, int>> CountSentSinceAsync(IReadOnlyCollection<string> recipients, DateTimeOffset since, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT recipient, count(*)::int FROM outbox
            WHERE state = 'sent' AND recipient = ANY(@r) AND sent_at > @since AND kind <> ALL(@exempt)
            GROUP BY recipient
            """);
        cmd.Parameters.AddWithValue("r", recipients.ToArray());
        cmd.Parameters.AddWithValue("since", since);
        cmd.Parameters.AddWithValue("exempt", FloodControl.ExemptKinds);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }
        return counts;
    }

    public async Task<OutboxPage> ListAsync(OutboxState? state, int limit, long? beforeId, CancellationToken ct)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM outbox WHERE true");
        await using var cmd = _dataSource.CreateCommand();
        if (state is { } s)
        {
            sql.Append(" AND state = @state");
            cmd.Parameters.AddWithValue("state", OutboxStates.Name(s));
        }
        if (beforeId is { } before)
        {
            sql.Append(" AND id < @before");
            cmd.Parameters.AddWithValue("before", before);
        }
        sql.Append(" ORDER BY id DESC LIMIT @limit");
        cmd.Parameters.AddWithValue("limit", limit + 1);
        cmd.CommandText = sql.ToString();
        var rows = await ReadRowsAsync(cmd, ct);
        long? next = rows.Count > limit ? rows[limit - 1].Id : null;
        return new OutboxPage(rows.Take(limit).ToList(), next);
    }

    public async Task<OutboxRow?> GetAsync(long id, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand($"SELECT {Columns} FROM outbox WHERE id = @id");
        cmd.Parameters.AddWithValue("id", id);
        var rows = await ReadRowsAsync(cmd, ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<OutboxRetryResult> RetryFailedAsync(long id, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            WITH r AS (
                UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = @now
                WHERE id = @id AND state = 'failed'
                RETURNING id)
            SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM outbox WHERE id = @id)
            """);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("now", now);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt64(0) == 1 ? OutboxRetryResult.Retried
            : reader.GetInt64(1) == 0 ? OutboxRetryResult.NotFound
            : OutboxRetryResult.NotFailed;
    }

    public async Task<IReadOnlyList<OutboxRow>> ListFoldedAsync(string recipient, int limit, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand($"SELECT {Columns} FROM outbox WHERE state = 'folded' AND recipient = @r ORDER BY id LIMIT @limit");
        cmd.Parameters.AddWithValue("r", OutboxMail.NormalizeAddress(recipient));
        cmd.Parameters.AddWithValue("limit", limit);
        return await ReadRowsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<OutboxRow>> ListForRecipientAsync(string recipient, int limit, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand($"SELECT {Columns} FROM outbox WHERE recipient = @r ORDER BY id DESC LIMIT @limit");
        cmd.Parameters.AddWithValue("r", OutboxMail.NormalizeAddress(recipient));
        cmd.Parameters.AddWithValue("limit", limit);
        return await ReadRowsAsync(cmd, ct);
    }

    public async Task<IReadOnlyList<string>> ListFoldedRecipientsAsync(CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT DISTINCT recipient FROM outbox WHERE state = 'folded' ORDER BY recipient");
        var list = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(reader.GetString(0));
        }
        return list;
    }

    public async Task<DigestTaken?> TakeDigestAsync(string recipient, DateTimeOffset cutoff, Func<IReadOnlyList<OutboxRow>, OutboxMail> compose, CancellationToken ct)
    {
        string r = OutboxMail.NormalizeAddress(recipient);
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // One digest writer per recipient at a time, cluster-wide: a second silo waits here, then finds
        // the rows digested and writes nothing.
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('digest:' || @r))", conn, tx))
        {
            lockCmd.Parameters.AddWithValue("r", r);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        List<OutboxRow> rows;
        await using (var select = new NpgsqlCommand(
            $"SELECT {Columns} FROM outbox WHERE state = 'folded' AND recipient = @r AND next_attempt_at < @cutoff ORDER BY id FOR UPDATE", conn, tx))
        {
            select.Parameters.AddWithValue("r", r);
            select.Parameters.AddWithValue("cutoff", cutoff);
            rows = await ReadRowsAsync(select, ct);
        }
        if (rows.Count == 0)
        {
            await tx.CommitAsync(ct);
            return null;
        }
        var digest = await EnqueueAsync(tx, [compose(rows)], ct);
        var ids = rows.Select(x => x.Id).ToArray();
        await using (var update = new NpgsqlCommand("UPDATE outbox SET state = 'digested', sent_at = @now WHERE id = ANY(@ids)", conn, tx))
        {
            update.Parameters.AddWithValue("now", _time.GetUtcNow());
            update.Parameters.AddWithValue("ids", ids);
            await update.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new DigestTaken(digest[0].Id, ids);
    }

    public async Task<OutboxCounts> CountAsync(CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            SELECT count(*) FILTER (WHERE state IN ('pending', 'sending')), count(*) FILTER (WHERE state = 'failed')
            FROM outbox WHERE state IN ('pending', 'sending', 'failed')
            """);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return new OutboxCounts(reader.GetInt64(0), reader.GetInt64(1));
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static void AddTextArray(NpgsqlCommand cmd, string name, IEnumerable<string?> values) =>
        cmd.Parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() });

    private static async Task<List<OutboxRow>> ReadRowsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var rows = new List<OutboxRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new OutboxRow
            {
                Id = reader.GetInt64(0),
                AlertKey = reader.GetString(1),
                Recipient = reader.GetString(2),
                Kind = reader.GetString(3),
                Subject = reader.GetString(4),
                TextBody = reader.GetString(5),
                HtmlBody = reader.IsDBNull(6) ? null : reader.GetString(6),
                UnsubscribeUrl = reader.IsDBNull(7) ? null : reader.GetString(7),
                State = OutboxStates.Parse(reader.GetString(8)),
                Attempts = reader.GetInt32(9),
                NextAttemptAt = reader.GetFieldValue<DateTimeOffset>(10),
                LastError = reader.IsDBNull(11) ? null : reader.GetString(11),
                ClaimedBy = reader.IsDBNull(12) ? null : reader.GetString(12),
                ClaimedUntil = reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13),
                CreatedAt = reader.GetFieldValue<DateTimeOffset>(14),
                SentAt = reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15),
            });
        }
        return rows;
    }
}
