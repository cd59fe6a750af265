using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Crash;

/// <summary>
/// Evaluates crash-rate subscriptions against the crash aggregates and publishes an alert for each rule
/// that holds (docs/crash-alerts.md, "Evaluation"). Plain logic: the crash grains (or test rows) come in
/// through <see cref="ICrashRowSource"/>, alerts go out through <see cref="IAlertPublisher"/>, whose keys
/// make a repeated evaluation a no-op.
/// </summary>
public sealed class CrashAlertEvaluator(ICrashRowSource source, IAlertPublisher publisher, CrashAlertOptions options)
{
    /// <summary>
    /// Evaluates every subscription in <paramref name="subscriptions"/> (paused ones are the caller's to leave
    /// out) as of <paramref name="now"/>. A subscription whose evaluation fails is reported as failed and
    /// the others are still evaluated.
    /// </summary>
    public async Task<CrashAlertRun> EvaluateAsync(IReadOnlyList<Subscription> subscriptions, DateTimeOffset now, CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var reader = new CrashWindowReader(source, today);
        var fired = ImmutableArray.CreateBuilder<CrashAlertFiring>();
        var quiet = ImmutableArray.CreateBuilder<CrashAlertQuiet>();
        foreach (var subscription in subscriptions.OrderBy(s => s.Id))
        {
            ct.ThrowIfCancellationRequested();
            var rule = CrashAlertRule.From(subscription, out var problem);
            if (rule is null)
            {
                quiet.Add(new CrashAlertQuiet { SubscriptionId = subscription.Id, Reason = problem! });
                continue;
            }
            try
            {
                var (finding, why) = await FindAsync(rule, reader);
                if (finding is not { Fires: true })
                {
                    quiet.Add(new CrashAlertQuiet { SubscriptionId = rule.SubscriptionId, Rule = rule.Detector, Reason = finding?.Verdict.Reason ?? why! });
                    continue;
                }
                var result = await publisher.PublishAsync(CrashAlertDrafts.Draft(finding), ct);
                fired.Add(new CrashAlertFiring
                {
                    SubscriptionId = rule.SubscriptionId,
                    Rule = rule.Detector,
                    Channel = rule.Channel,
                    Version = finding.Version,
                    WindowEnd = finding.Window.To,
                    Rate = finding.Verdict.Rate ?? 0,
                    Reason = finding.Verdict.Reason,
                    AlertId = result.Alert.Id,
                    AlertKey = result.Alert.Key,
                    Recorded = result.Created || result.Reopened,
                    AlertState = AlertStates.Name(result.Alert.State),
                });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Reported to the caller (the grain logs every failure with its subscription); one broken
                // subscription or a storage hiccup must not keep the others from being evaluated.
                quiet.Add(new CrashAlertQuiet { SubscriptionId = rule.SubscriptionId, Rule = rule.Detector, Reason = e.GetType().Name + ": " + e.Message, Failed = true });
            }
        }
        return new CrashAlertRun
        {
            EvaluatedAt = now,
            Today = today,
            Subscriptions = subscriptions.Count,
            Fired = fired.ToImmutable(),
            Quiet = quiet.ToImmutable(),
        };
    }

    /// <summary>The last activity date any window may include: the days after it still receive their usage.</summary>
    public static DateOnly LastCompleteDay(DateOnly today, CrashAlertOptions options) => today.AddDays(-options.LagDays);

    /// <summary>Evaluates one rule; a null finding comes with the reason nothing could be compared.</summary>
    public async Task<(CrashAlertFinding? Finding, string? Why)> FindAsync(CrashAlertRule rule, CrashWindowReader reader) =>
        rule.Detector == CrashAlertRule.Absolute ? (await AbsoluteAsync(rule, reader), null) : await RelativeAsync(rule, reader);

