using Telemetry.Silo.Storage.Bodies;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Sentry;

namespace Telemetry.Tests.Storage;

/// <summary>
/// What the landing log needs of a body store, checked on both real stores: a directory on this
/// machine's disk, and the S3 protocol (fauxqs on loopback, through AWSSDK.S3).
/// </summary>
public abstract class BodyStoreContract
{
    protected abstract Task<IBodyStore> NewStoreAsync();

    private static byte[] Bytes(int n, int seed) => Enumerable.Range(0, n).Select(i => (byte)(i * 31 + seed)).ToArray();

    [Fact]
    public async Task An_object_written_from_parts_reads_back_by_range_byte_for_byte()
    {
        var store = await NewStoreAsync();
        var a = Bytes(20_000, 1);
        var b = Bytes(5, 2);
        var c = Bytes(70_001, 3);
        // Parts are slices of larger buffers, as the group commit passes pooled request bodies.
        var pooled = new byte[b.Length + 9];
        b.CopyTo(pooled, 4);
        await store.PutAsync("ns/000000001/0000000000100001", [a, pooled.AsMemory(4, b.Length), c], CancellationToken.None);

        Assert.Equal(a, await store.ReadAsync("ns/000000001/0000000000100001", 0, a.Length, CancellationToken.None));
        Assert.Equal(b, await store.ReadAsync("ns/000000001/0000000000100001", a.Length, b.Length, CancellationToken.None));
        Assert.Equal(c, await store.ReadAsync("ns/000000001/0000000000100001", a.Length + b.Length, c.Length, CancellationToken.None));
        byte[] across = [.. b, .. c.Take(10)];
        Assert.Equal(across, await store.ReadAsync("ns/000000001/0000000000100001", a.Length, b.Length + 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_object_or_a_range_past_its_end_is_reported_as_missing()
    {
        var store = await NewStoreAsync();
        await store.PutAsync("ns/000000000/0000000000000007", [Bytes(100, 0)], CancellationToken.None);
        await Assert.ThrowsAsync<BodyNotFoundException>(() => store.ReadAsync("ns/000000000/0000000000000008", 0, 10, CancellationToken.None));
        await Assert.ThrowsAsync<BodyNotFoundException>(() => store.ReadAsync("ns/000000000/0000000000000007", 95, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Listing_returns_the_prefix_in_key_order_after_a_key_and_delete_removes_exactly_the_keys_named()
    {
        var store = await NewStoreAsync();
        string[] keys =
        [
            "ns/000000000/0000000000099999", "ns/000000001/0000000000100000", "ns/000000001/0000000000100002",
            "ns/000000002/0000000000200000", "other/000000000/0000000000000001",
        ];
        foreach (var key in keys.Reverse())
        {
            await store.PutAsync(key, [Bytes(10, key.Length)], CancellationToken.None);
        }
        Assert.Equal(keys[..4], await Keys(store, "ns/", null));
        Assert.Equal(keys[2..4], await Keys(store, "ns/", keys[1]));
        Assert.Equal(keys[..4], await Keys(store, "ns/", "ns/000000000/"));
        Assert.Equal(keys[1..4], await Keys(store, "ns/", "ns/000000000/0000000000099999"));
        var listed = await ToListAsync(store.ListAsync("ns/", null, CancellationToken.None));
        Assert.All(listed, o => Assert.Equal(10, o.Size));
        Assert.All(listed, o => Assert.InRange(o.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5)));

        await store.DeleteAsync([keys[1], keys[3], "ns/000000009/0000000000900000"], CancellationToken.None);
        Assert.Equal([keys[0], keys[2]], await Keys(store, "ns/", null));
        Assert.Equal([keys[4]], await Keys(store, "other/", null));
    }

    private static async Task<string[]> Keys(IBodyStore store, string prefix, string? after) =>
        [.. (await ToListAsync(store.ListAsync(prefix, after, CancellationToken.None))).Select(o => o.Key)];

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }
        return list;
    }
}

/// <summary>The filesystem store in a real directory (each put is fsynced, file and directory).</summary>
public sealed class FileSystemBodyStoreTests : BodyStoreContract, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "telemetry-bodystore-" + Guid.NewGuid().ToString("N")[..12]);

    protected override Task<IBodyStore> NewStoreAsync() => Task.FromResult<IBodyStore>(new FileSystemBodyStore(_root));

    [Fact]
    public async Task A_put_into_a_path_that_cannot_be_a_directory_fails_instead_of_answering()
    {
        // A file where the store wants a folder: the write fails, as a full or broken disk would.
        Directory.CreateDirectory(_root);
        await File.WriteAllTextAsync(Path.Combine(_root, "blocked"), "not a directory");
        var store = new FileSystemBodyStore(_root);
        await Assert.ThrowsAnyAsync<IOException>(() => store.PutAsync("blocked/000000000/0000000000000001", [new byte[] { 1 }], CancellationToken.None));
    }

    [Fact]
    public async Task Objects_are_plain_files_under_the_root()
    {
        var store = new FileSystemBodyStore(_root);
        await store.PutAsync("ns/000000000/0000000000000042", [new byte[] { 1, 2, 3 }], CancellationToken.None);
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(Path.Combine(_root, "ns", "000000000", "0000000000000042")));
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("ns/../escape", [new byte[] { 1 }], CancellationToken.None));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>The S3 store against fauxqs' S3 on loopback, through AWSSDK.S3 as the silo uses it.</summary>
public sealed class S3BodyStoreTests(FauxqsFixture fauxqs) : BodyStoreContract, IClassFixture<FauxqsFixture>
{
    protected override Task<IBodyStore> NewStoreAsync()
    {
        // A new bucket per test (created by the store at first use, as on a fresh deployment).
        var options = fauxqs.Server.S3Options("bodies-" + Guid.NewGuid().ToString("N")[..12]);
        return Task.FromResult<IBodyStore>(new S3BodyStore(S3BodyStore.CreateClient(options), options.Bucket));
    }

    [Fact]
    public async Task A_put_while_the_endpoint_is_down_fails()
    {
        var options = new BodyStoreOptions { Kind = "s3", ServiceUrl = $"http://127.0.0.1:{TestPaths.FreePort()}", Bucket = "nowhere" };
        using var store = new S3BodyStore(S3BodyStore.CreateClient(options), options.Bucket);
        await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("ns/000000000/0000000000000001", [new byte[] { 1 }], CancellationToken.None));
    }
}
