using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Telemetry.Contracts.Expiry;
using Telemetry.Grains.Alerts;

namespace Telemetry.Grains.Expiry;

/// <summary>
/// Hosts the expiry notice protocol (docs/expiry.md): builds the schedule from the registry and the
/// calendar, plans the mails (<see cref="ExpiryMailPlanner"/>) and hands notices and mails to the
/// <see cref="IExpiryLedger"/>, which records both in one step. One activation per cluster serialises
/// runs; the ledger's lock keeps the once-only promise even when two clusters share a database.
/// A daily reminder catches up every day since the last evaluated one.
/// </summary>
public sealed partial class ExpiryGrain(
    ExpiryScheduleSource schedules,
    IExpiryLedger ledger,
    ISubscriptionStore subscriptions,
    IUnsubscribeLinks links,
    ExpiryPortalLinks portal,
    TimeProvider time,
    ILogger<ExpiryGrain> logger) : Grain, IExpiryGrain, IRemindable
{
    public const string DailyReminder = "expiry-daily";

    /// <summary>The reminder fires daily at this time of day (UTC), just after the date changes.</summary>
    public static readonly TimeSpan DailyAt = TimeSpan.FromMinutes(10);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Registered (again) on every activation, always aimed at the next DailyAt, so the phase stays fixed.
        var now = time.GetUtcNow();
        var next = now.UtcDateTime.Date + DailyAt;
        if (next <= now.UtcDateTime)
        {
            next = next.AddDays(1);
        }

        await this.RegisterOrUpdateReminder(DailyReminder, next - now.UtcDateTime, TimeSpan.FromDays(1));
    }

    async Task IRemindable.ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != DailyReminder)
        {
            return;
        }

        try
        {
            await CatchUpAsync();
        }
        catch (Exception e)
        {
            // The last evaluated day did not move: tomorrow's run (or the next silo start) covers today too.
            LogCatchUpFailed(logger, e, Today());
            throw;
        }
    }

    Task<ExpiryRunReport> IExpiryGrain.Run(DateOnly asOf, bool dryRun) => RunAsync(asOf, dryRun, CancellationToken.None);

    Task<ExpiryRunReport> IExpiryGrain.CatchUp() => CatchUpAsync();

    private Task<ExpiryRunReport> CatchUpAsync() => RunAsync(Today(), dryRun: false, CancellationToken.None);

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private async Task<ExpiryRunReport> RunAsync(DateOnly asOf, bool dryRun, CancellationToken ct)
    {
        var schedule = await schedules.CurrentAsync();
        if (!dryRun && !schedule.InvalidVersions.IsEmpty)
        {
            LogInvalidVersions(logger, schedule.InvalidVersions.Length,
                string.Join("; ", schedule.InvalidVersions.Take(10).Select(v => $"{v.Name} '{v.ExpiresInVersion}': {v.Reason}")));
        }

        var active = await subscriptions.ListActiveAsync(AlertKinds.Expiry, ct);
        var planner = new ExpiryMailPlanner(new ExpiryMailComposer(schedule.Settings, schedules.CadenceDays), links, portal);

        if (dryRun)
        {
            // A preview covers the day alone (docs/expiry.md): it reports, it does not catch up.
            var state = await ledger.ReadAsync(ct);
            var run = schedule.Due(asOf, state.Sent, lastRunDate: null);
            var plan = planner.Plan(run, active, await OptedOutAsync(run, ct));
            return Report(plan, dryRun: true);
        }

        var report = await ledger.RecordAsync(async (state, token) =>
        {
            var run = schedule.Due(asOf, state.Sent, state.LastRunDate);
            var plan = planner.Plan(run, active, await OptedOutAsync(run, token));
            if (!plan.UnusableAddresses.IsEmpty)
            {
                LogUnusableAddresses(logger, string.Join(", ", plan.UnusableAddresses));
            }

            return new ExpiryLedgerWrite<(ExpiryRunReport, int)>(asOf, plan.NewNotices, plan.Outbox, (Report(plan, dryRun: false), plan.Outbox.Count));
        }, ct);

        var (result, queued) = report;
        if (queued > 0)
        {
            LogQueued(logger, result.AsOf, result.From, queued, result.Mails.Count(m => !m.AlreadySent));
        }

        return result;
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlySet<string>>> OptedOutAsync(ExpiryRun run, CancellationToken ct)
    {
        var optedOut = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var probe in run.Mails.SelectMany(m => m.Probes).DistinctBy(p => p.Name).Where(p => !p.Owners.IsEmpty))
        {
            var owners = await subscriptions.OptedOutAsync(probe.Name, probe.Owners, ct);
            if (owners.Count > 0)
            {
                optedOut[probe.Name] = owners;
            }
        }

        return optedOut;
    }

    private static ExpiryRunReport Report(ExpiryMailPlan plan, bool dryRun) => new()
    {
        AsOf = plan.Run.AsOf,
        DryRun = dryRun,
        From = plan.Run.From,
        Mails = plan.Mails.Select(m => new ExpiryReportMail
        {
            Stage = m.Stage.WireName(),
            To = m.To,
            AlreadySent = m.AlreadySent,
            Probes = m.Probes.Select(p => new ExpiryReportProbe { Name = p.Name, ExpiresInVersion = p.ExpiresInVersion, ExpiryDate = p.ExpiryDate }).ToImmutableArray(),
        }).ToImmutableArray(),
    };
}
