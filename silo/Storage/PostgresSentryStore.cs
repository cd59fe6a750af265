using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;
using Telemetry.Grains.Sentry;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Sentry issues and dead letters in PostgreSQL (silo/Storage/Sql/006-sentry.sql; docs/sentry.md). Each save
/// runs in one transaction holding a shared advisory lock, and takes its change marker from a sequence inside
/// it; <see cref="StableMarkerAsync"/> takes the same lock exclusively, so the marker it reads is never
/// overtaken by a save that commits later with a smaller one.
/// </summary>
public sealed class PostgresSentryStore(string connectionString, Serializer serializer) : ISentryStore, IAsyncDisposable
{
    /// <summary>Advisory lock key of change markers ("sentry" in ASCII).</summary>
    private const long ChangeLockKey = 0x73656e747279;
    private const int KeptDeadLetters = 10_000;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        Options = "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=15000",
    }.ConnectionString);

    public async Task<StoredSentryIssue?> LoadAsync(string project, string fingerprint, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        SentryIssueHeader? header = null;
        await using (var cmd = new NpgsqlCommand("SELECT header FROM sentry_issues WHERE project = @p AND fingerprint = @f", conn))
        {
            cmd.Parameters.AddWithValue("p", project);
            cmd.Parameters.AddWithValue("f", fingerprint);
            if (await cmd.ExecuteScalarAsync(ct) is byte[] bytes)
            {
                header = serializer.Deserialize<SentryIssueHeader>(bytes);
            }
        }
        if (header is null)
        {
            return null;
        }
        var days = new List<SentryIssueDay>();
        await using (var cmd = new NpgsqlCommand("SELECT counters FROM sentry_issue_days WHERE project = @p AND fingerprint = @f", conn))
        {
            cmd.Parameters.AddWithValue("p", project);
            cmd.Parameters.AddWithValue("f", fingerprint);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                days.Add(serializer.Deserialize<SentryIssueDay>(r.GetFieldValue<byte[]>(0))!);
            }
        }
        return new StoredSentryIssue(header, days);
    }

    public async Task SaveAsync(SentryIssueHeader header, IReadOnlyList<SentryIssueDay> days, IReadOnlyList<DateOnly> droppedDays, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var batch = new NpgsqlBatch(conn, tx);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock_shared(@k)") { Parameters = { new("k", ChangeLockKey) } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            INSERT INTO sentry_issues (project, fingerprint, message, state, snoozed_until, first_seen, last_seen, change_marker, header, updated_at)
            VALUES (@p, @f, @m, @s, @u, @fs, @ls, nextval('sentry_change_seq'), @h, now())
            ON CONFLICT (project, fingerprint) DO UPDATE SET message = EXCLUDED.message, state = EXCLUDED.state,
                snoozed_until = EXCLUDED.snoozed_until, first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen,
                change_marker = EXCLUDED.change_marker, header = EXCLUDED.header, updated_at = EXCLUDED.updated_at
            """)
        {
            Parameters =
            {
                new("p", header.Project), new("f", header.Fingerprint), new("m", header.Message), new("s", header.State),
                new("u", NpgsqlDbType.TimestampTz) { Value = (object?)header.SnoozedUntil ?? DBNull.Value },
                new("fs", header.FirstSeen), new("ls", header.LastSeen), new("h", serializer.SerializeToArray(header)),
            },
        });
        foreach (var day in days)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO sentry_issue_days (project, fingerprint, day, events, users, counters) VALUES (@p, @f, @d, @e, @u, @c)
                ON CONFLICT (project, fingerprint, day) DO UPDATE SET events = EXCLUDED.events, users = EXCLUDED.users, counters = EXCLUDED.counters
                """)
            {
                Parameters =
                {
                    new("p", header.Project), new("f", header.Fingerprint), new("d", day.Date),
                    new("e", day.Events.Count), new("u", day.Users.Count), new("c", serializer.SerializeToArray(day)),
                },
            });
        }
        if (droppedDays.Count > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM sentry_issue_days WHERE project = @p AND fingerprint = @f AND day = ANY(@d)")
            {
                Parameters = { new("p", header.Project), new("f", header.Fingerprint), new("d", droppedDays.ToArray()) },
            });
        }
        await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<SentryIssueRow>> ListAsync(string? project, DateOnly from, DateOnly to, string sort, int limit, CancellationToken ct)
    {
        string order = sort switch
        {
            SentrySorts.Users => "users DESC, i.last_seen DESC, i.fingerprint",
            SentrySorts.LastSeen => "i.last_seen DESC, events DESC, i.fingerprint",
            _ => "events DESC, i.last_seen DESC, i.fingerprint",
        };
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand($"""
            SELECT i.project, i.fingerprint, i.message, d.events, d.users, i.first_seen, i.last_seen, i.state, i.snoozed_until
            FROM (SELECT project, fingerprint, sum(events)::bigint AS events, sum(users)::bigint AS users
                  FROM sentry_issue_days WHERE (@p::text IS NULL OR project = @p) AND day BETWEEN @from AND @to
                  GROUP BY project, fingerprint) d
            JOIN sentry_issues i ON i.project = d.project AND i.fingerprint = d.fingerprint
            WHERE d.events > 0
            ORDER BY {order} COLLATE "C", i.project COLLATE "C"
            LIMIT @limit
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Text) { Value = (object?)project ?? DBNull.Value });
        cmd.Parameters.AddWithValue("from", from);
        cmd.Parameters.AddWithValue("to", to);
        cmd.Parameters.AddWithValue("limit", limit);
        var rows = new List<SentryIssueRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new SentryIssueRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4),
                r.GetFieldValue<DateTimeOffset>(5), r.GetFieldValue<DateTimeOffset>(6), r.GetString(7),
                r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8)));
        }
        return rows;
    }

    public async Task<long> StableMarkerAsync(CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k)", conn, tx))
        {
            lockCmd.Parameters.AddWithValue("k", ChangeLockKey);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = new NpgsqlCommand("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sentry_change_seq", conn, tx);
        long marker = (long)(await cmd.ExecuteScalarAsync(ct))!;
        await tx.CommitAsync(ct);
        return marker;
    }

    public async Task<IReadOnlyList<SentryChange>> ChangedAsync(long after, long upTo, int limit, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT project, fingerprint, change_marker FROM sentry_issues WHERE change_marker > @a AND change_marker <= @b ORDER BY change_marker LIMIT @l", conn);
        cmd.Parameters.AddWithValue("l", limit);
        cmd.Parameters.AddWithValue("a", after);
        cmd.Parameters.AddWithValue("b", upTo);
        var rows = new List<SentryChange>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new SentryChange(r.GetString(0), r.GetString(1), r.GetInt64(2)));
        }
        return rows;
    }

    public async Task<long> AddDeadLetterAsync(string source, string reason, string body, DateTimeOffset at, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long id;
        await using (var cmd = new NpgsqlCommand("INSERT INTO sentry_dead_letters (received_at, source, reason, body) VALUES (@t, @s, @r, @b) RETURNING id", conn, tx))
        {
            cmd.Parameters.AddWithValue("t", at);
            cmd.Parameters.AddWithValue("s", source);
            cmd.Parameters.AddWithValue("r", reason);
            cmd.Parameters.AddWithValue("b", body);
            id = (long)(await cmd.ExecuteScalarAsync(ct))!;
        }
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO sentry_dead_letter_counts (reason, count) VALUES (@r, 1) ON CONFLICT (reason) DO UPDATE SET count = sentry_dead_letter_counts.count + 1;
            DELETE FROM sentry_dead_letters WHERE id <= @id - @keep;
            """, conn, tx))
        {
            cmd.Parameters.AddWithValue("r", reason);
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("keep", (long)KeptDeadLetters);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return id;
    }

    public async Task<IReadOnlyList<SentryDeadLetter>> ListDeadLettersAsync(int limit, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT id, received_at, source, reason, body FROM sentry_dead_letters ORDER BY id DESC LIMIT @l", conn);
        cmd.Parameters.AddWithValue("l", limit);
        var rows = new List<SentryDeadLetter>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            rows.Add(new SentryDeadLetter(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), r.GetString(4)));
        }
        return rows;
    }

    public async Task<IReadOnlyDictionary<string, long>> DeadLetterCountsAsync(CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT reason, count FROM sentry_dead_letter_counts ORDER BY reason", conn);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            counts[r.GetString(0)] = r.GetInt64(1);
        }
        return counts;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
