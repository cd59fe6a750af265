using System.ComponentModel.DataAnnotations;

namespace Telemetry.Silo.Ingest;

/// <summary>Settings of section <c>Import</c> (raw-log imports).</summary>
public sealed class ImportOptions
{
    public const string Section = "Import";

    /// <summary>
    /// How long one record keeps retrying when the landing log fails, in seconds. The default rides
    /// out a PostgreSQL restart or fail-over; a record still unlanded after it is counted
    /// <c>not_landed</c> and the job ends <c>failed</c>.
    /// </summary>
    [Range(1, 3600)] public int LandingRetrySeconds { get; set; } = 60;
}
