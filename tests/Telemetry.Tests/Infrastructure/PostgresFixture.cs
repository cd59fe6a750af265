namespace Telemetry.Tests.Infrastructure;

/// <summary>
/// One private PostgreSQL server shared by every test class in the "postgres"
/// collection. Tests isolate themselves with <c>fixture.Server.CreateDatabaseAsync()</c>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? server;

    public PostgresServer Server =>
        server ?? throw new InvalidOperationException("The PostgreSQL fixture has not been initialized.");

    public async Task InitializeAsync()
    {
        server = await PostgresServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
            server = null;
        }
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
}
