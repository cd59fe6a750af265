using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Sentry;

[GenerateSerializer]
public sealed class SentryEvaluatorState
{
    /// <summary>Every issue change up to this marker was evaluated by a completed round.</summary>
    [Id(0)] public long Marker { get; set; }
    [Id(1)] public DateTimeOffset? LastCompletedAt { get; set; }
    [Id(2)] public TimeSpan? LastDuration { get; set; }
    [Id(3)] public long Rounds { get; set; }
    [Id(4)] public int ReminderPeriodMinutes { get; set; }
}

/// <summary>The portal's base URL, for the links in Sentry mail (the silo registers it from <c>Portal:BaseUrl</c>).</summary>
public sealed record SentryPortal(string? BaseUrl);

/// <summary>
/// The cluster's one Sentry rule evaluator (key 0; docs/sentry.md, "Evaluation rounds"): a reminder runs a
/// round every <see cref="SentryOptions.EvaluationMinutes"/>. A round reads the issues changed since the marker
/// of the last completed round, decides, publishes, records the notices on the issues, and only then moves the
/// marker: a round cut short is repeated, and the alert keys make the repeat tell nobody twice.
/// </summary>
public sealed partial class SentryEvaluatorGrain(
    [PersistentState("sentry-evaluator", StorageNames.Telemetry)] IPersistentState<SentryEvaluatorState> state,
    ISentryStore store,
    ISubscriptionStore subscriptions,
    IAlertPublisher publisher,
    SentryMetrics metrics,
    SentryPortal portal,
    TimeProvider clock,
    IOptions<SentryOptions> options,
    ILogger<SentryEvaluatorGrain> logger) : Grain, ISentryEvaluatorGrain, IRemindable
{
    public const string ReminderName = "evaluate-sentry-rules";

    async Task ISentryEvaluatorGrain.Start()
    {
        int minutes = options.Value.EvaluationMinutes;
        if (await PeriodicReminder.EnsureAsync(this, ReminderName, minutes, state.State.ReminderPeriodMinutes))
        {
            state.State.ReminderPeriodMinutes = minutes;
            await state.WriteStateAsync();
        }
    }

    Task<SentryEvaluation> ISentryEvaluatorGrain.Evaluate(bool dryRun) => RoundAsync(dryRun, advanceOnDryRun: false);

    Task<SentryEvaluatorStatus> ISentryEvaluatorGrain.Status() => Task.FromResult(new SentryEvaluatorStatus
    {
        LastCompletedAt = state.State.LastCompletedAt,
        LastDuration = state.State.LastDuration,
        Rounds = state.State.Rounds,
        ChangeMarker = state.State.Marker,
        EvaluationMinutes = options.Value.EvaluationMinutes,
    });

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName)
        {
            return;
        }
        try
        {
            // With Sentry:DryRun the scheduled rounds only log what they would send, each change once.
            await RoundAsync(options.Value.DryRun, advanceOnDryRun: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogRoundFailed(logger, e);
        }
    }

    private async Task<SentryEvaluation> RoundAsync(bool dryRun, bool advanceOnDryRun)
    {
        var started = Stopwatch.GetTimestamp();
        var now = clock.GetUtcNow();
        var evaluator = new SentryEvaluator(store, new GrainIssueAccess(GrainFactory), publisher, options.Value, portal.BaseUrl);
        SentryEvaluator.Outcome outcome;
        try
        {
            var active = await subscriptions.ListActiveAsync(AlertKinds.Sentry, CancellationToken.None);
            outcome = await evaluator.EvaluateAsync(active, state.State.Marker, now, dryRun, CancellationToken.None);
        }
        catch
        {
            metrics.Evaluated(clock.GetUtcNow(), Stopwatch.GetElapsedTime(started), ok: false);
            throw;
        }
        var duration = Stopwatch.GetElapsedTime(started);
        foreach (var alert in outcome.Alerts)
        {
            if (dryRun)
            {
                LogWouldSend(logger, alert.Rule, alert.Project, alert.Fingerprint, string.Join(", ", alert.Recipients));
            }
            else
            {
                metrics.Alerted(alert.Rule, alert.Recipients.Length);
                if (options.Value.Console)
                {
                    LogConsoleAlert(logger, SentryEvaluator.RuleTitle(alert.Rule), alert.Message, alert.Project, alert.Fingerprint, string.Join(", ", alert.Recipients));
                }
            }
        }
        if (!dryRun || advanceOnDryRun)
        {
            state.State.Marker = outcome.Marker;
            state.State.LastCompletedAt = clock.GetUtcNow();
            state.State.LastDuration = duration;
            state.State.Rounds++;
            await state.WriteStateAsync();
        }
        metrics.Evaluated(clock.GetUtcNow(), duration, ok: true);
        LogRound(logger, dryRun, outcome.IssuesExamined, outcome.Alerts.Length, duration.TotalMilliseconds);
        return new SentryEvaluation
        {
            DryRun = dryRun,
            At = now,
            IssuesExamined = outcome.IssuesExamined,
            Alerts = outcome.Alerts,
            Duration = duration,
        };
    }

    private sealed class GrainIssueAccess(IGrainFactory grains) : ISentryIssueAccess
    {
        public Task<SentryIssueFacts?> FactsAsync(string project, string fingerprint, DateTimeOffset now, ImmutableArray<int> eventDays) =>
            grains.GetGrain<ISentryIssueGrain>(SentryIssueKey.Format(project, fingerprint)).Facts(now, eventDays);

        public Task RecordNoticesAsync(string project, string fingerprint, ImmutableArray<SentryNotice> notices) =>
            grains.GetGrain<ISentryIssueGrain>(SentryIssueKey.Format(project, fingerprint)).RecordNotices(notices);
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Sentry rules (dry run: {DryRun}): {Issues} changed issues examined, {Alerts} alerts, {Milliseconds:F0} ms")]
    private static partial void LogRound(ILogger logger, bool dryRun, int issues, int alerts, double milliseconds);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Sentry dry run: would send {Rule} for {Project}/{Fingerprint} to {Recipients}")]
    private static partial void LogWouldSend(ILogger logger, string rule, string project, string fingerprint, string recipients);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "[Errors] {RuleTitle}: {Message} ({Project}/{Fingerprint}) to {Recipients} (Sentry:Console: logged, not mailed)")]
    private static partial void LogConsoleAlert(ILogger logger, string ruleTitle, string message, string project, string fingerprint, string recipients);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Sentry rule evaluation failed; the next reminder tick tries again")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
