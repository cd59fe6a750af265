using Npgsql;
using Telemetry.Silo.Alerts;

namespace Telemetry.Silo.Storage;

/// <summary>Sign-in links of the embedded mode (in memory).</summary>
public sealed class MemorySignInStore : ISignInStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (string Email, DateTimeOffset Created, DateTimeOffset Expires, bool Used)> _links = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _secrets = new(StringComparer.Ordinal);

    public Task RecordLinkAsync(string nonce, string email, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken ct)
    {
        lock (_lock)
        {
            // Expired links are of no further use; dropping them keeps the map small.
            foreach (var old in _links.Where(l => l.Value.Expires < createdAt - TimeSpan.FromHours(1)).Select(l => l.Key).ToList())
            {
                _links.Remove(old);
            }
            _links[nonce] = (email, createdAt, expiresAt, false);
        }
        return Task.CompletedTask;
    }

    public Task<int> CountLinksSinceAsync(string email, DateTimeOffset since, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult(_links.Values.Count(l => l.Email == email && l.Created >= since));
        }
    }

    public Task<bool> UseLinkAsync(string nonce, DateTimeOffset now, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_links.TryGetValue(nonce, out var l) || l.Used || l.Expires <= now)
            {
                return Task.FromResult(false);
            }
            _links[nonce] = l with { Used = true };
            return Task.FromResult(true);
        }
    }

    public Task<byte[]> GetOrCreateSecretAsync(string name, byte[] candidate, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_secrets.TryGetValue(name, out var s))
            {
                _secrets[name] = s = candidate;
            }
            return Task.FromResult(s);
        }
    }
}

/// <summary>Sign-in links and cluster secrets in PostgreSQL (silo/Storage/Sql/004-alerts.sql).</summary>
public sealed class PostgresSignInStore(string connectionString) : ISignInStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public async Task RecordLinkAsync(string nonce, string email, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            DELETE FROM signin_links WHERE expires_at < @old;
            INSERT INTO signin_links (nonce, email, created_at, expires_at) VALUES (@n, @e, @c, @x);
            """);
        cmd.Parameters.AddWithValue("old", createdAt - TimeSpan.FromDays(1));
        cmd.Parameters.AddWithValue("n", nonce);
        cmd.Parameters.AddWithValue("e", email);
        cmd.Parameters.AddWithValue("c", createdAt);
        cmd.Parameters.AddWithValue("x", expiresAt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<int> CountLinksSinceAsync(string email, DateTimeOffset since, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("SELECT count(*) FROM signin_links WHERE email = @e AND created_at >= @s");
        cmd.Parameters.AddWithValue("e", email);
        cmd.Parameters.AddWithValue("s", since);
        return (int)(long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public async Task<bool> UseLinkAsync(string nonce, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("UPDATE signin_links SET used_at = @now WHERE nonce = @n AND used_at IS NULL AND expires_at > @now");
        cmd.Parameters.AddWithValue("n", nonce);
        cmd.Parameters.AddWithValue("now", now);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public async Task<byte[]> GetOrCreateSecretAsync(string name, byte[] candidate, CancellationToken ct)
    {
        await using var cmd = _dataSource.CreateCommand("""
            INSERT INTO cluster_secrets (name, value, created_at) VALUES (@n, @v, now()) ON CONFLICT (name) DO NOTHING;
            SELECT value FROM cluster_secrets WHERE name = @n;
            """);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("v", candidate);
        return (byte[])(await cmd.ExecuteScalarAsync(ct))!;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
