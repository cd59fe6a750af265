using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Aggregates;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Registry;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Aggregates;

/// <summary>Section <c>Aggregates</c> (README, "Aggregates").</summary>
public sealed class AggregatesOptions
{
    public const string Section = "Aggregates";

    /// <summary>Channels hidden from the channel list that need a read token (default <c>release</c> when not configured; an empty entry means none).</summary>
    public List<string> RestrictedChannels { get; set; } = [];

    /// <summary>Bearer tokens that may read restricted channels (at least 16 characters each; empty entries are ignored).</summary>
    public List<string> ReadTokens { get; set; } = [];

    /// <summary>Metrics that stay public on restricted channels.</summary>
    public List<string> PublicMetrics { get; set; } = [];

    /// <summary>Metrics that are not aggregated (default: the README's list when not configured).</summary>
    public List<string> ExcludedMetrics { get; set; } = [];

    /// <summary>
    /// Lists bound from configuration are appended to initial values, so defaults are applied
    /// here, only when the key is absent: then configuring a list replaces the default.
    /// </summary>
    public static void ApplyDefaults(AggregatesOptions options, IConfiguration config)
    {
        var section = config.GetSection(Section);
        if (!section.GetSection(nameof(RestrictedChannels)).GetChildren().Any())
        {
            options.RestrictedChannels = ["release"];
        }
        if (!section.GetSection(nameof(ExcludedMetrics)).GetChildren().Any())
        {
            options.ExcludedMetrics = [.. Telemetry.Grains.Ingest.DecodeSettings.DefaultExcludedMetrics];
        }
        options.RestrictedChannels.RemoveAll(string.IsNullOrWhiteSpace);
        options.ExcludedMetrics.RemoveAll(string.IsNullOrWhiteSpace);
        options.ReadTokens.RemoveAll(string.IsNullOrWhiteSpace);
    }

    /// <summary>Promise of how soon an accepted ping is visible in the API, in seconds (measured by the benchmark).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3600)] public int MaxStalenessSeconds { get; set; } = 10;

    /// <summary>Most dates one request may ask for.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10000)] public int MaxDates { get; set; } = 400;
}

/// <summary>The aggregates HTTP API, compatible with Mozilla's aggregates service (README, "Aggregates").</summary>
public static class AggregatesApi
{
    public const string CorsPolicy = "aggregates";

    private static readonly string[] AllowedParameters = ["version", "dates", "metric", "application", "architecture", "os", "osVersion", "label", "child"];

    public sealed record AggregateEntry(string date, string label, long[] histogram, long count, long sum);

    public sealed record AggregateResponse(IReadOnlyList<object> buckets, string kind, string description, IReadOnlyList<AggregateEntry> data);

