using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Telemetry.Contracts.Crash;
using Telemetry.Grains.Alerts;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Crash;

/// <summary>
/// Crash-rate alerts through a real (embedded) silo: crash and main pings submitted over HTTP, subscriptions
/// in the notification core, the admin trigger, the list a user reads and the mail the subscriber gets.
/// </summary>
public sealed class CrashAlertsApiTests
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    [Fact]
    public async Task A_rule_that_holds_is_one_alert_in_the_list_however_often_it_is_evaluated()
    {
        await using var silo = await SiloHost.StartAsync(null, "--Aggregates:RestrictedChannels:0=");
        var (windowsRule, channelRule) = await SubmitAndSubscribeAsync(silo);
        string activity = Activity;

        var first = await EvaluateAsync(silo);
        var fired = Assert.Single(first.GetProperty("fired").EnumerateArray());
        Assert.Equal(windowsRule.Id, fired.GetProperty("subscription_id").GetInt64());
        Assert.True(fired.GetProperty("recorded").GetBoolean());
        Assert.Contains(first.GetProperty("quiet").EnumerateArray(), q => q.GetProperty("subscription_id").GetInt64() == channelRule.Id
            && q.GetProperty("reason").GetString()!.Contains("250 crashes per 1,000 h", StringComparison.Ordinal));

        var alert = Assert.Single((await ListAsync(silo, "")).EnumerateArray());
        Assert.Equal(windowsRule.Id, alert.GetProperty("subscription_id").GetInt64());
        Assert.Equal("nightly", alert.GetProperty("channel").GetString());
        Assert.Equal(JsonValueKind.Null, alert.GetProperty("version").ValueKind);
        Assert.Equal("Windows_NT", alert.GetProperty("filters").GetProperty("os_name").GetString());
        Assert.Equal("absolute", alert.GetProperty("rule").GetString());
        Assert.Equal(activity, alert.GetProperty("window_end").GetString());
        Assert.Equal(500, alert.GetProperty("rate").GetDouble(), 9);
        Assert.Equal(4, alert.GetProperty("usage_hours").GetDouble(), 9);
        Assert.Equal(2, alert.GetProperty("crashes").GetInt64());
        Assert.Equal(300, alert.GetProperty("threshold").GetDouble());
        Assert.Equal("new", alert.GetProperty("state").GetString());
        var mail = Assert.Single(await MailsAsync(silo));
        Assert.Equal("watcher@example.org", mail.Recipient);
        Assert.Contains("500", mail.TextBody);

        // Again, as the next reminder tick would: the rule still holds, nothing new is recorded.
        var second = await EvaluateAsync(silo);
        var again = Assert.Single(second.GetProperty("fired").EnumerateArray());
        Assert.False(again.GetProperty("recorded").GetBoolean());
        Assert.Equal(alert.GetProperty("id").GetInt64(), again.GetProperty("alert_id").GetInt64());
        Assert.Single((await ListAsync(silo, "")).EnumerateArray());
        Assert.Single(await MailsAsync(silo));

        Assert.Single((await ListAsync(silo, "?channel=nightly&state=new")).EnumerateArray());
        Assert.Empty((await ListAsync(silo, "?channel=beta")).EnumerateArray());
        Assert.Empty((await ListAsync(silo, "?state=resolved")).EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync("/api/crash-alerts?state=open")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.Http.GetAsync("/api/crash-alerts?colour=red")).StatusCode);
    }

    [Fact]
    public async Task Evaluating_on_demand_needs_the_admin_token_and_the_silo_keeps_an_hourly_reminder()
    {
        await using var silo = await SiloHost.StartAsync(null);

        Assert.Equal(HttpStatusCode.Unauthorized, (await silo.Http.PostAsync("/api/crash-alerts/evaluate", null)).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/crash-alerts/evaluate");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-admin-token-at-all");
        Assert.Equal(HttpStatusCode.Forbidden, (await silo.Http.SendAsync(wrong)).StatusCode);

        var grain = silo.Grains.GetGrain<ICrashAlertGrain>(CrashAlertRun.GrainKey);
        var reminders = silo.Services.GetRequiredService<IReminderTable>();
        ReminderEntry? reminder = null;
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            reminder = (await reminders.ReadRows(grain.GetGrainId())).Reminders.SingleOrDefault();
            return reminder is not null;
        }, TimeSpan.FromSeconds(20)), "no evaluation reminder was registered at start");
        Assert.Equal(TimeSpan.FromHours(1), reminder!.Period);
    }

    private static string Activity => Today.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Yesterday on nightly: Windows 4 usage hours and 2 crashes (500 per 1,000 h), Linux 4 hours and none; one
    /// subscription on Windows and one on the channel, both above 300 per 1,000 h.
    /// </summary>
    internal static async Task<(Subscription Windows, Subscription Channel)> SubmitAndSubscribeAsync(SiloHost silo)
    {
        string activity = Activity;
        var windows = new CrashPingModel { DocType = "main", Type = "main", SubsessionLength = 3600L, OsName = "Windows_NT", DateText = activity + "T08:00:00.0+00:00" };
        var linux = windows with { OsName = "Linux", OsVersion = "6.1" };
        var crash = windows with { DocType = "crash", Type = "crash", DateText = activity };
        for (int i = 0; i < 4; i++)
        {
            await Submit(silo, "main", windows);
            await Submit(silo, "main", linux);
        }
        await Submit(silo, "crash", crash);
        await Submit(silo, "crash", crash);
        Assert.True(await TestPaths.EventuallyAsync(async () =>
        {
            var rows = JsonDocument.Parse(await silo.Http.GetStringAsync($"/api/crash-rates?channel=nightly&from={activity}&to={activity}"))
                .RootElement.GetProperty("rows");
            return rows.GetArrayLength() == 1 && rows[0].GetProperty("main_crashes").GetDouble() == 2 && rows[0].GetProperty("usage_hours").GetDouble() == 8;
        }, TimeSpan.FromSeconds(20)), "the pings never reached the crash rates");

        var store = silo.Services.GetRequiredService<ISubscriptionStore>();
        var windowsRule = await store.CreateAsync("watcher@example.org", CrashRate(threshold: 300, filters: new() { ["os_name"] = "Windows_NT" }), CancellationToken.None);
        var channelRule = await store.CreateAsync("watcher@example.org", CrashRate(threshold: 300, filters: new()), CancellationToken.None); // 250 per 1,000 h
        return (windowsRule, channelRule);
    }

    internal static async Task<List<Telemetry.Grains.Notifications.OutboxRow>> MailsAsync(SiloHost silo)
    {
        var page = await silo.Services.GetRequiredService<Telemetry.Grains.Notifications.IOutboxStore>().ListAsync(null, 500, null, CancellationToken.None);
        return page.Rows.Where(r => r.Kind == AlertKinds.CrashRate).ToList();
    }

    private static SubscriptionInput CrashRate(double threshold, Dictionary<string, string> filters) =>
        new(AlertKinds.CrashRate,
            new SubscriptionParams { CrashRate = new CrashRateParams("nightly", null, filters, threshold, null, Days: 3, MinUsageHours: 3) },
            Delivery.Immediate, DigestHour: 8, Paused: false);

    private static async Task Submit(SiloHost silo, string docType, CrashPingModel ping)
    {
        var response = await silo.SubmitAsync($"{Guid.NewGuid()}/{docType}/Firefox/47.0a1/nightly/20160302030405", ping.ToJson());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    internal static async Task<JsonElement> EvaluateAsync(SiloHost silo)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/crash-alerts/evaluate");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SiloHost.AdminToken);
        var response = await silo.Http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    internal static async Task<JsonElement> ListAsync(SiloHost silo, string query)
    {
        var response = await silo.Http.GetAsync("/api/crash-alerts" + query);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("alerts");
    }
}

