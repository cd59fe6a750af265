using Microsoft.Extensions.Options;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// Sends the daily digests (docs/alerts.md, "Digests"): every <c>Alerts:DigestCheckInterval</c> it looks
/// at each person with folded mail (digest subscriptions, and alerts flood control held back) and, once
/// their digest hour has come, folds everything folded before that hour into one mail. The outbox step
/// is per recipient and cluster-wide exclusive, so several silos send one digest.
/// </summary>
public sealed partial class DigestRunner(
    IOutboxStore outbox,
    ISubscriptionStore subscriptions,
    AlertMail mail,
    IOptions<AlertOptions> options,
    TimeProvider time,
    ILogger<DigestRunner> logger) : BackgroundService
{
    /// <summary>One pass: the digests due now; returns how many were queued.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        int queued = 0;
        var now = time.GetUtcNow();
        foreach (var recipient in await outbox.ListFoldedRecipientsAsync(ct))
        {
            int hour = DigestHourOf(await subscriptions.ListForAsync(recipient, ct), options.Value.DefaultDigestHour);
            var cutoff = LastOccurrence(hour, now);
            var taken = await outbox.TakeDigestAsync(recipient, cutoff, rows => mail.ComposeDigest(recipient, rows, cutoff), ct);
            if (taken is not null)
            {
                queued++;
                LogDigest(logger, recipient, taken.Rows.Count);
            }
        }
        return queued;
    }

    /// <summary>The person's digest hour: that of their most recently changed digest subscription, else the default.</summary>
    public static int DigestHourOf(IEnumerable<Subscription> subs, int defaultHour) =>
        subs.Where(s => s.Delivery == Delivery.Digest).OrderByDescending(s => s.UpdatedAt).ThenByDescending(s => s.Id).Select(s => (int?)s.DigestHour).FirstOrDefault() ?? defaultHour;

    /// <summary>The latest <paramref name="hour"/>:00 UTC at or before <paramref name="now"/>.</summary>
    public static DateTimeOffset LastOccurrence(int hour, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var today = new DateTimeOffset(utc.Year, utc.Month, utc.Day, hour, 0, 0, TimeSpan.Zero);
        return today <= utc ? today : today.AddDays(-1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database being away delays digests; the next pass tries again.
                LogFailed(logger, e);
            }
            try
            {
                await Task.Delay(options.Value.DigestCheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Digest queued for {Recipient} with {Count} alerts")]
    private static partial void LogDigest(ILogger logger, string recipient, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Digest pass failed; retrying at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception e);
}
