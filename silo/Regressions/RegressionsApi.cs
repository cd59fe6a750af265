using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Regressions;
using Telemetry.Silo.Operations;

namespace Telemetry.Silo.Regressions;

/// <summary>
/// The regressions API (docs/regressions.md, "HTTP API"): regression records are alerts of kind <c>regression</c>,
/// read through the notification core; state changes are the alerts API's actions.
/// </summary>
public static class RegressionsApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly string[] ListParameters = ["channel", "metric", "state", "detector", "from", "to"];
    private static readonly string[] DetectParameters = ["channel", "metric", "detector"];

    /// <summary>Metrics per detection call: about a second of work each (docs/regressions.md, "Cost").</summary>
    public const int DetectSlice = 100;

    /// <summary>A regression in the list (R).</summary>
    /// <param name="SuspectFrom">First build date that may hold the change's start (95 %); <paramref name="BuildDate"/> is the most likely.</param>
    /// <param name="SuspectTo">Last build date that may hold the change's start.</param>
    public sealed record RegressionItem(
        long Id, string Channel, string Metric, string BuildDate, string Detector, double Score, string Direction, string State,
        IReadOnlyList<string> ReferenceDates, IReadOnlyList<string> Owners, DateTimeOffset? SnoozedUntil, DateTimeOffset DetectedAt,
        string SuspectFrom, string SuspectTo);

    public sealed record RegressionListing(IReadOnlyList<RegressionItem> Regressions);

    /// <summary>One entry of a regression's history.</summary>
    public sealed record HistoryEntry(DateTimeOffset At, string By, string Action, string State, string? Comment, string? Bug);

    /// <summary>One regression: R plus what a person compares, and its history.</summary>
    public sealed record RegressionDetail(
        long Id, string Channel, string Metric, string BuildDate, string Detector, double Score, string Direction, string State,
        IReadOnlyList<string> ReferenceDates, IReadOnlyList<string> Owners, DateTimeOffset? SnoozedUntil, DateTimeOffset DetectedAt,
        string SuspectFrom, string SuspectTo,
        JsonElement Buckets, IReadOnlyList<double> Candidate, IReadOnlyList<double> Reference, string Description, IReadOnlyList<HistoryEntry> History);

    public sealed record FindingItem(long Id, string Metric, string BuildDate, string Detector, double Score, string Direction, IReadOnlyList<string> ReferenceDates, bool New,
        string SuspectFrom, string SuspectTo);

    public sealed record FailureItem(string Metric, string Error);

    /// <summary>The answer of a detection request; <c>failures</c> lists metrics whose detection failed (logged), normally none.</summary>
    public sealed record DetectionResponse(IReadOnlyList<FindingItem> Findings, IReadOnlyList<FailureItem> Failures);

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/regressions").WithTags("Regressions");
        group.MapGet("", List)
            .WithSummary("Regression records, newest build date first: ?channel=&metric=&state=&detector=&from=YYYYMMDD&to=YYYYMMDD (all optional)");
        group.MapGet("/{id:long}", Get)
            .WithSummary("One regression record with its bucket labels, normalised candidate and reference histograms, description and history");
        group.MapPost("/detect", Detect).RequireAdmin()
            .WithSummary("Run detection now on a watched channel (admin): ?channel=nightly[&metric=NAME][&detector=NAME]; returns every finding of the series, new = recorded by this run");
    }

    internal static async Task<Results<JsonHttpResult<RegressionListing>, ProblemHttpResult>> List(HttpRequest request, IAlertReader alerts, CancellationToken ct)
    {
        var q = request.Query;
        if (q.Keys.FirstOrDefault(k => !ListParameters.Contains(k)) is { } unknown)
        {
            return BadRequest(unknown, "unknown parameter; allowed: " + string.Join(", ", ListParameters));
        }
        AlertState? state = null;
        if (NonEmpty(q["state"]) is { } stateText)
        {
            if (!AlertStates.TryParse(stateText, out var s))
            {
                return BadRequest("state", "one of new, acknowledged, resolved, invalid, regressed");
            }
            state = s;
        }
        string? detector = NonEmpty(q["detector"]);
        if (detector is not null && !RegressionDetectors.IsKnown(detector))
        {
            return BadRequest("detector", "one of " + string.Join(", ", RegressionDetectors.Names));
        }
        if (!TryBuildDate(q["from"], out var from))
        {
            return BadRequest("from", "a build date, YYYYMMDD");
        }
        if (!TryBuildDate(q["to"], out var to))
        {
            return BadRequest("to", "a build date, YYYYMMDD");
        }
        if (from is not null && to is not null && to < from)
        {
            return BadRequest("to", "must not be before from");
        }
        var records = await alerts.ListAsync(new AlertQuery(
            Kind: AlertKinds.Regression, State: state, Channel: NonEmpty(q["channel"]), Subject: NonEmpty(q["metric"]),
            Detector: detector, From: from, To: to), ct);
        return TypedResults.Json(new RegressionListing([.. records.Select(Item)]), Json);
    }

    internal static async Task<Results<JsonHttpResult<RegressionDetail>, ProblemHttpResult>> Get(long id, IAlertReader alerts, CancellationToken ct)
    {
        var record = await alerts.GetAsync(id, ct);
        if (record is null || record.Kind != AlertKinds.Regression)
        {
            return TypedResults.Problem(statusCode: 404, title: "no such regression", detail: $"no regression has id {id}");
        }
        var r = Item(record);
        var details = RegressionDetails.Parse(record.DetailsJson);
        var history = record.History
            .Select(e => new HistoryEntry(e.At, e.By, e.Action, AlertStates.Name(e.State), e.Comment, e.Bug))
            .ToList();
        return TypedResults.Json(new RegressionDetail(
            r.Id, r.Channel, r.Metric, r.BuildDate, r.Detector, r.Score, r.Direction, r.State, r.ReferenceDates, r.Owners, r.SnoozedUntil, r.DetectedAt,
            r.SuspectFrom, r.SuspectTo,
            details?.Buckets ?? JsonSerializer.SerializeToElement(Array.Empty<long>()),
            details?.Candidate ?? [], details?.Reference ?? [], details?.Description ?? "", history), Json);
    }

    internal static async Task<Results<JsonHttpResult<DetectionResponse>, ProblemHttpResult>> Detect(
        HttpRequest request, IGrainFactory grains, IOptions<RegressionOptions> options)
    {
        var q = request.Query;
        var o = options.Value;
        if (q.Keys.FirstOrDefault(k => !DetectParameters.Contains(k)) is { } unknown)
        {
            return BadRequest(unknown, "unknown parameter; allowed: " + string.Join(", ", DetectParameters));
        }
        string? channel = NonEmpty(q["channel"]);
        if (channel is null || !o.Channels.Contains(channel, StringComparer.Ordinal))
        {
            return BadRequest("channel", "required; one of the watched channels (Regressions:Channels): " + string.Join(", ", o.Channels));
        }
        var detectors = o.Detectors.ToImmutableArray();
        if (NonEmpty(q["detector"]) is { } detector)
        {
            if (!o.Detectors.Contains(detector, StringComparer.Ordinal))
            {
                return BadRequest("detector", "one of the configured detectors (Regressions:Detectors): " + string.Join(", ", o.Detectors));
            }
            detectors = [detector];
        }
        var grain = grains.GetGrain<IRegressionChannelGrain>(channel);
        var metrics = await grain.Refresh();
        if (NonEmpty(q["metric"]) is { } metric)
        {
            metrics = metrics.Contains(metric) ? [metric] : [];
        }
        // In slices: a whole channel (thousands of metrics) takes longer than one grain call may.
        var results = new List<ChannelDetectionResult>();
        foreach (var slice in metrics.Chunk(DetectSlice))
        {
            results.Add(await grain.Detect([.. slice], detectors));
        }
        var findings = results.SelectMany(r => r.Findings).Select(f => new FindingItem(
            f.AlertId, f.Metric, MetricSeries.FormatBuildDate(f.BuildDate), f.Detector, f.Score, f.Direction,
            [.. f.ReferenceDates.Select(MetricSeries.FormatBuildDate)], f.New,
            MetricSeries.FormatBuildDate(f.SuspectFrom == default ? f.BuildDate : f.SuspectFrom),
            MetricSeries.FormatBuildDate(f.SuspectTo == default ? f.BuildDate : f.SuspectTo))).ToList();
        return TypedResults.Json(new DetectionResponse(findings, [.. results.SelectMany(r => r.Failures).Select(f => new FailureItem(f.Metric, f.Error))]), Json);
    }

    private static RegressionItem Item(AlertRecord record)
    {
        var details = RegressionDetails.Parse(record.DetailsJson);
        string buildDate = record.Target.OccurredOn is { } date ? MetricSeries.FormatBuildDate(date) : "";
        return new RegressionItem(
            record.Id,
            record.Target.Channel ?? "",
            record.Target.Subject ?? "",
            buildDate,
            record.Target.Detector ?? "",
            record.Target.Score ?? 0,
            details?.Direction ?? RegressionDirection.Changed.ToWireName(),
            AlertStates.Name(record.State),
            details?.ReferenceDates ?? [],
            record.Owners,
            record.SnoozedUntil,
            record.CreatedAt,
            details?.SuspectFrom ?? buildDate,
            details?.SuspectTo ?? buildDate);
    }

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Absent or empty: no bound (true, null); otherwise a YYYYMMDD date.</summary>
    private static bool TryBuildDate(string? text, out DateOnly? date)
    {
        date = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (text.Length == 8 && DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            date = d;
            return true;
        }
        return false;
    }

    private static ProblemHttpResult BadRequest(string parameter, string detail) =>
        TypedResults.Problem(statusCode: 400, title: $"bad parameter '{(parameter.Length > 64 ? parameter[..64] : parameter)}'", detail: detail,
            extensions: new Dictionary<string, object?> { ["parameter"] = parameter });
}
