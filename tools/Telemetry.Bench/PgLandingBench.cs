using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Telemetry.Bench;

/// <summary>
/// <c>pg-landing CONNSTR MODE SECONDS ROWS_PER_STATEMENT WRITERS POSTMASTER_PID</c>: PostgreSQL's
/// cost of landing 18.6 KB bodies by statement shape (MODE <c>unnest</c>: the landing log's
/// INSERT ... unnest ... ON CONFLICT; <c>copy</c>: COPY BINARY), as rows/s and PostgreSQL CPU per row.
/// </summary>
public static class PgLandingBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        string cs = args[1];
        string mode = args[2];
        double seconds = double.Parse(args[3], CultureInfo.InvariantCulture);
        int rowsPer = int.Parse(args[4], CultureInfo.InvariantCulture);
        int writers = int.Parse(args[5], CultureInfo.InvariantCulture);
        int pgPid = int.Parse(args[6], CultureInfo.InvariantCulture);
        await using var ds = NpgsqlDataSource.Create(cs);
        await using (var setup = ds.CreateCommand("""
            DROP TABLE IF EXISTS landing_x;
            CREATE TABLE landing_x (doc_id text NOT NULL PRIMARY KEY, batch_id bigint NOT NULL, partition integer NOT NULL,
              submission_date date NOT NULL, received_at timestamptz NOT NULL, path text NOT NULL, body bytea NOT NULL, country text);
            ALTER TABLE landing_x ALTER COLUMN body SET STORAGE EXTERNAL;
            CREATE INDEX ON landing_x (partition, batch_id) INCLUDE (received_at);
            CREATE INDEX ON landing_x (submission_date);
            CREATE SEQUENCE IF NOT EXISTS landing_x_seq;
            CHECKPOINT;
            """))
        {
            await setup.ExecuteNonQueryAsync();
        }
        var body = new byte[18_600];
        new Random(1).NextBytes(body);
        long rows = 0;
        double cpu0 = PgCpuSeconds(pgPid);
        var sw = Stopwatch.StartNew();
        var until = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async _ =>
        {
            while (sw.Elapsed < until)
            {
                var ids = Enumerable.Range(0, rowsPer).Select(_ => Guid.NewGuid().ToString()).ToArray();
                if (mode == "copy")
                {
                    await using var conn = await ds.OpenConnectionAsync();
                    await using var tx = await conn.BeginTransactionAsync();
                    await using (var imp = await conn.BeginBinaryImportAsync("COPY landing_x (doc_id, batch_id, partition, submission_date, received_at, path, body, country) FROM STDIN (FORMAT BINARY)"))
                    {
                        foreach (var id in ids)
                        {
                            await imp.StartRowAsync();
                            await imp.WriteAsync(id, NpgsqlDbType.Text);
                            await imp.WriteAsync(1L, NpgsqlDbType.Bigint);
                            await imp.WriteAsync(3, NpgsqlDbType.Integer);
                            await imp.WriteAsync(new DateOnly(2026, 11, 26), NpgsqlDbType.Date);
                            await imp.WriteAsync(DateTime.UtcNow, NpgsqlDbType.TimestampTz);
                            await imp.WriteAsync("a/b/c/d/e/f", NpgsqlDbType.Text);
                            await imp.WriteAsync(body, NpgsqlDbType.Bytea);
                            await imp.WriteNullAsync();
                        }
                        await imp.CompleteAsync();
                    }
                    await tx.CommitAsync();
                }
                else if (mode == "values")
                {
                    var sql = new System.Text.StringBuilder("INSERT INTO landing_x (doc_id, batch_id, partition, submission_date, received_at, path, body, country) SELECT v.d, b.id, v.p, v.sd, v.ra, v.pa, v.bo, v.c FROM (SELECT nextval('landing_x_seq') AS id) b, (VALUES ");
                    await using var cmd = ds.CreateCommand();
                    for (int i = 0; i < ids.Length; i++)
                    {
                        sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(${i * 7 + 1}, ${i * 7 + 2}, ${i * 7 + 3}, ${i * 7 + 4}, ${i * 7 + 5}, ${i * 7 + 6}, ${i * 7 + 7})");
                        cmd.Parameters.Add(new NpgsqlParameter { Value = ids[i], NpgsqlDbType = NpgsqlDbType.Text });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = 3, NpgsqlDbType = NpgsqlDbType.Integer });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = new DateOnly(2026, 11, 26), NpgsqlDbType = NpgsqlDbType.Date });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = DateTime.UtcNow, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = "a/b/c/d/e/f", NpgsqlDbType = NpgsqlDbType.Text });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = body, NpgsqlDbType = NpgsqlDbType.Bytea });
                        cmd.Parameters.Add(new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                    }
                    sql.Append(") AS v(d, p, sd, ra, pa, bo, c) ON CONFLICT (doc_id) DO NOTHING RETURNING doc_id, batch_id");
                    cmd.CommandText = sql.ToString();
                    await using var reader = await cmd.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                    }
                }
                else
                {
                    await using var cmd = ds.CreateCommand("""
                        WITH b AS (SELECT nextval('landing_x_seq') AS id)
                        INSERT INTO landing_x (doc_id, batch_id, partition, submission_date, received_at, path, body, country)
                        SELECT t.d, b.id, t.p, t.sd, t.ra, t.pa, t.bo, t.c
                        FROM b, unnest(@d, @p, @sd, @ra, @pa, @bo, @c) AS t(d, p, sd, ra, pa, bo, c)
                        ON CONFLICT (doc_id) DO NOTHING
                        RETURNING doc_id, batch_id
                        """);
                    cmd.Parameters.Add(new NpgsqlParameter("d", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids });
                    cmd.Parameters.Add(new NpgsqlParameter("p", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = ids.Select(_ => 3).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter("sd", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = ids.Select(_ => new DateOnly(2026, 11, 26)).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter("ra", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = ids.Select(_ => DateTime.UtcNow).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter("pa", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids.Select(_ => "a/b/c/d/e/f").ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter("bo", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = ids.Select(_ => body).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids.Select(_ => (string?)null).ToArray() });
                    await using var reader = await cmd.ExecuteReaderAsync();
                    while (await reader.ReadAsync())
                    {
                    }
                }
                Interlocked.Add(ref rows, rowsPer);
            }
        }));
        sw.Stop();
        double cpu = PgCpuSeconds(pgPid) - cpu0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{mode}: {rows / sw.Elapsed.TotalSeconds:F0} rows/s, PostgreSQL CPU {cpu * 1e6 / rows:F0} µs/row ({cpu / sw.Elapsed.TotalSeconds * 100:F0}% of a core), {rowsPer} rows/statement, {writers} writers"));
        return 0;
    }

    private static double PgCpuSeconds(int postmaster)
    {
        double ticks = 0;
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }
            try
            {
                var f = File.ReadAllText(Path.Combine(dir, "stat"));
                var parts = f[(f.LastIndexOf(')') + 2)..].Split(' ');
                int ppid = int.Parse(parts[1], CultureInfo.InvariantCulture);
                if (pid == postmaster)
                {
                    ticks += double.Parse(parts[11], CultureInfo.InvariantCulture) + double.Parse(parts[12], CultureInfo.InvariantCulture)
                        + double.Parse(parts[13], CultureInfo.InvariantCulture) + double.Parse(parts[14], CultureInfo.InvariantCulture);
                }
                else if (ppid == postmaster)
                {
                    ticks += double.Parse(parts[11], CultureInfo.InvariantCulture) + double.Parse(parts[12], CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
            }
        }
        return ticks / 100.0;
    }
}
