using System.Collections.Immutable;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Telemetry.Contracts.Probes;
using Telemetry.Grains.Probes;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Probes;

/// <summary>The probe registry's admin API (docs/probes.md).</summary>
public static class ProbesApi
{
    public const int MaxDocumentBytes = 16 * 1024 * 1024;

    public sealed record ChannelMapping(string Revision);

    public sealed record RevisionSummary(string Revision, int Histograms, int Scalars, DateTimeOffset UploadedAt, IReadOnlyList<string> Channels, IReadOnlyList<ProbeUploadError> Errors);

    public sealed record DefinitionView(string Name, string Kind, string Description, bool Keyed, string? ExpiresInVersion,
        IReadOnlyList<string> AlertEmails, IReadOnlyList<long>? Buckets, IReadOnlyList<string> Labels, IReadOnlyList<int> BugNumbers);

    public static IEndpointRouteBuilder MapProbesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/probes").WithTags("Probes").RequireAdmin();
        group.MapPut("/revisions/{revision}/histograms", PutHistograms).WithSummary("Upload a Histograms.json document for a revision");
        group.MapPut("/revisions/{revision}/scalars", PutScalars).WithSummary("Upload Scalars.yaml (or the same as JSON) for a revision");
        group.MapPut("/channels/{channel}", PutChannel).WithSummary("Point a channel at a revision");
        group.MapGet("/revisions", ListRevisions).WithSummary("List probe revisions");
        group.MapGet("/revisions/{revision}/histograms/{name}", GetDefinition).WithSummary("One histogram definition with its bucket lower bounds");
        return app;
    }

    private static bool ValidName(string s) => s.Length is > 0 and <= 128 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    internal static async Task<Results<Ok<ProbeUploadResult>, ProblemHttpResult>> PutHistograms(string revision, HttpRequest request, IGrainFactory grains, ProbeSnapshotCache cache)
    {
        if (!ValidName(revision))
        {
            return TypedResults.Problem(statusCode: 400, title: "bad revision", detail: "revision: letters, digits, '-', '_', '.'; at most 128");
        }
        var text = await ReadTextAsync(request);
        if (text is null)
        {
            return TypedResults.Problem(statusCode: 413, title: "document too large", detail: $"at most {MaxDocumentBytes} bytes");
        }
        try
        {
            var result = await grains.GetGrain<IProbeRegistryGrain>(0).PutHistograms(revision, text, onlyIfAbsent: false);
            await cache.RefreshAsync();
            return TypedResults.Ok(result);
        }
        catch (FormatException e)
        {
            return TypedResults.Problem(statusCode: 400, title: "not a Histograms.json document", detail: e.Message);
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(statusCode: 409, title: "registry full", detail: e.Message);
        }
    }

    internal static async Task<Results<Ok<ProbeUploadResult>, ProblemHttpResult>> PutScalars(string revision, HttpRequest request, IGrainFactory grains, ProbeSnapshotCache cache)
    {
        if (!ValidName(revision))
        {
            return TypedResults.Problem(statusCode: 400, title: "bad revision");
        }
        var text = await ReadTextAsync(request);
        if (text is null)
        {
            return TypedResults.Problem(statusCode: 413, title: "document too large");
        }
        try
        {
            var result = await grains.GetGrain<IProbeRegistryGrain>(0).PutScalars(revision, text);
            await cache.RefreshAsync();
            return TypedResults.Ok(result);
        }
        catch (FormatException e)
        {
            return TypedResults.Problem(statusCode: 400, title: "not a Scalars document", detail: e.Message);
        }
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> PutChannel(string channel, ChannelMapping body, IGrainFactory grains, ProbeSnapshotCache cache)
    {
        if (!ValidName(channel) || body.Revision is null)
        {
            return TypedResults.Problem(statusCode: 400, title: "bad channel or missing revision");
        }
        if (!await grains.GetGrain<IProbeRegistryGrain>(0).SetChannel(channel, body.Revision))
        {
            return TypedResults.Problem(statusCode: 404, title: "unknown revision", detail: body.Revision);
        }
        await cache.RefreshAsync();
        return TypedResults.NoContent();
    }

    internal static async Task<Ok<List<RevisionSummary>>> ListRevisions(ProbeSnapshotCache cache)
    {
        await cache.RefreshAsync();
        var snapshot = cache.Current;
        var list = snapshot.Revisions.Values
            .OrderByDescending(r => r.UploadedAt)
            .Select(r => new RevisionSummary(r.Name, r.Histograms.Count, r.Scalars.Count, r.UploadedAt,
                snapshot.Channels.Where(kv => kv.Value == r.Name).Select(kv => kv.Key).Order().ToList(),
                r.Errors.Select(e => new ProbeUploadError { Name = e.Name, Reason = e.Reason }).ToList()))
            .ToList();
        return TypedResults.Ok(list);
    }

    internal static Results<Ok<DefinitionView>, ProblemHttpResult> GetDefinition(string revision, string name, ProbeSnapshotCache cache)
    {
        if (!cache.Current.Revisions.TryGetValue(revision, out var rev))
        {
            return TypedResults.Problem(statusCode: 404, title: "unknown revision", detail: revision);
        }
        if (!rev.Histograms.TryGetValue(name, out var def))
        {
            return TypedResults.Problem(statusCode: 404, title: "unknown histogram", detail: name);
        }
        return TypedResults.Ok(View(def));
    }

    internal static DefinitionView View(HistogramDefinition def) => new(
        def.Name, HistogramKinds.Name(def.Kind), def.Description, def.Keyed, def.ExpiresInVersion,
        def.AlertEmails, def.Layout?.LowerBounds.ToList(), def.Labels, def.BugNumbers);

    private static async Task<string?> ReadTextAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxDocumentBytes)
        {
            return null;
        }
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await request.Body.ReadAsync(buffer)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > MaxDocumentBytes)
            {
                return null;
            }
        }
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }
}
