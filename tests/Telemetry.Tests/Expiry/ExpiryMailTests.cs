using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Grains.Alerts;
using Telemetry.Tests.Infrastructure;
using Telemetry.Tests.Notifications;
using Telemetry.Tests.Probes;
using static Telemetry.Tests.Expiry.ExpiryTestKit;

namespace Telemetry.Tests.Expiry;

/// <summary>
/// Expiry runs for given dates mail the right people exactly once, through a real SMTP server
/// (maildev on loopback) and the real subscription store and unsubscribe links.
/// </summary>
public sealed class ExpiryMailTests
{
    internal static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>Time for a mail that should not come to arrive (the dispatcher polls every 100 ms).</summary>
    internal static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    internal static string[] SmtpArgs(MaildevServer smtp) =>
        [.. smtp.SiloArgs, "--Notifications:Mode=smtp", "--Notifications:PollInterval=00:00:00.100", .. SiloArgs];

    [Fact]
    public async Task Runs_for_the_notice_days_mail_owners_the_list_the_sheriff_and_subscribers_once_each()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await SiloHost.StartAsync(null, SmtpArgs(smtp));
        await PutCalendarAsync(silo);
        await UploadProbesAsync(silo, Histograms);
        var subscriptions = silo.Services.GetRequiredService<ISubscriptionStore>();
        var watcher = await subscriptions.CreateAsync("watcher@example.org",
            new SubscriptionInput(AlertKinds.Expiry, new SubscriptionParams { Expiry = new ExpiryParams("net_*", Mine: false) }, Delivery.Immediate, 0, Paused: false), default);

        // 42 days before 121's merge day: its owners and the list.
        Seq.Equal(
        [
            $"first [{ListAddress}] GC_MS,GC_SLICE_MS,NO_OWNER_FLAG new",
            $"first [{GcOwner}] GC_MS,GC_SLICE_MS new",
            $"first [{SharedOwner}] GC_MS new",
        ], Mails(await RunAsync(silo, FirstNoticeOf121)));
        await smtp.WaitForMailsAsync(3, Wait);
        await Task.Delay(Settle);
        var mails = await smtp.GetMailsAsync();
        Seq.Equal(
        [
            $"{GcOwner} | [Telemetry] First notice: 2 probes expire on 2023-09-25 (Firefox 121)",
            $"{ListAddress} | [Telemetry] First notice: 3 probes expire on 2023-09-25 (Firefox 121)",
            $"{SharedOwner} | [Telemetry] First notice: 1 probe expires on 2023-09-25 (Firefox 121)",
        ], Describe(mails));
        var toGc = mails.Single(m => m.To.Contains(GcOwner)).Text;
        Assert.Contains("  - GC_MS\n", toGc, StringComparison.Ordinal);
        Assert.Contains("  - GC_SLICE_MS\n", toGc, StringComparison.Ordinal);
        Assert.DoesNotContain("NO_OWNER_FLAG", toGc, StringComparison.Ordinal);
        Assert.Contains("  - NO_OWNER_FLAG\n", mails.Single(m => m.To.Contains(ListAddress)).Text, StringComparison.Ordinal);

        // The same day again: everything was sent; nothing new arrives.
        Seq.Equal(
        [
            $"first [{ListAddress}] GC_MS,GC_SLICE_MS,NO_OWNER_FLAG sent",
            $"first [{GcOwner}] GC_MS,GC_SLICE_MS sent",
            $"first [{SharedOwner}] GC_MS sent",
        ], Mails(await RunAsync(silo, FirstNoticeOf121)));
        await Task.Delay(Settle);
        Assert.Equal(3, (await smtp.GetMailsAsync()).Count);

        // The shared owner presses their mail program's unsubscribe button (RFC 8058 one-click POST).
        var sharedMail = mails.Single(m => m.To.Contains(SharedOwner));
        var link = OutboxSmtpTests.Headers(await smtp.GetSourceAsync(sharedMail.Id))["List-Unsubscribe"].Trim('<', '>');
        using (var unsubscribe = await silo.Http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])))
        {
            Assert.Equal(HttpStatusCode.OK, unsubscribe.StatusCode);
        }

        // 14 days before 121's merge day (and 42 before 122's): the sheriff joins the list at the final
        // notice; the opted-out owner hears nothing more; the NET_* subscriber gets NET_RTT.
        Seq.Equal(
        [
            $"first [{ListAddress}] NET_RTT new",
            $"first [{NetOwner}] NET_RTT new",
            "first [watcher@example.org] NET_RTT new",
            $"final [{ListAddress},{SheriffAddress}] GC_MS,GC_SLICE_MS,NO_OWNER_FLAG new",
            $"final [{GcOwner}] GC_MS,GC_SLICE_MS new",
        ], Mails(await RunAsync(silo, FinalNoticeOf121)));
        await smtp.WaitForMailsAsync(9, Wait);
        await Task.Delay(Settle);
        mails = await smtp.GetMailsAsync();
        Seq.Equal(
        [
            $"{GcOwner} | [Telemetry] Final notice: 2 probes expire on 2023-09-25 (Firefox 121)",
            $"{GcOwner} | [Telemetry] First notice: 2 probes expire on 2023-09-25 (Firefox 121)",
            $"{ListAddress} | [Telemetry] Final notice: 3 probes expire on 2023-09-25 (Firefox 121)",
            $"{ListAddress} | [Telemetry] First notice: 1 probe expires on 2023-10-23 (Firefox 122)",
            $"{ListAddress} | [Telemetry] First notice: 3 probes expire on 2023-09-25 (Firefox 121)",
            $"{NetOwner} | [Telemetry] First notice: 1 probe expires on 2023-10-23 (Firefox 122)",
            $"{SharedOwner} | [Telemetry] First notice: 1 probe expires on 2023-09-25 (Firefox 121)",
            $"{SheriffAddress} | [Telemetry] Final notice: 3 probes expire on 2023-09-25 (Firefox 121)",
            "watcher@example.org | [Telemetry] First notice: 1 probe expires on 2023-10-23 (Firefox 122)",
        ], Describe(mails));

        // The subscriber's mail says why it came and its one-click link pauses the subscription.
        var watcherMail = mails.Single(m => m.To.Contains("watcher@example.org"));
        Assert.Contains("your probe expiry subscription matches the probes below", watcherMail.Text, StringComparison.Ordinal);
        var pause = OutboxSmtpTests.Headers(await smtp.GetSourceAsync(watcherMail.Id))["List-Unsubscribe"].Trim('<', '>');
        Assert.Contains($"Pause your subscription {watcher.Id} (probes matching \"net_*\"): {pause}", watcherMail.Text, StringComparison.Ordinal);
        using (var paused = await silo.Http.GetAsync(pause))
        {
            Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        }
        Assert.True((await subscriptions.GetAsync("watcher@example.org", watcher.Id, default))!.Paused);
    }
}
