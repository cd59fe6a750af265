using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Contracts.Regressions;
using Telemetry.Grains.Alerts;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Regressions.RegressionPings;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// End to end (issue 9): a regression found by the schedule in series ingested as real pings through the submit
/// endpoint produces one alert, mailed over SMTP (maildev on loopback) to the probe's <c>alert_emails</c> and to
/// matching subscribers, and to nobody else.
/// </summary>
public sealed class RegressionMailTests
{
    private const string Fan = "fan@example.org";

    [Fact]
    public async Task A_regression_in_ingested_pings_is_mailed_once_to_the_owners_and_matching_subscribers_and_nobody_else()
    {
        await using var smtp = await MaildevServer.StartAsync();
        await using var silo = await SiloHost.StartAsync(null,
        [
            .. smtp.SiloArgs,
            "--Notifications:Mode=smtp",
            "--Notifications:PollInterval=00:00:00.100",
            "--Portal:BaseUrl=https://portal.test",
            "--Regressions:Detectors:0=default",
            "--Regressions:CheckPeriod=00:00:01",
            $"--Regressions:ReadyPings={PingsPerDate}",
            $"--Regressions:IgnoredMetrics:0={Ignored}",
        ]);
        await InstallProbesAsync(silo);
        var subscriptions = silo.Services.GetRequiredService<ISubscriptionStore>();
        async Task SubscribeAsync(string email, string channel, string metric, double minScore) =>
            await subscriptions.CreateAsync(email, new SubscriptionInput(AlertKinds.Regression,
                new SubscriptionParams { Regression = new RegressionParams(channel, metric, minScore) }, Delivery.Immediate, 0, false), default);
        await SubscribeAsync(Fan, "nightly", "REGRESSION_*", 0.5);           // matches the shifted metric (and the ignored one)
        await SubscribeAsync("beta-fan@example.org", "beta", "REGRESSION_*", 0); // another channel
        await SubscribeAsync("picky@example.org", "nightly", "REGRESSION_*", 0.9); // the score (0.75) is below their minimum
        await SubscribeAsync("gc-fan@example.org", "nightly", "GC_*", 0);      // another metric

        // Build dates arrive one after the other, as nightlies do; nobody asks for detection.
        await SubmitAllAsync(silo);

        var mails = await smtp.WaitForMailsAsync(2, TimeSpan.FromSeconds(90));
        await WaitUntilAggregatedAsync(silo);
        // A few more checks run on the complete data: they must not mail anything again.
        await Task.Delay(TimeSpan.FromSeconds(4));
        mails = await smtp.GetMailsAsync();

        Assert.Equal([Fan, ShiftedOwner], mails.SelectMany(m => m.To).Order(StringComparer.Ordinal));
        var alerts = await silo.Services.GetRequiredService<IAlertReader>().ListAsync(new AlertQuery(Kind: AlertKinds.Regression), default);
        var alert = Assert.Single(alerts, a => a.Notify);
        Assert.Equal((Shifted, "default", DateAt(ShiftIndex)), (alert.Target.Subject, alert.Target.Detector, alert.Target.OccurredOn));
        Assert.All(mails, m => Assert.Contains(Shifted, m.Subject, StringComparison.Ordinal));
        Assert.All(mails, m => Assert.Contains($"https://portal.test/alerts/{alert.Id}", m.Text, StringComparison.Ordinal));
        // The ignored metric's regression is recorded and listed, never mailed.
        var ignored = Assert.Single(alerts, a => !a.Notify);
        Assert.Equal(Ignored, ignored.Target.Subject);
        Assert.Equal(2, alerts.Count);

        // The schedule found it by itself: a build date reaching the ready threshold ran detection.
        var status = await silo.Grains.GetGrain<IRegressionChannelGrain>("nightly").GetStatus();
        Assert.StartsWith("ready:", status.LastRunReason, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, Dates).Select(DateAt), status.ReadyDates);
        using var listed = JsonDocument.Parse(await silo.Http.GetStringAsync("/api/regressions?channel=nightly"));
        Assert.Equal(2, listed.RootElement.GetProperty("regressions").GetArrayLength());
    }
}
