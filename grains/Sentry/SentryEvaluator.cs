using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Sentry;

/// <summary>Where the evaluator reads an issue's facts and records who was told (the issue grains; a fake in unit tests).</summary>
public interface ISentryIssueAccess
{
    Task<SentryIssueFacts?> FactsAsync(string project, string fingerprint, DateTimeOffset now, ImmutableArray<int> eventDays);

    Task RecordNoticesAsync(string project, string fingerprint, ImmutableArray<SentryNotice> notices);
}

/// <summary>One notification the rules decided: a rule about an issue, for one person (through one subscription).</summary>
public sealed record SentryDecision(string Rule, SentryIssueFacts Issue, string Email, long SubscriptionId, int Sequence);

/// <summary>
/// One evaluation round of the Sentry rules (docs/sentry.md, "Rules" and "Evaluation rounds"): the issues
/// changed since the last completed round, against every active <c>sentry</c> subscription that covers their
/// project, each with its own rules and thresholds. Each (rule, issue, recipient) is told once, except
/// <c>spike</c> and <c>regressed</c>, which may tell again after <see cref="SentryOptions.RenotifyHours"/>.
/// Muted and snoozed issues tell no one. A dry run decides and returns, recording nothing.
/// </summary>
public sealed class SentryEvaluator(ISentryStore store, ISentryIssueAccess issues, IAlertPublisher publisher, SentryOptions options, string? portalBaseUrl)
{
    public sealed record Outcome(ImmutableArray<SentryFiredAlert> Alerts, int IssuesExamined, long Marker, IReadOnlyList<SentryDecision> Decisions);

    /// <summary>Changed issues one round takes at most; a longer backlog continues in the next round.</summary>
    public const int MaxIssuesPerRound = 20_000;

    /// <summary>Issue grains asked for their facts at once.</summary>
    public const int FactsConcurrency = 32;

