using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// One (channel, metric) by build date (docs/regressions.md, "Feeding the series"): holds the parts its channel
/// grain read from the aggregates, runs the detectors and records each new finding as an alert. The parts
/// are a copy of what the aggregates hold and can always be sent again; what must not be lost is which
/// findings were recorded, and the alert store keeps that too.
/// </summary>
public sealed partial class RegressionSeriesGrain(
    [PersistentState("regressionSeries", StorageNames.Telemetry)] IPersistentState<RegressionSeriesState> state,
    IProbeSnapshotSource probes,
    IAlertPublisher publisher,
    IAlertReader reader,
    IOptions<RegressionOptions> options,
    ILogger<RegressionSeriesGrain> logger) : Grain, IRegressionSeriesGrain
{
    private SeriesBook? _book;
    private readonly Dictionary<string, (long Version, IReadOnlyList<RegressionFinding> Findings)> _findings = new(StringComparer.Ordinal);
    private bool _dirty;

    private SeriesBook Book => _book ??= new SeriesBook(state.State.Parts);

    async Task<SeriesDetectionResult> IRegressionSeriesGrain.Detect(SeriesDetectionRequest request)
    {
        long before = Book.Version;
        var missing = Book.Sync(request.Manifest, request.Parts);
        _dirty |= Book.Version != before;
        if (!missing.IsEmpty)
        {
            return new SeriesDetectionResult { Missing = missing, BuildDates = Book.Count };
        }
        var (channel, metric) = RegressionKeys.ParseSeries(this.GetPrimaryKeyString());
        var series = Book.Build(channel, metric);
        var probe = RegressionProbeInfo.From(probes.Current.FindAnywhere(metric, channel));
        bool notify = !options.Value.IsIgnored(metric);
        var recorder = new RegressionRecorder(publisher, reader);
        var results = ImmutableArray.CreateBuilder<DetectedRegression>();
        int recordedBefore = state.State.Recorded.Count;
        try
        {
            foreach (var name in request.Detectors)
            {
                foreach (var finding in FindingsOf(name, series))
                {
                    string key = RegressionAlerts.Key(channel, metric, finding.BuildDate, finding.Detector);
                    var (id, created) = await recorder.RecordAsync(key, () => RegressionAlerts.Draft(channel, metric, finding, probe, notify),
                        state.State.Recorded, CancellationToken.None);
                    if (created)
                    {
                        LogRecorded(logger, key, id, finding.Score);
                    }
                    results.Add(new DetectedRegression
                    {
                        AlertId = id,
                        Metric = metric,
                        BuildDate = finding.BuildDate,
                        Detector = finding.Detector,
                        Score = finding.Score,
                        Direction = finding.Direction.ToWireName(),
                        ReferenceDates = finding.ReferenceDates,
                        New = created,
                        SuspectFrom = finding.SuspectFrom,
                        SuspectTo = finding.SuspectTo,
                    });
                }
            }
        }
        finally
        {
            _dirty |= state.State.Recorded.Count != recordedBefore;
        }
        if (_dirty)
        {
            // Detection runs a few times a day: writing here keeps a restarted series from asking for every part
            // again, and its recorded keys from costing a lookup each.
            await state.WriteStateAsync();
            _dirty = false;
        }
        return new SeriesDetectionResult { Findings = results.ToImmutable(), BuildDates = series.Count };
    }

    /// <summary>Detectors are deterministic: an unchanged series keeps its findings.</summary>
    private IReadOnlyList<RegressionFinding> FindingsOf(string detector, MetricSeries series)
    {
        if (_findings.TryGetValue(detector, out var cached) && cached.Version == Book.Version)
        {
            return cached.Findings;
        }
        var findings = RegressionDetectors.Get(detector).Detect(series);
        _findings[detector] = (Book.Version, findings);
        return findings;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty)
        {
            await state.WriteStateAsync(cancellationToken);
        }
    }
}
