using System.Collections.Immutable;
using Telemetry.Contracts.Probes;
using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Registry;

[GenerateSerializer]
public sealed class ProbeRegistryState
{
    [Id(0)] public long Version { get; set; }
    [Id(1)] public Dictionary<string, ProbeRevisionDocument> Revisions { get; set; } = new(StringComparer.Ordinal);
    [Id(2)] public Dictionary<string, string> Channels { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The probe registry (docs/probes.md). Documents are validated here and parsed again by each silo's snapshot.</summary>
public sealed class ProbeRegistryGrain(
    [PersistentState("probe-registry", StorageNames.Telemetry)] IPersistentState<ProbeRegistryState> state) : Grain, IProbeRegistryGrain
{
    public const int MaxRevisions = 500;

    async Task<ProbeUploadResult> IProbeRegistryGrain.PutHistograms(string revision, string histogramsJson, bool onlyIfAbsent)
    {
        var parsed = HistogramsJsonParser.Parse(histogramsJson); // throws FormatException for a non-object document
        var result = new ProbeUploadResult
        {
            Revision = revision,
            Loaded = parsed.Definitions.Count,
            Errors = parsed.Errors.Select(e => new ProbeUploadError { Name = e.Name, Reason = e.Reason }).ToImmutableArray(),
        };
        var s = state.State;
        if (onlyIfAbsent && s.Revisions.ContainsKey(revision))
        {
            return result;
        }
        if (!s.Revisions.ContainsKey(revision) && s.Revisions.Count >= MaxRevisions)
        {
            throw new InvalidOperationException($"the registry holds {MaxRevisions} revisions already");
        }
        s.Revisions.TryGetValue(revision, out var existing);
        s.Revisions[revision] = new ProbeRevisionDocument
        {
            Revision = revision,
            HistogramsJson = histogramsJson,
            ScalarsText = existing?.ScalarsText,
            UploadedAt = DateTimeOffset.UtcNow,
        };
        s.Version++;
        await state.WriteStateAsync();
        return result with { Stored = true };
    }

    async Task<ProbeUploadResult> IProbeRegistryGrain.PutScalars(string revision, string scalarsText)
    {
        var parsed = ScalarsParser.Parse(scalarsText); // throws FormatException when unreadable
        var s = state.State;
        s.Revisions.TryGetValue(revision, out var existing);
        s.Revisions[revision] = new ProbeRevisionDocument
        {
            Revision = revision,
            HistogramsJson = existing?.HistogramsJson ?? "{}",
            ScalarsText = scalarsText,
            UploadedAt = existing?.UploadedAt ?? DateTimeOffset.UtcNow,
        };
        s.Version++;
        await state.WriteStateAsync();
        return new ProbeUploadResult { Revision = revision, Loaded = parsed.Count, Stored = true };
    }

    async Task<bool> IProbeRegistryGrain.SetChannel(string channel, string revision)
    {
        var s = state.State;
        if (!s.Revisions.ContainsKey(revision))
        {
            return false;
        }
        s.Channels[channel] = revision;
        s.Version++;
        await state.WriteStateAsync();
        return true;
    }

    Task<long> IProbeRegistryGrain.GetVersion() => Task.FromResult(state.State.Version);

    Task<ProbeRegistryContent> IProbeRegistryGrain.GetContent() => Task.FromResult(new ProbeRegistryContent
    {
        Version = state.State.Version,
        Revisions = state.State.Revisions.Values.OrderBy(r => r.UploadedAt).ToImmutableArray(),
        Channels = state.State.Channels.ToImmutableDictionary(StringComparer.Ordinal),
    });
}

/// <summary>Builds the parsed snapshot silos decode with from the registry's documents.</summary>
public static class ProbeSnapshotBuilder
{
    public static ProbeSnapshot Build(ProbeRegistryContent content, ProbeSnapshot? previous)
    {
        var revisions = ImmutableDictionary.CreateBuilder<string, ProbeRevision>(StringComparer.Ordinal);
        foreach (var doc in content.Revisions)
        {
            if (previous is not null && previous.Revisions.TryGetValue(doc.Revision, out var old) && old.UploadedAt == doc.UploadedAt && old.Source?.HistogramsJson.Length == doc.HistogramsJson.Length && old.Source?.ScalarsText == doc.ScalarsText)
            {
                revisions[doc.Revision] = old;
                continue;
            }
            var histograms = HistogramsJsonParser.Parse(doc.HistogramsJson);
            var scalars = doc.ScalarsText is null ? ImmutableDictionary<string, ScalarDefinition>.Empty : ScalarsParser.Parse(doc.ScalarsText);
            revisions[doc.Revision] = new ProbeRevision
            {
                Name = doc.Revision,
                Histograms = histograms.Definitions,
                Scalars = scalars,
                Errors = histograms.Errors,
                UploadedAt = doc.UploadedAt,
                Source = doc,
            };
        }
        string? newest = content.Revisions.Where(r => r.HistogramsJson.Length > 2).OrderBy(r => r.UploadedAt).LastOrDefault()?.Revision;
        return new ProbeSnapshot(revisions.ToImmutable(), content.Channels, newest, content.Version);
    }
}