    private async Task<CrashAlertFinding> AbsoluteAsync(CrashAlertRule rule, CrashWindowReader reader)
    {
        var end = LastCompleteDay(reader.Today, options);
        var start = end.AddDays(1 - rule.Days);
        var stats = await reader.SumAsync(rule.Channel, rule.Version, rule.Filters, start, end);
        var window = new CrashWindow(rule.Version, start, end, stats);
        return new CrashAlertFinding(rule, window, CrashRateRuleEvaluator.Absolute(rule.Rule, stats));
    }

    private async Task<(CrashAlertFinding?, string?)> RelativeAsync(CrashAlertRule rule, CrashWindowReader reader)
    {
        var lookbackStart = reader.Today.AddDays(1 - options.VersionLookbackDays);
        var versions = await reader.VersionsAsync(rule.Channel, lookbackStart);
        int newerIndex = rule.Version is null
            ? versions.Count - 1
            : IndexOf(versions, rule.Version);
        if (newerIndex < 0)
        {
            return (null, rule.Version is null
                ? $"no version seen on {rule.Channel} since {Date(lookbackStart)}"
                : $"version {rule.Version} not seen on {rule.Channel} since {Date(lookbackStart)}");
        }
        var newer = versions[newerIndex];
        // The previous version is the highest one strictly below (47 and 47.0 compare equal: neither is the other's predecessor).
        int olderIndex = newerIndex - 1;
        while (olderIndex >= 0 && versions[olderIndex].Version.CompareTo(newer.Version) == 0)
        {
            olderIndex--;
        }
        if (olderIndex < 0)
        {
            return (null, $"no version before {newer.Version.Text} seen on {rule.Channel} since {Date(lookbackStart)}");
        }
        var older = versions[olderIndex];
        foreach (var (version, firstSeen) in new[] { newer, older })
        {
            if (firstSeen <= lookbackStart)
            {
                // Seen on the oldest date looked at: it may be older, and its first days unknown.
                return (null, $"{version.Text} was already seen on {Date(lookbackStart)}, the oldest date looked at (CrashAlerts:VersionLookbackDays): its first days are unknown");
            }
        }
        var newerRelease = await reader.FirstActivityDateAsync(rule.Channel, newer.Version.Text, newer.FirstSeen);
        var olderRelease = await reader.FirstActivityDateAsync(rule.Channel, older.Version.Text, older.FirstSeen);
        if (newerRelease is not { } newRelease || olderRelease is not { } oldRelease)
        {
            return (null, $"no usage or crashes recorded for {(newerRelease is null ? newer.Version.Text : older.Version.Text)} on {rule.Channel}");
        }
        var lastDay = LastCompleteDay(reader.Today, options);
        if (newRelease > lastDay)
        {
            return (null, $"{newer.Version.Text} was first seen on {Date(newRelease)}: no complete day since");
        }
        // The same days since release for both: the newest version's days so far, at most the rule's.
        int days = Math.Min(rule.Days, lastDay.DayNumber - newRelease.DayNumber + 1);
        var newerEnd = newRelease.AddDays(days - 1);
        var olderEnd = oldRelease.AddDays(days - 1);
        var newerStats = await reader.SumAsync(rule.Channel, newer.Version.Text, rule.Filters, newRelease, newerEnd);
        var olderStats = await reader.SumAsync(rule.Channel, older.Version.Text, rule.Filters, oldRelease, olderEnd);
        var verdict = CrashRateRuleEvaluator.Relative(rule.Rule, newerStats, olderStats);
        return (new CrashAlertFinding(rule,
            new CrashWindow(newer.Version.Text, newRelease, newerEnd, newerStats, newRelease),
            verdict,
            new CrashWindow(older.Version.Text, oldRelease, olderEnd, olderStats, oldRelease)), null);
    }

    private static int IndexOf(IReadOnlyList<(Expiry.MozillaVersion Version, DateOnly FirstSeen)> versions, string text)
    {
        for (int i = 0; i < versions.Count; i++)
        {
            if (versions[i].Version.Text == text)
            {
                return i;
            }
        }
        return -1;
    }

    private static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
