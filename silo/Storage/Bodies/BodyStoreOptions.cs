using Microsoft.Extensions.Options;

namespace Telemetry.Silo.Storage.Bodies;

/// <summary>
/// Settings of section <c>Ingest:BodyStore</c>: where raw submission bodies go in PostgreSQL mode
/// (docs/body-store.md). The embedded mode keeps its whole landing log in memory and ignores them.
/// </summary>
public sealed class BodyStoreOptions
{
    public const string Section = "Ingest:BodyStore";

    public const string FileSystem = "filesystem";
    public const string S3 = "s3";
    public const string Database = "database";

    /// <summary>
    /// <c>filesystem</c> (a local directory, fsync before answering: one machine, or silos sharing a
    /// directory), <c>s3</c> (an S3-compatible object store: clusters), or <c>database</c> (bodies inside
    /// the PostgreSQL rows, the former layout).
    /// </summary>
    public string Kind { get; set; } = FileSystem;

    /// <summary>The directory of the <c>filesystem</c> store (relative paths are relative to the working directory).</summary>
    public string Path { get; set; } = "data/bodies";

    /// <summary>Endpoint of an S3-compatible service (MinIO, Ceph, an emulator); empty means AWS S3 in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>AWS region (also the signing region of a <see cref="ServiceUrl"/>).</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>The bucket; created at first use when missing.</summary>
    public string Bucket { get; set; } = "telemetry-bodies";

    /// <summary>Prefix of every key this cluster writes (several clusters may share a bucket).</summary>
    public string Prefix { get; set; } = "landing/";

    /// <summary>Path-style requests (<c>endpoint/bucket/key</c>); default: on when <see cref="ServiceUrl"/> is set.</summary>
    public bool? ForcePathStyle { get; set; }

    /// <summary>An object no committed batch refers to is deleted once it is this old, in minutes.</summary>
    public int OrphanGraceMinutes { get; set; } = 60;

    /// <summary>How often retention and orphan collection run, in minutes.</summary>
    public int CollectMinutes { get; set; } = 60;
}

/// <summary>Checks <see cref="BodyStoreOptions"/> at start; each message names the key to change.</summary>
public sealed class BodyStoreOptionsValidator : IValidateOptions<BodyStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, BodyStoreOptions o)
    {
        var errors = new List<string>();
        string kind = o.Kind?.Trim().ToLowerInvariant() ?? "";
        if (kind is not (BodyStoreOptions.FileSystem or BodyStoreOptions.S3 or BodyStoreOptions.Database))
        {
            errors.Add($"{BodyStoreOptions.Section}:Kind must be filesystem, s3 or database (was '{o.Kind}')");
        }
        if (kind == BodyStoreOptions.FileSystem && string.IsNullOrWhiteSpace(o.Path))
        {
            errors.Add($"{BodyStoreOptions.Section}:Path must name a directory for the filesystem store");
        }
        if (kind == BodyStoreOptions.S3)
        {
            if (string.IsNullOrWhiteSpace(o.Bucket))
            {
                errors.Add($"{BodyStoreOptions.Section}:Bucket must name a bucket for the s3 store");
            }
            if (!string.IsNullOrWhiteSpace(o.ServiceUrl) && !Uri.TryCreate(o.ServiceUrl, UriKind.Absolute, out _))
            {
                errors.Add($"{BodyStoreOptions.Section}:ServiceUrl must be an absolute URL (was '{o.ServiceUrl}')");
            }
        }
        if (o.OrphanGraceMinutes is < 10 or > 7 * 24 * 60)
        {
            errors.Add($"{BodyStoreOptions.Section}:OrphanGraceMinutes must be between 10 and 10080 (an object is written seconds before its commit; the grace covers the slowest)");
        }
        if (o.CollectMinutes is < 1 or > 24 * 60)
        {
            errors.Add($"{BodyStoreOptions.Section}:CollectMinutes must be between 1 and 1440");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
