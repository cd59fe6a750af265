using System.Collections.Immutable;

namespace Telemetry.Contracts.Expiry;

/// <summary>A release calendar uploaded by an admin, as stored: the normalised JSON document and when it was stored.</summary>
[GenerateSerializer, Immutable]
public sealed record StoredReleaseCalendar
{
    [Id(0)] public required string Json { get; init; }
    [Id(1)] public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A probe as an expiry mail names it.</summary>
[GenerateSerializer, Immutable]
public sealed record ExpiryReportProbe
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required string ExpiresInVersion { get; init; }
    [Id(2)] public required DateOnly ExpiryDate { get; init; }
}

/// <summary>One mail of an expiry run: its stage (<c>first</c> or <c>final</c>), recipients and probes.</summary>
/// <remarks><see cref="AlreadySent"/>: these notices went out before; reported, not sent again.</remarks>
[GenerateSerializer, Immutable]
public sealed record ExpiryReportMail
{
    [Id(0)] public required string Stage { get; init; }
    [Id(1)] public required ImmutableArray<string> To { get; init; }
    [Id(2)] public required ImmutableArray<ExpiryReportProbe> Probes { get; init; }
    [Id(3)] public required bool AlreadySent { get; init; }
}

/// <summary>What an expiry run did (or, for a dry run, would do) for <see cref="AsOf"/>, covering the notice days <see cref="From"/> to <see cref="AsOf"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ExpiryRunReport
{
    [Id(0)] public required DateOnly AsOf { get; init; }
    [Id(1)] public required bool DryRun { get; init; }
    [Id(2)] public required DateOnly From { get; init; }
    [Id(3)] public required ImmutableArray<ExpiryReportMail> Mails { get; init; }
}
