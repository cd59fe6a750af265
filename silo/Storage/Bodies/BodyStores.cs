namespace Telemetry.Silo.Storage.Bodies;

/// <summary>Builds the configured body store.</summary>
public static class BodyStores
{
    /// <summary>The store <paramref name="o"/> names, or null when bodies stay in the database.</summary>
    public static IBodyStore? Create(BodyStoreOptions o) => o.Kind.Trim().ToLowerInvariant() switch
    {
        BodyStoreOptions.FileSystem => new FileSystemBodyStore(o.Path),
        BodyStoreOptions.S3 => new S3BodyStore(S3BodyStore.CreateClient(o), o.Bucket),
        _ => null,
    };
}
