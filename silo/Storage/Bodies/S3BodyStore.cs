using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Telemetry.Silo.Storage.Bodies;

/// <summary>
/// The body store in an S3-compatible object store (AWS S3, MinIO, Ceph, an emulator) through
/// AWSSDK.S3 (docs/body-store.md). A put is one PutObject: S3 answers only once the object is
/// stored durably. Reads are ranged GETs, so a partition reads only its own rows of an object.
/// The bucket is created at first use when missing.
/// </summary>
public sealed class S3BodyStore : IBodyStore, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly string _bucket;
    private readonly SemaphoreSlim _bucketLock = new(1, 1);
    private volatile bool _bucketReady;

    public S3BodyStore(IAmazonS3 client, string bucket)
    {
        _client = client;
        _bucket = bucket;
    }

    public string Kind => BodyStoreOptions.S3;

    public static AmazonS3Client CreateClient(BodyStoreOptions o)
    {
        var config = new AmazonS3Config
        {
            Timeout = TimeSpan.FromSeconds(30),
            // A failed put fails its group commit (503, the client retries): a couple of quick retries, not a minute of them.
            MaxErrorRetry = 2,
        };
        bool endpoint = !string.IsNullOrWhiteSpace(o.ServiceUrl);
        if (endpoint)
        {
            config.ServiceURL = o.ServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(o.Region) ? "us-east-1" : o.Region;
        }
        else if (!string.IsNullOrWhiteSpace(o.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        }
        config.ForcePathStyle = o.ForcePathStyle ?? endpoint;
        // An emulator takes any credentials; without AWS ones in the environment, give it placeholders.
        bool haveKeys = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"));
        return endpoint && !haveKeys
            ? new AmazonS3Client(new BasicAWSCredentials("local", "local"), config)
            : new AmazonS3Client(config);
    }

    public async Task PutAsync(string key, IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken ct)
    {
        await EnsureBucketAsync(ct);
        int total = 0;
        foreach (var part in parts)
        {
            total += part.Length;
        }
        // One contiguous, seekable body: the SDK can sign and checksum it without chunked uploads.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
        try
        {
            int at = 0;
            foreach (var part in parts)
            {
                part.Span.CopyTo(buffer.AsSpan(at));
                at += part.Length;
            }
            using var stream = new MemoryStream(buffer, 0, total, writable: false);
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                InputStream = stream,
                AutoCloseStream = false,
                ContentType = "application/octet-stream",
            }, ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<byte[]> ReadAsync(string key, long offset, int length, CancellationToken ct)
    {
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _bucket,
                Key = key,
                ByteRange = new ByteRange(offset, offset + length - 1),
            }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new BodyNotFoundException(key, "no such object");
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new BodyNotFoundException(key, $"ends before byte {offset + length}");
        }
        using (response)
        {
            await using var body = response.ResponseStream;
            // A server that ignores Range answers the whole object (200 without Content-Range): skip to the offset.
            long skip = response.HttpStatusCode == HttpStatusCode.PartialContent ? 0 : offset;
            var buffer = new byte[length];
            var scratch = skip > 0 ? new byte[81920] : [];
            while (skip > 0)
            {
                int n = await body.ReadAsync(scratch.AsMemory(0, (int)Math.Min(scratch.Length, skip)), ct);
                if (n == 0)
                {
                    throw new BodyNotFoundException(key, $"ends before byte {offset}");
                }
                skip -= n;
            }
            int done = 0;
            while (done < length)
            {
                int n = await body.ReadAsync(buffer.AsMemory(done), ct);
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
        await EnsureBucketAsync(ct);
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, StartAfter = startAfter, MaxKeys = 1000 };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, ct);
            foreach (var o in page.S3Objects ?? [])
            {
                yield return new StoredObject(o.Key, o.Size ?? 0, o.LastModified is { } m ? new DateTimeOffset(m.ToUniversalTime(), TimeSpan.Zero) : DateTimeOffset.UtcNow);
            }
            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task DeleteAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        for (int i = 0; i < keys.Count; i += 1000)
        {
            var request = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true };
            foreach (var key in keys.Skip(i).Take(1000))
            {
                request.AddKey(key);
            }
            var response = await _client.DeleteObjectsAsync(request, ct);
            if (response.DeleteErrors is { Count: > 0 } errors)
            {
                var first = errors[0];
                throw new IOException($"S3 refused to delete {errors.Count} object(s), first {first.Key}: {first.Code} {first.Message}");
            }
        }
    }

    private async Task EnsureBucketAsync(CancellationToken ct)
    {
        if (_bucketReady)
        {
            return;
        }
        await _bucketLock.WaitAsync(ct);
        try
        {
            if (_bucketReady)
            {
                return;
            }
            try
            {
                await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _bucket }, ct);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                try
                {
                    await _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, ct);
                }
                catch (AmazonS3Exception c) when (c.ErrorCode is "BucketAlreadyOwnedByYou" || c.StatusCode == HttpStatusCode.Conflict)
                {
                    // another silo created it meanwhile
                }
            }
            _bucketReady = true;
        }
        finally
        {
            _bucketLock.Release();
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _bucketLock.Dispose();
    }
}
