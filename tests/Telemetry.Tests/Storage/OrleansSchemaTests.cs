using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Serialization;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Telemetry.Tests.Storage;

/// <summary>
/// Checks silo/Storage/Sql/001-orleans.sql: it must apply repeatedly, and the real
/// Orleans 10 ADO.NET providers (clustering, grain storage, reminders) must work on it.
/// </summary>
[Collection("postgres")]
public sealed class OrleansSchemaTests
{
    private const string Invariant = "Npgsql";
    private const string ScriptRelativePath = "silo/Storage/Sql/001-orleans.sql";
    private const string ScriptResourceName = "Telemetry.Silo.Storage.Sql.001-orleans.sql";

    private static readonly string[] ExpectedTables =
    {
        "orleansquery",
        "orleansmembershipversiontable",
        "orleansmembershiptable",
        "orleansstorage",
        "orleansreminderstable",
    };

    private static readonly string[] ExpectedQueryKeys =
    {
        // clustering
        "UpdateIAmAlivetimeKey", "InsertMembershipVersionKey", "InsertMembershipKey", "UpdateMembershipKey",
        "MembershipReadRowKey", "MembershipReadAllKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
        // persistence
        "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
        // reminders
        "UpsertReminderRowKey", "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key",
        "ReadRangeRows2Key", "DeleteReminderRowKey", "DeleteReminderRowsKey",
    };

    private readonly PostgresFixture fixture;
    private readonly ITestOutputHelper output;

    public OrleansSchemaTests(PostgresFixture fixture, ITestOutputHelper output)
    {
        this.fixture = fixture;
        this.output = output;
    }

    [Fact]
    public async Task Script_applies_twice_and_creates_tables_and_queries()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        var script = ReadScriptFromRepository();

