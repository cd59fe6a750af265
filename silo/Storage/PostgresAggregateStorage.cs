using System.Data;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Orleans.Storage;
using Telemetry.Grains.Aggregates;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Grain storage of aggregate states in PostgreSQL as a header and parts (tables <c>aggregate_states</c>
/// and <c>aggregate_parts</c>, silo/Storage/Sql/008-aggregates.sql; docs/ingest-cost.md, "Aggregate
/// state writes"). A write updates the small header and adds a part holding only the series and layouts
/// that changed since the state was last read or written (or a new base replacing every part, see
/// <see cref="AggregatePartBook"/>), in one transaction: the header's version is the ETag, so a stale
/// activation's write is refused as a whole, and the applied-batch watermark in the header never gets
/// ahead of (or behind) the counts it vouches for.
/// States written before by the ADO.NET storage (<paramref name="legacy"/>, one row in
/// <c>orleansstorage</c>) are still read; their next write stores them as a base part and clears the old row.
/// </summary>
public sealed partial class PostgresAggregateStorage(string connectionString, IGrainStorage legacy, ILogger<PostgresAggregateStorage> logger)
    : IGrainStorage, IAsyncDisposable
{
    // An ETag handed out for a state read from orleansstorage: the ADO.NET storage's own ETag, marked.
    private const string LegacyETagPrefix = "orleansstorage:";

    // Writes are short and each aggregate writes at most every PersistSeconds: a small pool serves
    // thousands of writes a second, and a burst of persists waits for a connection instead of taking
    // the server's connection slots from the landing log.
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        Options = "-c statement_timeout=60000 -c idle_in_transaction_session_timeout=60000",
        MaxPoolSize = 16,
    }.ConnectionString);

    private readonly AggregatePartBooks _books = new();

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        RequireAggregate<T>();
        string key = Key(stateName, grainId);
        await using (var conn = await _dataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead))
        {
            long id = 0, version = 0;
            byte[]? header = null;
            await using (var cmd = new NpgsqlCommand("SELECT id, version, header FROM aggregate_states WHERE grain = @g", conn, tx))
            {
                cmd.Parameters.AddWithValue("g", key);
                await using var r = await cmd.ExecuteReaderAsync();
                if (await r.ReadAsync())
                {
                    id = r.GetInt64(0);
                    version = r.GetInt64(1);
                    header = (byte[])r[2];
                }
            }
            if (header is not null)
            {
                var state = AggregateParts.ReadHeader(header);
                long baseBytes = 0, deltaBytes = 0;
                await using (var cmd = new NpgsqlCommand("SELECT is_base, data FROM aggregate_parts WHERE aggregate_id = @id ORDER BY seq", conn, tx))
                {
                    cmd.Parameters.AddWithValue("id", id);
                    await using var r = await cmd.ExecuteReaderAsync();
                    while (await r.ReadAsync())
                    {
                        var part = (byte[])r[1];
                        AggregateParts.Apply(part, state);
                        if (r.GetBoolean(0))
                        {
                            baseBytes = part.Length;
                        }
                        else
                        {
                            deltaBytes += part.Length;
                        }
                    }
                }
                await tx.CommitAsync();
                _books.Set(state, AggregatePartBook.Loaded(state, baseBytes, deltaBytes));
                grainState.State = (T)(object)state;
                grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
                grainState.RecordExists = true;
                return;
            }
        }
        // Not stored in parts: perhaps stored whole by the ADO.NET storage before parts existed.
        var old = new GrainState<T>();
        await legacy.ReadStateAsync(stateName, grainId, old);
        if (old.RecordExists && old.State is AggregateState oldState)
        {
            _books.Set(oldState, AggregatePartBook.Unknown());
            grainState.State = old.State;
            grainState.ETag = LegacyETagPrefix + old.ETag;
            grainState.RecordExists = true;
            return;
        }
        var empty = new AggregateState();
        _books.Set(empty, AggregatePartBook.Unknown());
        grainState.State = (T)(object)empty;
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        RequireAggregate<T>();
        var state = (AggregateState)(object)grainState.State!;
        string key = Key(stateName, grainId);
        var book = _books.Of(state);
        var write = book.Next(state);
        long? expected = grainState.ETag is { } etag && !etag.StartsWith(LegacyETagPrefix, StringComparison.Ordinal)
            ? long.Parse(etag, CultureInfo.InvariantCulture)
            : null;

        await using var conn = await _dataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        long id, version;
        await using (var cmd = expected is long v
            ? new NpgsqlCommand("UPDATE aggregate_states SET version = version + 1, header = @h WHERE grain = @g AND version = @v RETURNING id, version", conn, tx)
            : new NpgsqlCommand("INSERT INTO aggregate_states (grain, version, header) VALUES (@g, 1, @h) ON CONFLICT (grain) DO NOTHING RETURNING id, version", conn, tx))
        {
            cmd.Parameters.AddWithValue("g", key);
            cmd.Parameters.AddWithValue("h", NpgsqlDbType.Bytea, AggregateParts.Header(state));
            if (expected is long ev)
            {
                cmd.Parameters.AddWithValue("v", ev);
            }
            await using var r = await cmd.ExecuteReaderAsync();
            if (!await r.ReadAsync())
            {
                throw new InconsistentStateException(
                    $"aggregate state {key} was written by another activation since it was read", "unknown", grainState.ETag ?? "none");
            }
            id = r.GetInt64(0);
            version = r.GetInt64(1);
        }
        if (write.Part is not null)
        {
            await using var batch = new NpgsqlBatch(conn, tx);
            if (write.IsBase)
            {
                batch.BatchCommands.Add(Command("DELETE FROM aggregate_parts WHERE aggregate_id = @id", id));
            }
            var insert = Command("INSERT INTO aggregate_parts (aggregate_id, seq, is_base, data) VALUES (@id, @seq, @base, @data)", id);
            insert.Parameters.AddWithValue("seq", version);
            insert.Parameters.AddWithValue("base", write.IsBase);
            insert.Parameters.AddWithValue("data", NpgsqlDbType.Bytea, write.Part);
            batch.BatchCommands.Add(insert);
            await batch.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
        book.Stored(write);
        string? legacyETag = grainState.ETag is { } e && e.StartsWith(LegacyETagPrefix, StringComparison.Ordinal) ? e[LegacyETagPrefix.Length..] : null;
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        if (legacyETag is not null)
        {
            await ClearLegacyAsync(stateName, grainId, legacyETag);
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        RequireAggregate<T>();
        string key = Key(stateName, grainId);
        if (grainState.ETag is { } etag && !etag.StartsWith(LegacyETagPrefix, StringComparison.Ordinal))
        {
            await using var conn = await _dataSource.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("DELETE FROM aggregate_states WHERE grain = @g AND version = @v", conn); // its parts go with it (ON DELETE CASCADE)
            cmd.Parameters.AddWithValue("g", key);
            cmd.Parameters.AddWithValue("v", long.Parse(etag, CultureInfo.InvariantCulture));
            if (await cmd.ExecuteNonQueryAsync() == 0)
            {
                throw new InconsistentStateException($"aggregate state {key} was written by another activation since it was read", "unknown", etag);
            }
        }
        else if (grainState.ETag is { } legacyETag)
        {
            await ClearLegacyAsync(stateName, grainId, legacyETag[LegacyETagPrefix.Length..]);
        }
        var empty = new AggregateState();
        _books.Set(empty, AggregatePartBook.Unknown());
        grainState.State = (T)(object)empty;
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async Task ClearLegacyAsync(string stateName, GrainId grainId, string legacyETag)
    {
        // The state is safe in its parts already; an old row left behind is never read again (parts win),
        // so a failure here costs space, not data.
        try
        {
            await legacy.ClearStateAsync(stateName, grainId, new GrainState<AggregateState> { ETag = legacyETag, RecordExists = true });
        }
        catch (Exception e) when (e is NpgsqlException or InconsistentStateException or OrleansException or TimeoutException)
        {
            LogLegacyNotCleared(logger, grainId.ToString(), e.Message);
        }
    }

    private static NpgsqlBatchCommand Command(string sql, long id)
    {
        var c = new NpgsqlBatchCommand(sql);
        c.Parameters.AddWithValue("id", id);
        return c;
    }

    private static string Key(string stateName, GrainId grainId) => stateName + "/" + grainId.ToString();

    private static void RequireAggregate<T>()
    {
        if (typeof(T) != typeof(AggregateState))
        {
            throw new NotSupportedException($"{nameof(PostgresAggregateStorage)} stores aggregate states only, not {typeof(T).Name}");
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Aggregate {Grain} is stored in aggregate_parts now, but its old row in orleansstorage could not be cleared: {Message}")]
    private static partial void LogLegacyNotCleared(ILogger logger, string grain, string message);
}
