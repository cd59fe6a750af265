using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Aggregates;
using Telemetry.Contracts.Regressions;

namespace Telemetry.Grains.Regressions;

/// <summary>
/// Detection for one channel (docs/regressions.md, "Running detection"): reads per-metric totals from the
/// channel's build-date aggregates in the window, hands each series grain the parts it lacks, and runs the
/// detectors on every series when the schedule says so or an admin asks. A reminder keeps it active; a grain
/// timer does the checks, every <see cref="RegressionOptions.CheckPeriod"/>.
/// </summary>
public sealed partial class RegressionChannelGrain(
    [PersistentState("regressionChannel", StorageNames.Telemetry)] IPersistentState<RegressionChannelState> state,
    IOptions<RegressionOptions> options,
    TimeProvider time,
    ILogger<RegressionChannelGrain> logger) : Grain, IRegressionChannelGrain, IRemindable
{
    private const string KeepAliveReminder = "keep-alive";

    /// <summary>Aggregates read at once: each answer holds every metric of one build date.</summary>
    private const int ReadConcurrency = 4;

    /// <summary>Series detecting at once (they spread over the cluster's silos).</summary>
    private const int DetectConcurrency = 16;

    private readonly ChannelTotals _totals = new();

    private string Channel => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The first check waits a whole period too: a detection run right after every activation would add
        // runs the schedule does not ask for (the persisted last run and ready dates carry over restarts).
        var period = options.Value.CheckPeriod;
        this.RegisterGrainTimer(static (g, ct) => g.CheckAsync(ct), this, new GrainTimerCreationOptions
        {
            DueTime = period,
            Period = period,
            Interleave = false,
            KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    async Task IRegressionChannelGrain.Start() =>
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));

    // The reminder only brings the grain back after a restart or deactivation; the timer does the work.
    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    async Task<ImmutableArray<string>> IRegressionChannelGrain.Refresh()
    {
        await RefreshAsync();
        return _totals.Metrics();
    }

    Task<ChannelDetectionResult> IRegressionChannelGrain.Detect(ImmutableArray<string> metrics, ImmutableArray<string> detectors)
    {
        var held = _totals.Metrics().ToHashSet(StringComparer.Ordinal);
        return RunAsync([.. metrics.Where(held.Contains).Distinct(StringComparer.Ordinal)], detectors);
    }

    Task<ChannelDetectionStatus> IRegressionChannelGrain.GetStatus() => Task.FromResult(new ChannelDetectionStatus
    {
        LastRunAt = state.State.LastRunAt,
        LastRunReason = state.State.LastRunReason,
        ReadyDates = [.. state.State.ReadyDates.Order()],
        Runs = state.State.Runs,
    });

    private async Task CheckAsync(CancellationToken ct)
    {
        try
        {
            await RefreshAsync();
            var s = state.State;
            var o = options.Value;
            var window = _totals.Window.ToHashSet();
            s.ReadyDates.RemoveWhere(d => !window.Contains(d));
            var now = time.GetUtcNow();
            var decision = DetectionSchedule.Decide(now, s.LastRunAt, o.DetectionPeriod, _totals.PingsByDate(), s.ReadyDates, o.ReadyPings);
            if (!decision.Run)
            {
                return;
            }
            var result = await RunAsync(_totals.Metrics(), [.. o.Detectors]);
            s.LastRunAt = now;
            s.LastRunReason = decision.Reason;
            s.ReadyDates.UnionWith(decision.NewlyReady);
            s.Runs++;
            await state.WriteStateAsync(ct);
            LogRun(logger, Channel, decision.Reason, result.Metrics, result.Findings.Length, result.Findings.Count(f => f.New), result.Failures.Length);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogCheckFailed(logger, Channel, e);
        }
    }

    /// <summary>Reads the aggregates of the window that changed since the last read.</summary>
    private async Task RefreshAsync()
    {
        var catalog = await GrainFactory.GetGrain<ICatalogGrain>(0).GetDates(AggregateFamily.BuildId, Channel);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var (dates, aggregates) = ChannelTotals.SelectWindow(Channel, catalog, today, options.Value.BuildDates);
        using var gate = new SemaphoreSlim(ReadConcurrency);
        await Task.WhenAll(aggregates.Select(async a =>
        {
            await gate.WaitAsync();
            try
            {
                var totals = await GrainFactory.GetGrain<IAggregateGrain>(a.Key).GetMetricTotals(_totals.KnownVersion(a.Key));
                _totals.Apply(a.Key, a.Date, totals);
            }
            finally
            {
                gate.Release();
            }
        }));
        _totals.Retain(dates, aggregates.Select(a => a.Key));
    }

    private async Task<ChannelDetectionResult> RunAsync(ImmutableArray<string> metrics, ImmutableArray<string> detectors)
    {
        var findings = new List<DetectedRegression>();
        var failures = new List<MetricFailure>();
        using var gate = new SemaphoreSlim(DetectConcurrency);
        await Task.WhenAll(metrics.Select(async m =>
        {
            await gate.WaitAsync();
            try
            {
                // Grain turns do not overlap, so the continuations below may touch _totals and the lists.
                findings.AddRange(await DetectSeriesAsync(m, detectors));
            }
            catch (Exception e)
            {
                LogSeriesFailed(logger, Channel, m, e);
                failures.Add(new MetricFailure { Metric = m, Error = e.Message });
            }
            finally
            {
                gate.Release();
            }
        }));
        return new ChannelDetectionResult
        {
            Findings = [.. findings.OrderBy(f => f.Metric, StringComparer.Ordinal).ThenBy(f => f.BuildDate).ThenBy(f => f.Detector, StringComparer.Ordinal)],
            Metrics = metrics.Length,
            BuildDates = _totals.Window,
            Failures = [.. failures.OrderBy(f => f.Metric, StringComparer.Ordinal)],
        };
    }

    private async Task<ImmutableArray<DetectedRegression>> DetectSeriesAsync(string metric, ImmutableArray<string> detectors)
    {
        var series = GrainFactory.GetGrain<IRegressionSeriesGrain>(RegressionKeys.Series(Channel, metric));
        var request = _totals.RequestFor(metric, detectors);
        var result = await series.Detect(request);
        if (!result.Missing.IsEmpty)
        {
            // The series lost parts it was sent before (it restarted without writing them): send those again.
            result = await series.Detect(request with { Parts = _totals.PartsFor(metric, result.Missing) });
            if (!result.Missing.IsEmpty)
            {
                throw new InvalidOperationException($"series {metric} still lacks {result.Missing.Length} aggregates after they were sent");
            }
        }
        _totals.Sent(metric, request.Manifest);
        return result.Findings;
    }
}
