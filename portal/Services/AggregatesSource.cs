using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Telemetry.Portal.Services;

/// <summary>The two families of aggregates (README, "Aggregates").</summary>
public static class AggregateKinds
{
    public const string BuildId = "build_id";
    public const string SubmissionDate = "submission_date";

    public static bool IsValid(string? kind) => kind is BuildId or SubmissionDate;
}

/// <summary>A date with data and the major version it belongs to (<c>…/dates/</c>).</summary>
public sealed record AggregateDate(string Date, string Version);

/// <summary>The values seen for a channel and version (<c>GET /filters/</c>).</summary>
public sealed record AggregateFilterOptions(
    ImmutableArray<string> Metrics, ImmutableArray<string> Applications, ImmutableArray<string> Architectures,
    ImmutableArray<string> Os, ImmutableArray<string> Processes);

/// <summary>One histogram query; dimensions left null are summed over by the silo.</summary>
public sealed record AggregateQuery(
    string Kind, string Channel, string Version, string Metric, ImmutableArray<string> Dates,
    string? Application = null, string? Architecture = null, string? Os = null, string? Process = null, string? Label = null);

/// <summary>One (date, label) histogram of an answer.</summary>
public sealed record AggregateEntry(string Date, string Label, ImmutableArray<double> Histogram, long Count, double Sum);

/// <summary>An aggregates answer: bucket labels (and numeric lower bounds unless categorical) and the entries.</summary>
public sealed record AggregateResult(
    ImmutableArray<string> Buckets, ImmutableArray<double>? LowerBounds, string Kind, string? Description,
    ImmutableArray<AggregateEntry> Data);

/// <summary>Where the aggregates explorer reads.</summary>
public interface IAggregatesSource
{
    Task<ImmutableArray<string>> ChannelsAsync(string kind, CancellationToken cancellationToken);

    /// <summary>Dates with data, newest version then newest date first.</summary>
    Task<ImmutableArray<AggregateDate>> DatesAsync(string kind, string channel, CancellationToken cancellationToken);

    /// <summary>Null when the silo knows nothing for that channel and version.</summary>
    Task<AggregateFilterOptions?> FiltersAsync(string channel, string version, CancellationToken cancellationToken);

    /// <summary>Null when there is no data for any of the dates.</summary>
    Task<AggregateResult?> HistogramsAsync(AggregateQuery query, CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="IAggregatesSource"/> over the silo's aggregates routes. Reads carry <c>Portal:Silo:ReadToken</c>
/// when one is configured, so restricted channels (<c>Aggregates:RestrictedChannels</c>) can be explored.
/// </summary>
public sealed class AggregatesSource(SiloApi api, IOptions<SiloApiOptions> options) : IAggregatesSource
{
    private string? Token => string.IsNullOrWhiteSpace(options.Value.ReadToken) ? null : options.Value.ReadToken;

    public async Task<ImmutableArray<string>> ChannelsAsync(string kind, CancellationToken cancellationToken)
    {
        var json = await api.GetAsync($"/aggregates_by/{Kind(kind)}/channels/", Token, cancellationToken);
        return json is { ValueKind: JsonValueKind.Array } a ? [.. a.EnumerateArray().Select(c => c.GetString() ?? "")] : [];
    }

    public async Task<ImmutableArray<AggregateDate>> DatesAsync(string kind, string channel, CancellationToken cancellationToken)
    {
        var json = await api.GetAsync($"/aggregates_by/{Kind(kind)}/channels/{Uri.EscapeDataString(channel)}/dates/", Token, cancellationToken);
        return json is { ValueKind: JsonValueKind.Array } a
            ? [.. a.EnumerateArray().Select(d => new AggregateDate(d.GetProperty("date").ToString(), d.GetProperty("version").ToString()))]
            : [];
    }

    public async Task<AggregateFilterOptions?> FiltersAsync(string channel, string version, CancellationToken cancellationToken)
    {
        var json = await api.GetAsync($"/filters/?channel={Uri.EscapeDataString(channel)}&version={Uri.EscapeDataString(version)}", Token, cancellationToken);
        if (json is not { ValueKind: JsonValueKind.Object } f)
        {
            return null;
        }
        ImmutableArray<string> List(string name) => [.. SiloJson.Array(f, name).Select(v => v.ToString())];
        return new AggregateFilterOptions(List("metric"), List("application"), List("architecture"), List("os"), List("child"));
    }

    public async Task<AggregateResult?> HistogramsAsync(AggregateQuery query, CancellationToken cancellationToken)
    {
        var path = $"/aggregates_by/{Kind(query.Kind)}/channels/{Uri.EscapeDataString(query.Channel)}/?version={Uri.EscapeDataString(query.Version)}"
            + $"&dates={Uri.EscapeDataString(string.Join(',', query.Dates))}&metric={Uri.EscapeDataString(query.Metric)}";
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                path += "&" + name + "=" + Uri.EscapeDataString(value);
            }
        }
        Add("application", query.Application);
        Add("architecture", query.Architecture);
        // The filters list an OS as "name,version"; the API takes the two separately.
        if (query.Os is { Length: > 0 } os)
        {
            var comma = os.IndexOf(',', StringComparison.Ordinal);
            Add("os", comma < 0 ? os : os[..comma]);
            Add("osVersion", comma < 0 ? null : os[(comma + 1)..]);
        }
        Add("child", query.Process);
        Add("label", query.Label);

        JsonElement? json;
        try
        {
            json = await api.GetAsync(path, Token, cancellationToken);
        }
        catch (SiloApiException e) when (e.Status == HttpStatusCode.NotFound)
        {
            json = null;
        }
        if (json is not { ValueKind: JsonValueKind.Object } r)
        {
            return null;
        }
        var buckets = SiloJson.Array(r, "buckets").ToList();
        ImmutableArray<double>? bounds = buckets.All(b => b.ValueKind == JsonValueKind.Number) ? [.. buckets.Select(b => b.GetDouble())] : null;
        return new AggregateResult(
            [.. buckets.Select(b => b.ValueKind == JsonValueKind.Number ? b.GetDouble().ToString(CultureInfo.InvariantCulture) : b.ToString())],
            bounds,
            SiloJson.Text(r, "kind") ?? "",
            SiloJson.Text(r, "description"),
            [.. SiloJson.Array(r, "data").Select(d => new AggregateEntry(
                d.GetProperty("date").ToString(),
                SiloJson.Text(d, "label") ?? "",
                [.. SiloJson.Array(d, "histogram").Select(v => v.GetDouble())],
                d.TryGetProperty("count", out var c) && c.ValueKind == JsonValueKind.Number ? c.GetInt64() : 0,
                d.TryGetProperty("sum", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : 0))]);
    }

    private static string Kind(string kind) => AggregateKinds.IsValid(kind) ? kind : AggregateKinds.BuildId;
}
