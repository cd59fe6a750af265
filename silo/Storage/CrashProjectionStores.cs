using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Crash;

namespace Telemetry.Silo.Storage;

/// <summary>The embedded mode keeps crash rows in the grains only; the API reads them from there.</summary>
public sealed class NoCrashProjection : ICrashProjectionStore
{
    public bool Enabled => false;
    public Task ReplaceDateAsync(DateOnly submissionDate, ImmutableArray<CrashRow> rows, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Writes <c>crash_aggregates</c>: DELETE the date and INSERT its rows in one transaction.</summary>
public sealed class PostgresCrashProjectionStore(string connectionString) : ICrashProjectionStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public bool Enabled => true;

    public async Task ReplaceDateAsync(DateOnly submissionDate, ImmutableArray<CrashRow> rows, CancellationToken ct)
    {
        var activity = new DateOnly[rows.Length];
        var dimensions = new string[rows.Length];
        var stats = new string[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            activity[i] = DateOnly.ParseExact(rows[i].ActivityDate, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            dimensions[i] = CrashJson.Dimensions(rows[i].Dimensions);
            stats[i] = CrashJson.Stats(rows[i].Values);
        }
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand("DELETE FROM crash_aggregates WHERE submission_date = @d", conn, tx))
        {
            delete.Parameters.AddWithValue("d", submissionDate);
            await delete.ExecuteNonQueryAsync(ct);
        }
        if (rows.Length > 0)
        {
            await using var insert = new NpgsqlCommand("""
                INSERT INTO crash_aggregates (submission_date, activity_date, dimensions, stats)
                SELECT @d, t.a, t.dim::jsonb, t.st::jsonb FROM unnest(@a, @dim, @st) AS t(a, dim, st)
                """, conn, tx);
            insert.Parameters.AddWithValue("d", submissionDate);
            insert.Parameters.Add(new NpgsqlParameter("a", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = activity });
            insert.Parameters.Add(new NpgsqlParameter("dim", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = dimensions });
            insert.Parameters.Add(new NpgsqlParameter("st", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = stats });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

/// <summary>The JSON of a crash row's dimensions and stats (also used by the API).</summary>
public static class CrashJson
{
    public static string Dimensions(ImmutableSortedDictionary<string, string> dimensions)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (k, v) in dimensions)
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Stats(ImmutableArray<long> values)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var (name, value) in StatPairs(values))
            {
                w.WriteNumber(name, value);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Every stat and its square in reported units (usage in hours).</summary>
    public static IEnumerable<(string Name, double Value)> StatPairs(ImmutableArray<long> values)
    {
        var stats = new CrashStats { Values = values.ToArray() };
        for (int i = 0; i < CrashStatNames.Count; i++)
        {
            yield return (CrashStatNames.Base[i], stats.Get(i));
        }
        for (int i = 0; i < CrashStatNames.Count; i++)
        {
            yield return (CrashStatNames.Base[i] + "_squared", stats.Get(i, squared: true));
        }
    }
}
