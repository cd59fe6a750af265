using System.Reflection;
using Npgsql;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Creates or migrates every table the silo needs (Orleans ADO.NET and our own). The scripts are
/// idempotent and run inside one transaction holding an advisory lock, so silos starting at the
/// same moment run them one after the other.
/// </summary>
public static partial class SchemaMigrator
{
    private const long LockKey = 0x54454C454D455452; // "TELEMETR"
    private static readonly string[] Scripts = ["001-orleans.sql", "002-telemetry.sql", "003-outbox.sql", "004-alerts.sql", "005-expiry.sql", "006-sentry.sql", "007-bodies.sql", "008-aggregates.sql"];

    public static async Task MigrateAsync(string connectionString, ILogger logger, CancellationToken ct = default)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await using var conn = new NpgsqlConnection(connectionString);
                await conn.OpenAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@k)", conn, tx))
                {
                    lockCmd.Parameters.AddWithValue("k", LockKey);
                    await lockCmd.ExecuteNonQueryAsync(ct);
                }
                foreach (var script in Scripts)
                {
                    await using var cmd = new NpgsqlCommand(ReadScript(script), conn, tx) { CommandTimeout = 120 };
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                foreach (var script in Scripts)
                {
                    await using var mark = new NpgsqlCommand("INSERT INTO telemetry_schema (name) VALUES (@n) ON CONFLICT (name) DO NOTHING", conn, tx);
                    mark.Parameters.AddWithValue("n", script);
                    await mark.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                LogMigrated(logger, string.Join(", ", Scripts));
                return;
            }
            catch (NpgsqlException e) when (attempt < 30 && e.IsTransient)
            {
                LogRetry(logger, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
            }
        }
    }

    internal static string ReadScript(string name)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        using var stream = assembly.GetManifestResourceStream("Telemetry.Silo.Storage.Sql." + name)
            ?? throw new InvalidOperationException($"embedded script {name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Database schema is up to date ({Scripts})")]
    private static partial void LogMigrated(ILogger logger, string scripts);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Database not reachable yet (attempt {Attempt}): {Message}")]
    private static partial void LogRetry(ILogger logger, int attempt, string message);
}
