namespace Telemetry.Silo.Storage.Bodies;

/// <summary>An object in a body store, as listed.</summary>
public readonly record struct StoredObject(string Key, long Size, DateTimeOffset LastModified);

/// <summary>
/// Where raw submission bodies live when they are not in PostgreSQL (docs/body-store.md): one object
/// per group commit, written and made durable before the commit that refers to it, read back by
/// byte range for recovery and reprocessing, deleted by retention and orphan collection.
/// Keys are '/'-separated; listing returns them in ordinal order.
/// </summary>
public interface IBodyStore
{
    /// <summary>"filesystem" or "s3", for logs and metrics.</summary>
    string Kind { get; }

    /// <summary>Writes one object made of <paramref name="parts"/> in order; returns once it is durable.</summary>
    Task PutAsync(string key, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken ct);

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/> of an object.</summary>
    /// <exception cref="BodyNotFoundException">The object does not exist, or is shorter.</exception>
    Task<byte[]> ReadAsync(string key, long offset, int length, CancellationToken ct);

    /// <summary>Objects whose key starts with <paramref name="prefix"/> and sorts after <paramref name="startAfter"/>, in key order.</summary>
    IAsyncEnumerable<StoredObject> ListAsync(string prefix, string? startAfter, CancellationToken ct);

    /// <summary>Deletes objects; a key that does not exist is not an error.</summary>
    Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken ct);
}

/// <summary>A body's object is missing or shorter than its row says (it was deleted, or the store is not the one that wrote it).</summary>
public sealed class BodyNotFoundException(string key, string detail) : IOException($"body object {key}: {detail}")
{
    public string Key { get; } = key;
}
