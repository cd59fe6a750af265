using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Telemetry.Silo.Storage.Bodies;

/// <summary>
/// The body store in a local directory (docs/body-store.md): one file per object, key path segments
/// as subdirectories. A put writes the file, fsyncs it, and fsyncs its directory (on Linux a new
/// file's name is durable only then); a crash in between leaves a file no committed batch names,
/// which orphan collection deletes. For one machine, or silos that share the directory.
/// </summary>
public sealed partial class FileSystemBodyStore : IBodyStore
{
    private readonly string _root;

    public FileSystemBodyStore(string root)
    {
        _root = System.IO.Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Kind => BodyStoreOptions.FileSystem;

    public string Root => _root;

    public Task PutAsync(string key, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken ct) =>
        // fsync blocks its thread for milliseconds: keep it off the request path's threads.
        Task.Run(() => Put(key, parts), ct);

    private void Put(string key, IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        string path = PathOf(key);
        string dir = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(dir))
        {
            CreateDirectoryDurably(dir);
        }
        using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RandomAccess.Write(handle, parts, 0);
            RandomAccess.FlushToDisk(handle);
        }
        SyncDirectory(dir);
    }

    public async Task<byte[]> ReadAsync(string key, long offset, int length, CancellationToken ct)
    {
        string path = PathOf(key);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BodyNotFoundException(key, "no such object");
        }
        using (handle)
        {
            var buffer = new byte[length];
            int done = 0;
            while (done < length)
            {
                int n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(done), offset + done, ct);
                if (n == 0)
                {
                    throw new BodyNotFoundException(key, $"ends before byte {offset + length}");
                }
                done += n;
            }
            return buffer;
        }
    }

    public async IAsyncEnumerable<StoredObject> ListAsync(string prefix, string? startAfter, [EnumeratorCancellation] CancellationToken ct)
    {
        // Keys in ordinal order: the entries of each directory sorted by key, where a directory's name
        // sorts as "name/" (its keys all start so).
        foreach (var obj in List(_root, "", prefix, startAfter))
        {
            ct.ThrowIfCancellationRequested();
            yield return obj;
        }
        await Task.CompletedTask;
    }

    private static IEnumerable<StoredObject> List(string dir, string keyPrefix, string prefix, string? startAfter)
    {
        if (!Directory.Exists(dir))
        {
            yield break;
        }
        var entries = new List<(string SortKey, string Path, bool IsDir)>();
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            bool isDir = entry is DirectoryInfo;
            entries.Add((keyPrefix + entry.Name + (isDir ? "/" : ""), entry.FullName, isDir));
        }
        entries.Sort((a, b) => string.CompareOrdinal(a.SortKey, b.SortKey));
        foreach (var (sortKey, path, isDir) in entries)
        {
            if (isDir)
            {
                // Skip a directory none of whose keys can match the prefix or sort after startAfter.
                bool prefixPossible = sortKey.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(sortKey, StringComparison.Ordinal);
                bool allBefore = startAfter is not null && string.CompareOrdinal(sortKey, startAfter) < 0 && !startAfter.StartsWith(sortKey, StringComparison.Ordinal);
                if (prefixPossible && !allBefore)
                {
                    foreach (var obj in List(path, sortKey, prefix, startAfter))
                    {
                        yield return obj;
                    }
                }
                continue;
            }
            if (!sortKey.StartsWith(prefix, StringComparison.Ordinal) || (startAfter is not null && string.CompareOrdinal(sortKey, startAfter) <= 0))
            {
                continue;
            }
            FileInfo info = new(path);
            if (info.Exists)
            {
                yield return new StoredObject(sortKey, info.Length, new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));
            }
        }
    }

    public Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        foreach (var key in keys)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                File.Delete(PathOf(key)); // no error when the file is missing...
            }
            catch (DirectoryNotFoundException)
            {
                // ...nor when its folder is
            }
        }
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        if (key.Length == 0 || key.StartsWith('/') || key.Contains('\\') || key.Split('/').Any(s => s is "" or "." or ".."))
        {
            throw new ArgumentException($"not a body store key: '{key}'", nameof(key));
        }
        return System.IO.Path.Combine(_root, key.Replace('/', System.IO.Path.DirectorySeparatorChar));
    }

    private void CreateDirectoryDurably(string dir)
    {
        // Create the missing directories top down, each made durable in its parent.
        var missing = new Stack<string>();
        for (string? d = dir; d is not null && !Directory.Exists(d); d = System.IO.Path.GetDirectoryName(d))
        {
            missing.Push(d);
        }
        while (missing.TryPop(out var d))
        {
            Directory.CreateDirectory(d);
            SyncDirectory(System.IO.Path.GetDirectoryName(d)!);
        }
    }

    /// <summary>fsync of a directory, which makes the names created in it durable (Linux; elsewhere a no-op).</summary>
    private static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        int fd = Open(dir, ORdOnly | ODirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {dir} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {dir} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int ORdOnly = 0;
    private const int ODirectory = 0x10000; // Linux x86-64 and arm64

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