/// <summary>The same in PostgreSQL mode, across a restart: the alert, its mail and the reminder are durable.</summary>
[Collection("postgres")]
public sealed class CrashAlertsPostgresTests(PostgresFixture pg)
{
    [Fact]
    public async Task After_a_restart_the_rule_still_holding_records_nothing_and_mails_nobody_again()
    {
        var cs = await pg.Server.CreateDatabaseAsync();
        long alertId;
        await using (var silo = await SiloHost.StartAsync(cs, "--Aggregates:RestrictedChannels:0="))
        {
            var (windowsRule, _) = await CrashAlertsApiTests.SubmitAndSubscribeAsync(silo);
            var fired = Assert.Single((await CrashAlertsApiTests.EvaluateAsync(silo)).GetProperty("fired").EnumerateArray());
            Assert.True(fired.GetProperty("recorded").GetBoolean());
            Assert.Equal(windowsRule.Id, fired.GetProperty("subscription_id").GetInt64());
            alertId = fired.GetProperty("alert_id").GetInt64();
        }

        await using (var silo = await SiloHost.StartAsync(cs, "--Aggregates:RestrictedChannels:0="))
        {
            var again = Assert.Single((await CrashAlertsApiTests.EvaluateAsync(silo)).GetProperty("fired").EnumerateArray());
            Assert.False(again.GetProperty("recorded").GetBoolean());
            Assert.Equal(alertId, again.GetProperty("alert_id").GetInt64());
            var alert = Assert.Single((await CrashAlertsApiTests.ListAsync(silo, "")).EnumerateArray());
            Assert.Equal(500, alert.GetProperty("rate").GetDouble(), 9);
            Assert.Equal(300, alert.GetProperty("threshold").GetDouble());
            Assert.Single(await CrashAlertsApiTests.MailsAsync(silo));
            var reminders = silo.Services.GetRequiredService<IReminderTable>();
            var grain = silo.Grains.GetGrain<ICrashAlertGrain>(CrashAlertRun.GrainKey);
            Assert.Equal(TimeSpan.FromHours(1), Assert.Single((await reminders.ReadRows(grain.GetGrainId())).Reminders).Period);
        }
    }
}
