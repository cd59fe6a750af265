using System.Collections.Immutable;

namespace Telemetry.Contracts.Sentry;

/// <summary>One stack frame of an event's first exception.</summary>
[GenerateSerializer, Immutable]
public sealed record SentryFrame(
    [property: Id(0)] string? Function,
    [property: Id(1)] string? Module,
    [property: Id(2)] int? LineNo,
    [property: Id(3)] int? ColNo);

/// <summary>
/// The fields of a Sentry event the alerts use (docs/sentry.md, "Events"): Sentry's serialized event,
/// camelCase, as it arrives from SQS or the webhook. <c>SentryEventParser</c> (grains) reads it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SentryEvent
{
    [Id(0)] public required string EventId { get; init; }
    [Id(1)] public required DateTimeOffset DateReceived { get; init; }
    [Id(2)] public string? GroupId { get; init; }

    /// <summary>The fingerprint list; the identity within its project is <see cref="Fingerprint"/>.</summary>
    [Id(3)] public required ImmutableArray<string> Fingerprints { get; init; }

    /// <summary>The fingerprints joined by <c>:</c>.</summary>
    public string Fingerprint => string.Join(':', Fingerprints);

    [Id(4)] public required string Message { get; init; }
    [Id(5)] public required string Project { get; init; }
    [Id(6)] public string? Module { get; init; }
    [Id(7)] public ImmutableArray<SentryFrame> Frames { get; init; } = [];
    [Id(8)] public string? Release { get; init; }
    [Id(9)] public string? Environment { get; init; }
    [Id(10)] public string? UserId { get; init; }
    [Id(11)] public ImmutableSortedDictionary<string, string> Tags { get; init; } = ImmutableSortedDictionary<string, string>.Empty;
    [Id(12)] public string? Level { get; init; }
    [Id(13)] public string? Platform { get; init; }
}
