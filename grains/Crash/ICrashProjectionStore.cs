using System.Collections.Immutable;
using Telemetry.Contracts.Crash;

namespace Telemetry.Grains.Crash;

/// <summary>Where crash rows are projected for SQL users (PostgreSQL); the embedded mode has none.</summary>
public interface ICrashProjectionStore
{
    bool Enabled { get; }

    /// <summary>Replaces every row of <paramref name="submissionDate"/> in one transaction.</summary>
    Task ReplaceDateAsync(DateOnly submissionDate, ImmutableArray<CrashRow> rows, CancellationToken ct);
}

/// <summary>Section <c>Crash</c> settings used by the grains.</summary>
public sealed class CrashOptions
{
    public const string Section = "Crash";

    /// <summary>At most how often a submission date's rows are rewritten in <c>crash_aggregates</c>, in seconds.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 86400)] public int ProjectionSeconds { get; set; } = 30;
}