    public static IEndpointRouteBuilder MapAggregatesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").WithTags("Aggregates").RequireCors(CorsPolicy);
        group.MapGet("/aggregates_by/{prefix}/channels", Channels).WithSummary("Channels with data");
        group.MapGet("/aggregates_by/{prefix}/channels/{channel}/dates", Dates).WithSummary("Dates and versions with data in a channel");
        group.MapGet("/aggregates_by/{prefix}/channels/{channel}", Query).WithSummary("Aggregated histograms for a metric over dates");
        group.MapGet("/filters", Filters).WithSummary("Dimension values seen for a channel and version");
        return app;
    }

    internal static async Task<IResult> Channels(string prefix, IGrainFactory grains, IOptions<AggregatesOptions> options)
    {
        if (!AggregateFamily.IsKnown(prefix))
        {
            return NotFound($"unknown aggregate family '{Clip(prefix)}'; use build_id or submission_date");
        }
        var channels = await grains.GetGrain<ICatalogGrain>(0).GetChannels(prefix);
        var restricted = options.Value.RestrictedChannels;
        return TypedResults.Json(channels.Where(c => !restricted.Contains(c)).ToList());
    }

    internal static async Task<IResult> Dates(string prefix, string channel, HttpRequest request, IGrainFactory grains, IOptions<AggregatesOptions> options)
    {
        if (!AggregateFamily.IsKnown(prefix))
        {
            return NotFound($"unknown aggregate family '{Clip(prefix)}'; use build_id or submission_date");
        }
        if (!MayRead(request, channel, null, options.Value))
        {
            return Forbidden(channel);
        }
        var dates = await grains.GetGrain<ICatalogGrain>(0).GetDates(prefix, channel);
        return TypedResults.Json(dates.Select(d => new { date = d.Date, version = d.Version }).ToList());
    }

    internal static async Task<IResult> Filters(HttpRequest request, IGrainFactory grains, IOptions<AggregatesOptions> options)
    {
        var q = request.Query;
        var unknown = q.Keys.FirstOrDefault(k => k is not ("channel" or "version"));
        if (unknown is not null)
        {
            return BadRequest(Clip(unknown), "unknown parameter; allowed: channel, version");
        }
        string? channel = q["channel"], version = q["version"];
        if (string.IsNullOrEmpty(channel))
        {
            return BadRequest("channel", "required");
        }
        if (string.IsNullOrEmpty(version))
        {
            return BadRequest("version", "required");
        }
        if (!MayRead(request, channel, null, options.Value))
        {
            return Forbidden(channel);
        }
        var keys = (await grains.GetGrain<ICatalogGrain>(0).GetKeys())
            .Select(k => (Key: k, Parts: AggregateFamily.TryParseGrainKey(k, out var parts) ? parts : default))
            .Where(k => k.Parts.Family == AggregateFamily.SubmissionDate && k.Parts.Channel == channel && k.Parts.Version == version)
            .ToList();
        if (keys.Count == 0)
        {
            return NotFound($"no data for channel '{Clip(channel)}' version '{Clip(version)}'");
        }
        var all = await Task.WhenAll(keys.Select(k => grains.GetGrain<IAggregateGrain>(k.Key).GetFilters()));
        static List<string> Union(IEnumerable<ImmutableArray<string>> sets) =>
            sets.SelectMany(s => s).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return TypedResults.Json(new Dictionary<string, object>
        {
            ["metric"] = Union(all.Select(f => f.Metrics)),
            ["application"] = Union(all.Select(f => f.Applications)),
            ["architecture"] = Union(all.Select(f => f.Architectures)),
            ["os"] = Union(all.Select(f => f.Os)),
            ["child"] = Union(all.Select(f => f.Processes)),
            ["undeclared"] = Union(all.Select(f => f.UndeclaredMetrics)),
        });
    }

    internal static async Task<IResult> Query(string prefix, string channel, HttpContext ctx, IGrainFactory grains, IProbeSnapshotSource probes, IOptions<AggregatesOptions> options)
    {
        var request = ctx.Request;
        var opts = options.Value;
        if (!AggregateFamily.IsKnown(prefix))
        {
            return NotFound($"unknown aggregate family '{Clip(prefix)}'; use build_id or submission_date");
        }
        var q = request.Query;
        var unknown = q.Keys.FirstOrDefault(k => !AllowedParameters.Contains(k));
        if (unknown is not null)
        {
            return BadRequest(Clip(unknown), "unknown parameter; allowed: " + string.Join(", ", AllowedParameters));
        }
        string? version = q["version"], metric = q["metric"], datesText = q["dates"];
        if (string.IsNullOrEmpty(version)) return BadRequest("version", "required");
        if (string.IsNullOrEmpty(metric)) return BadRequest("metric", "required");
        if (string.IsNullOrEmpty(datesText)) return BadRequest("dates", "required (comma-separated yyyyMMdd)");
        var dates = new List<string>();
        foreach (var d in datesText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!DateOnly.TryParseExact(d, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                return BadRequest("dates", $"'{Clip(d)}' is not a yyyyMMdd date");
            }
            if (!dates.Contains(d)) dates.Add(d);
        }
        if (dates.Count == 0) return BadRequest("dates", "required (comma-separated yyyyMMdd)");
        if (dates.Count > opts.MaxDates) return BadRequest("dates", $"at most {opts.MaxDates} dates");
        string? process = q["child"].ToString() switch
        {
            "" => null,
            "true" or "content" => "content",
            "false" or "parent" => "parent",
            "gpu" => "gpu",
            _ => "?",
        };
        if (process == "?") return BadRequest("child", "use parent, content, gpu, true or false");
        if (!MayRead(request, channel, metric, opts))
        {
            return Forbidden(channel);
        }
        var query = new AggregateQuery
        {
            Metric = metric,
            Application = NullIfEmpty(q["application"]),
            Architecture = NullIfEmpty(q["architecture"]),
            Os = NullIfEmpty(q["os"]),
            OsVersion = NullIfEmpty(q["osVersion"]),
            Label = q.ContainsKey("label") ? q["label"].ToString() : null,
            Process = process,
        };
        var useCounter = UseCounter.Denominator(metric);
        var results = await Task.WhenAll(dates.Select(async date =>
        {
            var grain = grains.GetGrain<IAggregateGrain>(AggregateFamily.GrainKey(prefix, channel, version, date));
            if (useCounter is null)
            {
                return (date, main: await grain.Query(query), denominator: (AggregateResult?)null);
            }
            var main = grain.Query(query with { Label = null });
            var denom = grain.Query(query with { Metric = useCounter, Label = null });
            return (date, main: await main, denominator: (AggregateResult?)await denom);
        }));
        var snapshot = probes.Current;
        var definition = snapshot.FindAnywhere(metric, channel);
        var entries = new List<AggregateEntry>();
        MetricLayout? layout = null;
        var etag = new StringBuilder().Append(ctx.Request.QueryString.Value).Append('|').Append(snapshot.Version);
        foreach (var (date, main, denominator) in results)
        {
            etag.Append('|').Append(main.DataVersion);
            if (useCounter is not null)
            {
                var den = denominator!.Labels.FirstOrDefault();
                if (den is null)
                {
                    continue;
                }
                long used = main.Labels.Sum(l => l.Histogram.Length > 1 ? l.Histogram[1] : 0);
                entries.Add(new AggregateEntry(date, "", [Math.Max(0, den.Sum - used), used, 0], den.Count, used));
                layout ??= UseCounter.Layout;
                continue;
            }
            if (main.Layout is null)
            {
                continue;
            }
            layout ??= main.Layout;
            if (main.Layout.BucketCount != layout.BucketCount)
            {
                continue;
            }
            foreach (var l in main.Labels)
            {
                entries.Add(new AggregateEntry(date, l.Label, l.Histogram.ToArray(), l.Count, l.Sum));
            }
        }
        if (entries.Count == 0 || layout is null)
        {
            return NotFound($"no data for metric '{Clip(metric)}' on the requested dates");
        }
        string tag = "\"" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(etag.ToString())).AsSpan(0, 12)) + "\"";
        ctx.Response.Headers.ETag = tag;
        ctx.Response.Headers.CacheControl = "no-cache";
        if (IfNoneMatchHits(request.Headers.IfNoneMatch, tag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        var (buckets, kind, description) = Describe(metric, layout, definition, useCounter is not null);
        return TypedResults.Json(new AggregateResponse(buckets, kind, description, entries));
    }

    /// <summary>RFC 9110 13.1.2: weak comparison (W/ ignored), a list of tags, or "*".</summary>
    internal static bool IfNoneMatchHits(Microsoft.Extensions.Primitives.StringValues header, string tag)
    {
        foreach (var value in header)
        {
            if (value is null) continue;
            foreach (var raw in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = raw.StartsWith("W/", StringComparison.Ordinal) ? raw[2..] : raw;
                if (candidate == "*" || candidate == tag)
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static (IReadOnlyList<object> Buckets, string Kind, string Description) Describe(string metric, MetricLayout layout, HistogramDefinition? def, bool useCounter)
    {
        if (useCounter)
        {
            return ([0L, 1L, 2L], "boolean", def?.Description ?? "use counter");
        }
        var kind = (HistogramKind)layout.Kind;
        if (def is not null && def.Kind == HistogramKind.Categorical && !def.Labels.IsDefaultOrEmpty)
        {
            var names = Enumerable.Range(0, layout.BucketCount).Select(i => (object)(i < def.Labels.Length ? def.Labels[i] : i.ToString(CultureInfo.InvariantCulture))).ToList();
            return (names, "categorical", def.Description);
        }
        var bucketLayout = BucketLayout.ForKind(kind, layout.Low, layout.High, layout.BucketCount);
        string kindName = def is not null ? HistogramKinds.Name(def.Kind) : HistogramKinds.Name(kind);
        return (bucketLayout.LowerBounds.Select(b => (object)b).ToList(), kindName, def?.Description ?? DefaultDescription(metric));
    }

    private static string DefaultDescription(string metric) =>
        metric.StartsWith("SIMPLE_MEASURES_", StringComparison.Ordinal) ? "simple measurement"
        : metric.StartsWith("SCALARS_", StringComparison.Ordinal) ? "scalar"
        : "";

    private static bool MayRead(HttpRequest request, string channel, string? metric, AggregatesOptions options)
    {
        if (!options.RestrictedChannels.Contains(channel) || (metric is not null && options.PublicMetrics.Contains(metric)))
        {
            return true;
        }
        var token = AdminTokens.BearerToken(request);
        if (token is null || options.ReadTokens.Count == 0)
        {
            return false;
        }
        var hashes = options.ReadTokens.Select(t => SHA256.HashData(Encoding.UTF8.GetBytes(t))).ToArray();
        return AdminTokens.CheckToken(token, hashes) is null;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string Clip(string s) => s.Length <= 64 ? s : s[..64];

    private static IResult BadRequest(string parameter, string detail) =>
        TypedResults.Problem(statusCode: 400, title: $"bad parameter '{parameter}'", detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });

    private static IResult NotFound(string detail) => TypedResults.Problem(statusCode: 404, title: "not found", detail: detail);

    private static IResult Forbidden(string channel) =>
        TypedResults.Problem(statusCode: 403, title: "restricted channel", detail: $"channel '{Clip(channel)}' needs a read token (Authorization: Bearer)");
}

/// <summary>Use counters are answered as boolean histograms against their denominator (README, "Aggregates").</summary>
public static class UseCounter
{
    public static readonly MetricLayout Layout = new() { Kind = (int)HistogramKind.Boolean, Low = 1, High = 2, BucketCount = 3 };

    public static string? Denominator(string metric)
    {
        if (!metric.StartsWith("USE_COUNTER2_", StringComparison.Ordinal))
        {
            return null;
        }
        if (metric.EndsWith("_PAGE", StringComparison.Ordinal))
        {
            return "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED";
        }
        return metric.EndsWith("_DOCUMENT", StringComparison.Ordinal) ? "CONTENT_DOCUMENTS_DESTROYED" : null;
    }
}
