using System.Collections.Immutable;

namespace Telemetry.Contracts.Probes;

/// <summary>A probe revision's source documents as uploaded.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeRevisionDocument
{
    [Id(0)] public required string Revision { get; init; }
    [Id(1)] public required string HistogramsJson { get; init; }
    [Id(2)] public string? ScalarsText { get; init; }
    [Id(3)] public required DateTimeOffset UploadedAt { get; init; }
}

/// <summary>Everything in the registry; silos rebuild their parsed snapshot from it when the version changes.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeRegistryContent
{
    [Id(0)] public long Version { get; init; }
    [Id(1)] public ImmutableArray<ProbeRevisionDocument> Revisions { get; init; } = ImmutableArray<ProbeRevisionDocument>.Empty;
    [Id(2)] public ImmutableDictionary<string, string> Channels { get; init; } = ImmutableDictionary<string, string>.Empty;
}

/// <summary>The outcome of an upload: how many definitions loaded and which could not be understood.</summary>
[GenerateSerializer, Immutable]
public sealed record ProbeUploadResult
{
    [Id(0)] public required string Revision { get; init; }
    [Id(1)] public int Loaded { get; init; }
    [Id(2)] public ImmutableArray<ProbeUploadError> Errors { get; init; } = ImmutableArray<ProbeUploadError>.Empty;
    [Id(3)] public bool Stored { get; init; }
}

[GenerateSerializer, Immutable]
public sealed record ProbeUploadError
{
    [Id(0)] public required string Name { get; init; }
    [Id(1)] public required string Reason { get; init; }
}

/// <summary>The registry of probe revisions and the channel → revision mapping (single activation, key 0).</summary>
public interface IProbeRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Stores a Histograms.json document for a revision (replacing it unless <paramref name="onlyIfAbsent"/>).</summary>
    Task<ProbeUploadResult> PutHistograms(string revision, string histogramsJson, bool onlyIfAbsent);

    /// <summary>Stores the scalar definitions (Scalars.yaml or JSON) of an existing or new revision.</summary>
    Task<ProbeUploadResult> PutScalars(string revision, string scalarsText);

    /// <summary>Points a channel at a revision; false when the revision is unknown.</summary>
    Task<bool> SetChannel(string channel, string revision);

    /// <summary>The registry's change counter.</summary>
    Task<long> GetVersion();

    /// <summary>All documents and the channel mapping.</summary>
    Task<ProbeRegistryContent> GetContent();
}