        await ApplyScriptAsync(connectionString, script);
        var keysAfterFirstRun = await ReadQueryKeysAsync(connectionString);
        await ApplyScriptAsync(connectionString, script);
        var keysAfterSecondRun = await ReadQueryKeysAsync(connectionString);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in ExpectedTables)
        {
            await using var command = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", connection);
            command.Parameters.AddWithValue("name", "public." + table);
            Assert.True((bool)(await command.ExecuteScalarAsync())!, $"table {table} is missing");
        }

        Assert.Equal(ExpectedQueryKeys.Order(StringComparer.Ordinal), keysAfterFirstRun);
        Assert.Equal(keysAfterFirstRun, keysAfterSecondRun);
    }

    [Fact]
    public void Script_is_embedded_in_the_silo_assembly_unchanged()
    {
        var assembly = Assembly.Load("Telemetry.Silo");
        using var stream = assembly.GetManifestResourceStream(ScriptResourceName);
        Assert.NotNull(stream);
        using var reader = new StreamReader(stream!);
        Assert.Equal(ReadScriptFromRepository(), reader.ReadToEnd());
    }

    [Fact]
    public async Task Stored_queries_not_reached_by_the_silo_test_behave()
    {
        // DeleteMembershipTableEntriesKey and DeleteReminderRowsKey are only used by
        // tooling/tests in Orleans; run them the way the providers would.
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await ApplyScriptAsync(connectionString, ReadScriptFromRepository());

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();

        var now = DateTime.UtcNow;
        Assert.Equal(1, await RunStoredScalarAsync<int>(connection, "InsertMembershipVersionKey", ("DeploymentId", "c1")));
        Assert.Equal(0, await RunStoredScalarAsync<int>(connection, "InsertMembershipVersionKey", ("DeploymentId", "c1")));
        Assert.Equal(1, await RunStoredScalarAsync<int>(connection, "InsertMembershipKey",
            ("DeploymentId", "c1"), ("Address", "127.0.0.1"), ("Port", 11111), ("Generation", 1),
            ("SiloName", "s"), ("HostName", "h"), ("Status", 3), ("ProxyPort", 30000),
            ("StartTime", now), ("IAmAliveTime", now), ("Version", 0)));
        // A stale version must be rejected without touching the table.
        Assert.Equal(0, await RunStoredScalarAsync<int>(connection, "InsertMembershipKey",
            ("DeploymentId", "c1"), ("Address", "127.0.0.1"), ("Port", 11112), ("Generation", 1),
            ("SiloName", "s2"), ("HostName", "h"), ("Status", 3), ("ProxyPort", 30001),
            ("StartTime", now), ("IAmAliveTime", now), ("Version", 0)));
        Assert.Equal(1L, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansmembershiptable"));

        await RunStoredNonQueryAsync(connection, "DeleteMembershipTableEntriesKey", ("DeploymentId", "c1"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansmembershiptable"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansmembershipversiontable"));

        Assert.Equal(0, await RunStoredScalarAsync<int>(connection, "UpsertReminderRowKey",
            ("ServiceId", "svc"), ("GrainId", "g/1"), ("ReminderName", "r"), ("StartTime", now),
            ("Period", 3_000_000_000L), ("GrainHash", -5)));
        Assert.Equal(3_000_000_000L, await ScalarAsync<long>(connection, "SELECT period FROM orleansreminderstable"));
        await RunStoredNonQueryAsync(connection, "DeleteReminderRowsKey", ("ServiceId", "svc"));
        Assert.Equal(0L, await ScalarAsync<long>(connection, "SELECT count(*) FROM orleansreminderstable"));
    }

    [Fact]
    public async Task Real_silo_persists_state_and_reminders_across_a_restart()
    {
        var connectionString = await fixture.Server.CreateDatabaseAsync();
        await ApplyScriptAsync(connectionString, ReadScriptFromRepository());

        var clusterId = "schema-test-" + Guid.NewGuid().ToString("N")[..8];
        const string serviceId = "schema-test-service";
        const string grainKey = "probe-1";

        // --- first silo: write state, register a reminder, wait for it to fire --------
        using (var silo1 = await StartSiloAsync(connectionString, clusterId, serviceId))
        {
            var grain = silo1.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchemaProbeGrain>(grainKey);
            await grain.SetValueAsync("hello");
            await grain.StartReminderAsync();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await grain.GetStateAsync()).Ticks == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the reminder did not fire within 60 s");
                await Task.Delay(250);
            }

            // A second grain using the DeleteStateOnClear provider: write, then clear
            // -> the row must disappear (DeleteStorageKey).
            var deleting = silo1.Services.GetRequiredService<IGrainFactory>().GetGrain<ISchemaProbeGrain>("deleting");
            await deleting.SetScratchAsync("temp");
            Assert.Equal(2L, await CountStorageRowsAsync(connectionString, serviceId));
            await deleting.ClearScratchAsync();
            await deleting.SetScratchAsync("again");
            await deleting.ClearScratchAsync();

            await silo1.StopAsync();
        }

        Assert.Equal(1L, await CountStorageRowsAsync(connectionString, serviceId)); // only the probe state
        Assert.Equal(1L, await ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM orleansreminderstable WHERE reminderName = 'tick'"));
        Assert.True(await ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM orleansmembershiptable WHERE status = 6") >= 1, "stopped silo should be Dead");

        // --- second silo (new ports, new generation) + an external client via gateways ---
        using var silo2 = await StartSiloAsync(connectionString, clusterId, serviceId);
        using var client = await StartClientAsync(connectionString, clusterId, serviceId);

        var restored = client.Services.GetRequiredService<IClusterClient>().GetGrain<ISchemaProbeGrain>(grainKey);
        var state = await restored.GetStateAsync();
        Assert.Equal("hello", state.Value);
        Assert.True(state.Ticks >= 1);
        Assert.True(await restored.HasReminderAsync());

        // Reminder table range reads: a non-wrapping range and a wrapping one.
        var reminderTable = silo2.Services.GetRequiredService<IReminderTable>();
        var nonWrapping = await reminderTable.ReadRows(unchecked((uint)int.MinValue), int.MaxValue);
        var wrapping = await reminderTable.ReadRows(0u, 0u);
        Assert.Contains(nonWrapping.Reminders, r => r.ReminderName == "tick");
        Assert.Contains(wrapping.Reminders, r => r.ReminderName == "tick");

        // Clear (ClearStorageKey keeps the row with a NULL payload), then write again.
        await restored.ClearValueAsync();
        Assert.Null((await restored.GetStateAsync()).Value);
        Assert.True(await ScalarAsync<bool>(connectionString,
            "SELECT bool_and(payloadbinary IS NULL) FROM orleansstorage"));
        await restored.SetValueAsync("after-clear");
        Assert.Equal("after-clear", (await restored.GetStateAsync()).Value);

        // Unregister -> DeleteReminderRowKey.
        await restored.StopReminderAsync();
        Assert.False(await restored.HasReminderAsync());
        Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM orleansreminderstable"));

        // Defunct-silo cleanup removes the Dead row of the first silo, not the live one.
        var membership = silo2.Services.GetRequiredService<IMembershipTable>();
        await membership.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddSeconds(1), CancellationToken.None);
        Assert.Equal(0L, await ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM orleansmembershiptable WHERE status = 6"));
        Assert.Equal(1L, await ScalarAsync<long>(connectionString,
            "SELECT count(*) FROM orleansmembershiptable WHERE status = 3"));

        await client.StopAsync();
        await silo2.StopAsync();
    }

    // ------------------------------------------------------------------ helpers

    private async Task<IHost> StartSiloAsync(string connectionString, string clusterId, string serviceId)
    {
        var siloPort = GetFreeLoopbackPort();
        var gatewayPort = GetFreeLoopbackPort();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = Environments.Development,
        });
        ConfigureLogging(builder.Logging);
        builder.Services.AddSerializer(s => s.AddAssembly(typeof(SchemaProbeGrain).Assembly));
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            silo.ConfigureEndpoints(IPAddress.Loopback, siloPort, gatewayPort, listenOnAnyHostAddress: false);
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
            silo.AddAdoNetGrainStorage("Default", o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
            silo.AddAdoNetGrainStorage("DeleteOnClear", o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
                o.DeleteStateOnClear = true;
            });
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
        });

        var host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch
        {
            output.WriteLine(fixture.Server.ReadLogTail());
            host.Dispose();
            throw;
        }

        return host;
    }

    private async Task<IHost> StartClientAsync(string connectionString, string clusterId, string serviceId)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = Environments.Development,
        });
        ConfigureLogging(builder.Logging);
        builder.Services.AddSerializer(s => s.AddAssembly(typeof(SchemaProbeGrain).Assembly));
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = connectionString;
            });
        });

        var host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    private void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddProvider(new TestOutputLoggerProvider(output));
    }

    internal static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Telemetry.Orleans.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName
            ?? throw new InvalidOperationException(
                $"No folder containing Telemetry.Orleans.sln above {AppContext.BaseDirectory}.");
    }

    private static string ReadScriptFromRepository() =>
        File.ReadAllText(Path.Combine(FindRepositoryRoot(), ScriptRelativePath));

    /// <summary>Applies the script the way the silo will: one transaction, under an advisory lock.</summary>
    private static async Task ApplyScriptAsync(string connectionString, string script)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7306115)", connection, transaction))
        {
            await lockCommand.ExecuteNonQueryAsync();
        }

        await using (var command = new NpgsqlCommand(script, connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    private static async Task<List<string>> ReadQueryKeysAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT querykey FROM orleansquery ORDER BY querykey COLLATE \"C\"", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var keys = new List<string>();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static async Task<NpgsqlCommand> StoredCommandAsync(NpgsqlConnection connection, string key, (string Name, object Value)[] parameters)
    {
        await using var lookup = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = @key", connection);
        lookup.Parameters.AddWithValue("key", key);
        var text = (string?)await lookup.ExecuteScalarAsync() ?? throw new InvalidOperationException($"missing {key}");
        var command = new NpgsqlCommand(text, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command;
    }

    private static async Task<T> RunStoredScalarAsync<T>(NpgsqlConnection connection, string key, params (string Name, object Value)[] parameters)
    {
        await using var command = await StoredCommandAsync(connection, key, parameters);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task RunStoredNonQueryAsync(NpgsqlConnection connection, string key, params (string Name, object Value)[] parameters)
    {
        await using var command = await StoredCommandAsync(connection, key, parameters);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return await ScalarAsync<T>(connection, sql);
    }

    private static Task<long> CountStorageRowsAsync(string connectionString, string serviceId) =>
        ScalarAsync<long>(connectionString,
            $"SELECT count(*) FROM orleansstorage WHERE serviceid = '{serviceId.Replace("'", "''")}'");

    private static int GetFreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private sealed class TestOutputLoggerProvider : ILoggerProvider
    {
        private readonly ITestOutputHelper output;

        public TestOutputLoggerProvider(ITestOutputHelper output) => this.output = output;

        public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class TestOutputLogger : ILogger
    {
        private readonly ITestOutputHelper output;
        private readonly string category;

        public TestOutputLogger(ITestOutputHelper output, string category)
        {
            this.output = output;
            this.category = category;
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            try
            {
                output.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? string.Empty : Environment.NewLine + exception)}");
            }
            catch (InvalidOperationException)
            {
                // The test has already finished (background silo work after completion).
            }
        }
    }
}

// ---------------------------------------------------------------------- test grain

public interface ISchemaProbeGrain : IGrainWithStringKey
{
    Task SetValueAsync(string value);

    Task ClearValueAsync();

    Task<SchemaProbeState> GetStateAsync();

    Task StartReminderAsync();

    Task StopReminderAsync();

    Task<bool> HasReminderAsync();

    Task SetScratchAsync(string value);

    Task ClearScratchAsync();
}

[GenerateSerializer]
public sealed class SchemaProbeState
{
    [Id(0)]
    public string? Value { get; set; }

    [Id(1)]
    public int Ticks { get; set; }
}

[GenerateSerializer]
public sealed class SchemaProbeScratch
{
    [Id(0)]
    public string? Text { get; set; }
}

public sealed class SchemaProbeGrain : Grain, ISchemaProbeGrain, IRemindable
{
    private const string ReminderName = "tick";
    private readonly IPersistentState<SchemaProbeState> state;
    private readonly IPersistentState<SchemaProbeScratch> scratch;

    public SchemaProbeGrain(
        [PersistentState("probe", "Default")] IPersistentState<SchemaProbeState> state,
        [PersistentState("scratch", "DeleteOnClear")] IPersistentState<SchemaProbeScratch> scratch)
    {
        this.state = state;
        this.scratch = scratch;
    }

    public async Task SetValueAsync(string value)
    {
        state.State.Value = value;
        await state.WriteStateAsync();
    }

    public async Task ClearValueAsync()
    {
        await state.ClearStateAsync();
    }

    public Task<SchemaProbeState> GetStateAsync() => Task.FromResult(state.State);

    public async Task StartReminderAsync()
    {
        await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
    }

    public async Task StopReminderAsync()
    {
        var reminder = await this.GetReminder(ReminderName);
        if (reminder is not null)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public async Task<bool> HasReminderAsync() => await this.GetReminder(ReminderName) is not null;

    public async Task SetScratchAsync(string value)
    {
        scratch.State.Text = value;
        await scratch.WriteStateAsync();
    }

    public async Task ClearScratchAsync()
    {
        await scratch.ClearStateAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName)
        {
            state.State.Ticks++;
            await state.WriteStateAsync();
        }
    }
}