    public async Task<Outcome> EvaluateAsync(IReadOnlyList<Subscription> subscriptions, long afterMarker, DateTimeOffset now, bool dryRun, CancellationToken ct)
    {
        long upTo = await store.StableMarkerAsync(ct);
        var changes = await store.ChangedAsync(afterMarker, upTo, MaxIssuesPerRound, ct);
        if (changes.Count == MaxIssuesPerRound)
        {
            upTo = changes[^1].Marker;
        }
        var ruleSets = subscriptions.Select(SentryRuleSet.From).OfType<SentryRuleSet>().Where(r => r.Rules.Count > 0).ToList();
        if (ruleSets.Count == 0 || changes.Count == 0)
        {
            return new Outcome([], changes.Count, upTo, []);
        }
        ImmutableArray<int> eventDays = [.. ruleSets.Select(r => r.Thresholds.TopDays).Append(7).Distinct()];
        var today = SentryIssue.Today(now);
        var rankings = new Dictionary<(string Project, int Days, int N), IReadOnlyList<IssueCount>>();
        var decisions = new List<SentryDecision>();
        var covered = changes
            .Select(change => (Change: change, Covering: ruleSets.Where(r => r.Covers(change.Project)).OrderBy(r => r.SubscriptionId).ToList()))
            .Where(x => x.Covering.Count > 0)
            .ToList();
        var allFacts = new SentryIssueFacts?[covered.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, covered.Count), new ParallelOptions { MaxDegreeOfParallelism = FactsConcurrency, CancellationToken = ct },
            async (i, _) => allFacts[i] = await issues.FactsAsync(covered[i].Change.Project, covered[i].Change.Fingerprint, now, eventDays));
        for (int i = 0; i < covered.Count; i++)
        {
            var (change, covering) = covered[i];
            var facts = allFacts[i];
            if (facts is null || facts.State is SentryIssueStates.Muted or SentryIssueStates.Snoozed)
            {
                continue;
            }
            var told = new HashSet<(string Rule, string Email)>();
            foreach (var set in covering)
            {
                foreach (var rule in SentryRuleNames.All.Where(set.Rules.Contains))
                {
                    if (told.Contains((rule, set.Email)))
                    {
                        continue;
                    }
                    var notice = facts.Notices.FirstOrDefault(n => n.Rule == rule && n.Email == set.Email);
                    bool fires = rule switch
                    {
                        SentryRuleNames.NewIssue => notice is null && facts.RecordedAt >= set.CreatedAt,
                        SentryRuleNames.TopIssue => notice is null && SentryRules.IsTopIssue(
                            await RankingAsync(rankings, change.Project, set.Thresholds, today, ct), facts.Fingerprint, set.Thresholds),
                        SentryRuleNames.Spike => MayTellAgain(notice, now)
                            && SentryRules.IsSpike(facts.LastHourEvents, facts.WeekBeforeEvents, set.Thresholds),
                        SentryRuleNames.Regressed => facts.State == SentryIssueStates.Regressed && facts.RegressedAt is { } at
                            && (notice is null || (notice.LastAt < at && MayTellAgain(notice, now))),
                        _ => false,
                    };
                    if (fires)
                    {
                        told.Add((rule, set.Email));
                        decisions.Add(new SentryDecision(rule, facts, set.Email, set.SubscriptionId, notice?.Count ?? 0));
                    }
                }
            }
        }
        var fired = decisions
            .GroupBy(d => (d.Rule, d.Issue.Project, d.Issue.Fingerprint))
            .Select(g => new SentryFiredAlert
            {
                Rule = g.Key.Rule,
                Project = g.Key.Project,
                Fingerprint = g.Key.Fingerprint,
                Message = g.First().Issue.Message,
                Events = g.First().Issue.Events7Days,
                Recipients = [.. g.Select(d => d.Email).Order(StringComparer.Ordinal)],
            })
            .ToImmutableArray();
        if (!dryRun)
        {
            foreach (var d in decisions)
            {
                await publisher.PublishAsync(Draft(d, today, notify: !options.Console), ct);
            }
            foreach (var byIssue in fired.GroupBy(f => (f.Project, f.Fingerprint)))
            {
                await issues.RecordNoticesAsync(byIssue.Key.Project, byIssue.Key.Fingerprint, [.. byIssue.Select(f => new SentryNotice(f.Rule, now, f.Recipients))]);
            }
        }
        return new Outcome(fired, covered.Count, upTo, decisions);
    }

    private bool MayTellAgain(SentryNoticeCount? notice, DateTimeOffset now) =>
        notice is null || notice.LastAt.AddHours(options.RenotifyHours) <= now;

    private async Task<IReadOnlyList<IssueCount>> RankingAsync(
        Dictionary<(string, int, int), IReadOnlyList<IssueCount>> cache, string project, SentryThresholds t, DateOnly today, CancellationToken ct)
    {
        if (!cache.TryGetValue((project, t.TopDays, t.TopN), out var ranked))
        {
            var rows = await store.ListAsync(project, today.AddDays(1 - t.TopDays), today, SentrySorts.Events, t.TopN, ct);
            ranked = SentryRules.Rank(rows.Select(r => new IssueCount(r.Project, r.Fingerprint, r.Events, r.LastSeen)));
            cache[(project, t.TopDays, t.TopN)] = ranked;
        }
        return ranked;
    }

    public static string RuleTitle(string rule) => rule switch
    {
        SentryRuleNames.NewIssue => "New issue",
        SentryRuleNames.TopIssue => "Top issue",
        SentryRuleNames.Spike => "Spike",
        SentryRuleNames.Regressed => "Regressed issue",
        _ => rule,
    };

    /// <summary>The alert of one decision: keyed by rule, issue and recipient (and the n-th time, for rules that may tell again).</summary>
    public AlertDraft Draft(SentryDecision d, DateOnly today, bool notify)
    {
        var f = d.Issue;
        string issueHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(f.Project + "\n" + f.Fingerprint)))[..20];
        string key = string.Create(CultureInfo.InvariantCulture, $"sentry:{d.Rule}:{issueHash}:{d.Email}")
            + (SentryRuleNames.MayRenotify(d.Rule) ? string.Create(CultureInfo.InvariantCulture, $":{d.Sequence + 1}") : "");
        string details = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["project"] = f.Project,
            ["fingerprint"] = f.Fingerprint,
            ["rule"] = d.Rule,
            ["group_id"] = f.GroupId,
            ["events_today"] = f.EventsToday,
            ["events_7d"] = f.Events7Days,
            ["users_today"] = f.UsersToday,
            ["users_7d"] = f.Users7Days,
            ["last_hour_events"] = f.LastHourEvents,
            ["first_seen"] = f.FirstSeen,
            ["last_seen"] = f.LastSeen,
        });
        return new AlertDraft(
            AlertKinds.Sentry,
            key,
            $"[Errors] {RuleTitle(d.Rule)}: {OneLine(f.Message)}",
            Body(d.Rule, f),
            new AlertTarget(Subject: f.Project, Detector: d.Rule, OccurredOn: today, SubscriptionId: d.SubscriptionId),
            [],
            details,
            notify);
    }

    /// <summary>The mail body: the rule, the message, the stack innermost first, counts, first/last seen, the portal and Sentry links.</summary>
    public string Body(string rule, SentryIssueFacts f)
    {
        var b = new StringBuilder();
        b.Append("Rule: ").Append(RuleTitle(rule)).Append(" (").Append(rule).Append(")\n");
        b.Append("Message: ").Append(f.Message).Append('\n');
        b.Append("Project: ").Append(f.Project).Append("; fingerprint: ").Append(f.Fingerprint).Append("\n\n");
        if (f.Frames.Length > 0)
        {
            b.Append("Stack (innermost first):\n");
            foreach (var frame in f.Frames.Reverse())
            {
                b.Append("    at ").Append(frame.Function ?? "?").Append('(').Append(frame.Module ?? "?")
                    .Append(':').Append(frame.LineNo?.ToString(CultureInfo.InvariantCulture) ?? "?")
                    .Append(':').Append(frame.ColNo?.ToString(CultureInfo.InvariantCulture) ?? "?").Append(")\n");
            }
            b.Append('\n');
        }
        b.Append(CultureInfo.InvariantCulture, $"Events: {f.EventsToday} today, {f.Events7Days} in the last 7 days ({f.LastHourEvents} in the last hour)\n");
        b.Append(CultureInfo.InvariantCulture, $"Users: {f.UsersToday} today, {f.Users7Days} in the last 7 days\n");
        b.Append("First seen: ").Append(f.FirstSeen.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n');
        b.Append("Last seen: ").Append(f.LastSeen.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n');
        if (PortalLink(f.Project, f.Fingerprint) is { } portal)
        {
            b.Append("Portal: ").Append(portal).Append('\n');
        }
        if (SentryLink(f.GroupId) is { } sentry)
        {
            b.Append("Sentry: ").Append(sentry).Append('\n');
        }
        return b.ToString();
    }

    public string? PortalLink(string project, string fingerprint) =>
        string.IsNullOrWhiteSpace(portalBaseUrl) ? null
            : $"{portalBaseUrl.TrimEnd('/')}/errors/{Uri.EscapeDataString(project)}/{Uri.EscapeDataString(fingerprint)}";

    public string? SentryLink(string? groupId) =>
        string.IsNullOrWhiteSpace(options.IssueUrlTemplate) || string.IsNullOrEmpty(groupId) ? null
            : options.IssueUrlTemplate.Replace("{groupId}", Uri.EscapeDataString(groupId), StringComparison.Ordinal);

    private static string OneLine(string text)
    {
        string line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 150 ? line : line[..149] + "…";
    }
}
