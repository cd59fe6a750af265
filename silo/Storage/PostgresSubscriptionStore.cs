using Npgsql;
using NpgsqlTypes;
using Telemetry.Grains.Alerts;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Subscriptions and owner opt-outs in PostgreSQL (silo/Storage/Sql/004-alerts.sql). Every per-person
/// statement filters by the caller's address, so someone else's id is simply not found.
/// </summary>
public sealed class PostgresSubscriptionStore : ISubscriptionStore, IAsyncDisposable
{
    private const string Columns = "id, email, kind, params::text, delivery, digest_hour, paused, created_at, updated_at";

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;

    public PostgresSubscriptionStore(string connectionString, TimeProvider time)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c statement_timeout=15000" };
        _dataSource = NpgsqlDataSource.Create(csb.ConnectionString);
        _time = time;
    }

    public Task<IReadOnlyList<Subscription>> ListForAsync(string email, CancellationToken ct) =>
        QueryAsync($"SELECT {Columns} FROM subscriptions WHERE email = @e ORDER BY id", c => c.Parameters.AddWithValue("e", Normalize(email)), ct);

    public async Task<Subscription?> GetAsync(string email, long id, CancellationToken ct) =>
        (await QueryAsync($"SELECT {Columns} FROM subscriptions WHERE email = @e AND id = @id", c =>
        {
            c.Parameters.AddWithValue("e", Normalize(email));
            c.Parameters.AddWithValue("id", id);
        }, ct)).FirstOrDefault();

    public async Task<Subscription> CreateAsync(string email, SubscriptionInput input, CancellationToken ct) =>
        (await QueryAsync($"""
            INSERT INTO subscriptions (email, kind, params, delivery, digest_hour, paused, created_at, updated_at)
            VALUES (@e, @kind, @params::jsonb, @delivery, @hour, @paused, @now, @now)
            RETURNING {Columns}
            """, c =>
        {
            c.Parameters.AddWithValue("e", Normalize(email));
            Bind(c, input);
        }, ct))[0];

    public async Task<Subscription?> UpdateAsync(string email, long id, SubscriptionInput input, CancellationToken ct) =>
        (await QueryAsync($"""
            UPDATE subscriptions SET kind = @kind, params = @params::jsonb, delivery = @delivery, digest_hour = @hour, paused = @paused, updated_at = @now
            WHERE email = @e AND id = @id
            RETURNING {Columns}
            """, c =>
        {
            c.Parameters.AddWithValue("e", Normalize(email));
            c.Parameters.AddWithValue("id", id);
            Bind(c, input);
        }, ct)).FirstOrDefault();

    public async Task<bool> DeleteAsync(string email, long id, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("DELETE FROM subscriptions WHERE email = @e AND id = @id");
        cmd.Parameters.AddWithValue("e", Normalize(email));
        cmd.Parameters.AddWithValue("id", id);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public Task<IReadOnlyList<Subscription>> ListActiveAsync(string kind, CancellationToken ct) =>
        QueryAsync($"SELECT {Columns} FROM subscriptions WHERE kind = @kind AND NOT paused ORDER BY id", c => c.Parameters.AddWithValue("kind", kind), ct);

    public async Task<bool> PauseAsync(long id, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            WITH u AS (UPDATE subscriptions SET paused = true, updated_at = @now WHERE id = @id AND NOT paused RETURNING id)
            SELECT EXISTS (SELECT 1 FROM subscriptions WHERE id = @id)
            """);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("now", _time.GetUtcNow());
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task OptOutAsync(string email, string probe, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("INSERT INTO owner_opt_outs (email, probe, created_at) VALUES (@e, @p, @now) ON CONFLICT DO NOTHING");
        cmd.Parameters.AddWithValue("e", Normalize(email));
        cmd.Parameters.AddWithValue("p", probe);
        cmd.Parameters.AddWithValue("now", _time.GetUtcNow());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlySet<string>> OptedOutAsync(string probe, IReadOnlyCollection<string> emails, CancellationToken ct)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (emails.Count == 0)
        {
            return set;
        }
        await using var cmd = _dataSource.CreateCommand("SELECT email FROM owner_opt_outs WHERE probe = @p AND email = ANY(@e)");
        cmd.Parameters.AddWithValue("p", probe);
        cmd.Parameters.Add(new NpgsqlParameter("e", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = emails.Select(Normalize).ToArray() });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            set.Add(r.GetString(0));
        }
        return set;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private void Bind(NpgsqlCommand c, SubscriptionInput input)
    {
        c.Parameters.AddWithValue("kind", input.Kind);
        c.Parameters.AddWithValue("params", SubscriptionJson.ToJson(input.Kind, input.Params).ToJsonString());
        c.Parameters.AddWithValue("delivery", input.Delivery == Delivery.Digest ? "digest" : "immediate");
        c.Parameters.AddWithValue("hour", (short)input.DigestHour);
        c.Parameters.AddWithValue("paused", input.Paused);
        c.Parameters.AddWithValue("now", _time.GetUtcNow());
    }

    private async Task<IReadOnlyList<Subscription>> QueryAsync(string sql, Action<NpgsqlCommand> bind, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand(sql);
        bind(cmd);
        var list = new List<Subscription>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            string kind = r.GetString(2);
            list.Add(new Subscription
            {
                Id = r.GetInt64(0),
                Email = r.GetString(1),
                Kind = kind,
                Params = SubscriptionJson.FromStored(kind, r.GetString(3)),
                Delivery = r.GetString(4) == "digest" ? Delivery.Digest : Delivery.Immediate,
                DigestHour = r.GetInt16(5),
                Paused = r.GetBoolean(6),
                CreatedAt = r.GetFieldValue<DateTimeOffset>(7),
                UpdatedAt = r.GetFieldValue<DateTimeOffset>(8),
            });
        }
        return list;
    }

    private static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
