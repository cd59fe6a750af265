using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Alerts in PostgreSQL (table <c>alerts</c>, silo/Storage/Sql/004-alerts.sql; docs/alerts.md). An alert
/// and its outbox rows are written in one transaction, so a crash loses neither or both; the unique key
/// and a per-key advisory lock make concurrent publishers of one alert (two silos) record it once.
/// </summary>
public sealed class PostgresAlertStore : IAlertStore, IAsyncDisposable
{
    private const string Columns =
        "id, kind, alert_key, group_key, title, summary, channel, subject, detector, occurred_on, score, subscription_id, owners, details::text, notify, state, snoozed_until, muted, history::text, created_at, updated_at";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresOutboxStore _outbox;
    private readonly TimeProvider _time;

    public PostgresAlertStore(string connectionString, PostgresOutboxStore outbox, TimeProvider time)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Options = "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=15000",
        };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
        _outbox = outbox;
        _time = time;
    }

    public async Task<PublishResult> RecordAsync(AlertDraft draft, Func<AlertRecord, IReadOnlyList<OutboxMail>> mails, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Publishers of one key (or one group) run one after the other; the second finds the first's row.
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('alert:' || @k))", conn, tx))
        {
            lockCmd.Parameters.AddWithValue("k", draft.GroupKey ?? draft.Key);
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        var now = _time.GetUtcNow();
        AlertRecord alert;
        bool created = false, reopened = false;
        var existing = await QueryAsync(conn, tx, $"SELECT {Columns} FROM alerts WHERE alert_key = @k FOR UPDATE", c => c.Parameters.AddWithValue("k", draft.Key), ct);
        if (existing.Count == 1)
        {
            alert = existing[0];
            if (alert.State != AlertState.Resolved)
            {
                await tx.CommitAsync(ct);
                return new PublishResult(alert, false, false, 0);
            }
            alert = AlertLifecycle.Refire(alert, now);
            await WriteChangeAsync(conn, tx, alert, ct);
            reopened = true;
        }
        else
        {
            if (draft.GroupKey is { } group)
            {
                var open = await QueryAsync(conn, tx,
                    $"SELECT {Columns} FROM alerts WHERE group_key = @g AND state IN ('new', 'acknowledged', 'regressed') ORDER BY id LIMIT 1",
                    c => c.Parameters.AddWithValue("g", group), ct);
                if (open.Count == 1)
                {
                    await tx.CommitAsync(ct);
                    return new PublishResult(open[0], false, false, 0);
                }
            }
            var draftRecord = AlertRecords.New(0, draft, now);
            await using var insert = new NpgsqlCommand("""
                INSERT INTO alerts (kind, alert_key, group_key, title, summary, channel, subject, detector, occurred_on, score, subscription_id,
                                    owners, details, notify, state, history, created_at, updated_at)
                VALUES (@kind, @key, @group, @title, @summary, @channel, @subject, @detector, @occurred, @score, @sub,
                        @owners, @details::jsonb, @notify, 'new', @history::jsonb, @now, @now)
                RETURNING id
                """, conn, tx);
            insert.Parameters.AddWithValue("kind", draft.Kind);
            insert.Parameters.AddWithValue("key", draft.Key);
            insert.Parameters.Add(Text("group", draft.GroupKey));
            insert.Parameters.AddWithValue("title", draftRecord.Title);
            insert.Parameters.AddWithValue("summary", draftRecord.Summary);
            insert.Parameters.Add(Text("channel", draft.Target.Channel));
            insert.Parameters.Add(Text("subject", draft.Target.Subject));
            insert.Parameters.Add(Text("detector", draft.Target.Detector));
            insert.Parameters.Add(new NpgsqlParameter("occurred", NpgsqlDbType.Date) { Value = draft.Target.OccurredOn is { } d ? d : DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter("score", NpgsqlDbType.Double) { Value = draft.Target.Score is { } s ? s : DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter("sub", NpgsqlDbType.Bigint) { Value = draft.Target.SubscriptionId is { } sid ? sid : DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter("owners", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = draftRecord.Owners.ToArray() });
            insert.Parameters.AddWithValue("details", draftRecord.DetailsJson);
            insert.Parameters.AddWithValue("notify", draft.Notify);
            insert.Parameters.AddWithValue("history", JsonSerializer.Serialize(draftRecord.History.Select(ToJson), Json));
            insert.Parameters.AddWithValue("now", now);
            long id = (long)(await insert.ExecuteScalarAsync(ct))!;
            alert = draftRecord with { Id = id };
            created = true;
        }
        int queued = 0;
        if (draft.Notify && !alert.IsSilenced(now))
        {
            var results = await _outbox.EnqueueAsync(tx, mails(alert), ct);
            queued = results.Count(r => !r.AlreadyQueued);
        }
        await tx.CommitAsync(ct);
        return new PublishResult(alert, created, reopened, queued);
    }

    public async Task<AlertActionResult?> UpdateAsync(long id, Func<AlertRecord, AlertActionResult> change, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var rows = await QueryAsync(conn, tx, $"SELECT {Columns} FROM alerts WHERE id = @id FOR UPDATE", c => c.Parameters.AddWithValue("id", id), ct);
        if (rows.Count == 0)
        {
            return null;
        }
        var result = change(rows[0]);
        if (result.Alert is { } changed)
        {
            await WriteChangeAsync(conn, tx, changed, ct);
        }
        await tx.CommitAsync(ct);
        return result;
    }

    public async Task<AlertRecord?> GetAsync(long id, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        var rows = await QueryAsync(conn, null, $"SELECT {Columns} FROM alerts WHERE id = @id", c => c.Parameters.AddWithValue("id", id), ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<AlertRecord?> GetByKeyAsync(string key, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        var rows = await QueryAsync(conn, null, $"SELECT {Columns} FROM alerts WHERE alert_key = @k", c => c.Parameters.AddWithValue("k", key), ct);
        return rows.Count == 0 ? null : rows[0];
    }

    public async Task<IReadOnlyList<AlertRecord>> ListAsync(AlertQuery q, CancellationToken ct)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        return await QueryAsync(conn, null, $"""
            SELECT {Columns} FROM alerts
            WHERE (@kind::text IS NULL OR kind = @kind)
              AND (@state::text IS NULL OR state = @state)
              AND (@channel::text IS NULL OR lower(channel) = lower(@channel))
              AND (@subject::text IS NULL OR subject = @subject)
              AND (@detector::text IS NULL OR detector = @detector)
              AND (@from::date IS NULL OR occurred_on >= @from)
              AND (@to::date IS NULL OR occurred_on <= @to)
            ORDER BY occurred_on DESC NULLS LAST, id DESC
            LIMIT @limit
            """, c =>
        {
            c.Parameters.Add(Text("kind", q.Kind));
            c.Parameters.Add(Text("state", q.State is { } s ? AlertStates.Name(s) : null));
            c.Parameters.Add(Text("channel", q.Channel));
            c.Parameters.Add(Text("subject", q.Subject));
            c.Parameters.Add(Text("detector", q.Detector));
            c.Parameters.Add(new NpgsqlParameter("from", NpgsqlDbType.Date) { Value = q.From is { } f ? f : DBNull.Value });
            c.Parameters.Add(new NpgsqlParameter("to", NpgsqlDbType.Date) { Value = q.To is { } t ? t : DBNull.Value });
            c.Parameters.AddWithValue("limit", q.Limit);
        }, ct);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private static async Task WriteChangeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, AlertRecord a, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            UPDATE alerts SET state = @state, snoozed_until = @snoozed, muted = @muted, history = @history::jsonb, updated_at = @updated
            WHERE id = @id
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", a.Id);
        cmd.Parameters.AddWithValue("state", AlertStates.Name(a.State));
        cmd.Parameters.Add(new NpgsqlParameter("snoozed", NpgsqlDbType.TimestampTz) { Value = a.SnoozedUntil is { } u ? u : DBNull.Value });
        cmd.Parameters.AddWithValue("muted", a.Muted);
        cmd.Parameters.AddWithValue("history", JsonSerializer.Serialize(a.History.Select(ToJson), Json));
        cmd.Parameters.AddWithValue("updated", a.UpdatedAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<AlertRecord>> QueryAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, Action<NpgsqlCommand> bind, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        bind(cmd);
        var list = new List<AlertRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            list.Add(new AlertRecord
            {
                Id = r.GetInt64(0),
                Kind = r.GetString(1),
                Key = r.GetString(2),
                GroupKey = r.IsDBNull(3) ? null : r.GetString(3),
                Title = r.GetString(4),
                Summary = r.GetString(5),
                Target = new AlertTarget(
                    r.IsDBNull(6) ? null : r.GetString(6),
                    r.IsDBNull(7) ? null : r.GetString(7),
                    r.IsDBNull(8) ? null : r.GetString(8),
                    r.IsDBNull(9) ? null : r.GetFieldValue<DateOnly>(9),
                    r.IsDBNull(10) ? null : r.GetDouble(10),
                    r.IsDBNull(11) ? null : r.GetInt64(11)),
                Owners = r.GetFieldValue<string[]>(12),
                DetailsJson = r.GetString(13),
                Notify = r.GetBoolean(14),
                State = AlertStates.Parse(r.GetString(15)),
                SnoozedUntil = r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16),
                Muted = r.GetBoolean(17),
                History = (JsonSerializer.Deserialize<List<StoredEvent>>(r.GetString(18), Json) ?? []).Select(FromJson).ToList(),
                CreatedAt = r.GetFieldValue<DateTimeOffset>(19),
                UpdatedAt = r.GetFieldValue<DateTimeOffset>(20),
            });
        }
        return list;
    }

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = value is null ? DBNull.Value : value };

    /// <summary>A history entry as stored in the <c>history</c> JSON array.</summary>
    private sealed record StoredEvent(DateTimeOffset At, string By, string Action, string State, string? Comment, string? Bug);

    private static StoredEvent ToJson(AlertEvent e) => new(e.At, e.By, e.Action, AlertStates.Name(e.State), e.Comment, e.Bug);

    private static AlertEvent FromJson(StoredEvent e) => new(e.At, e.By, e.Action, AlertStates.Parse(e.State), e.Comment, e.Bug);
}
