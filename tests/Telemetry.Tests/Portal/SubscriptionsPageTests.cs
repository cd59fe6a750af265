using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Telemetry.Portal.Components.Pages.Subscriptions;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class SubscriptionsPageTests : PortalPageTestKit
{
    private readonly FakeSubscriptionsSource _source = new();

    public SubscriptionsPageTests()
    {
        Services.AddSingleton<ISubscriptionsSource>(_source);
        SignIn();
    }

    private static JsonObject Params(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void Lists_my_subscriptions_in_words_and_what_I_was_sent_with_links_to_the_alerts()
    {
        _source.Add("regression", Params("""{"channel":"nightly","metric":"GC_*","min_score":2}"""));
        _source.Add("sentry", Params("""{"project":"*","rules":["new-issue","spike"]}"""), delivery: "digest", hour: 18, paused: true);
        _source.Sent = [
            new SentMessage(9, "[Errors] New issue: TypeError", "sentry", "sent", Now.AddHours(-1), Now.AddMinutes(-59), 42),
            new SentMessage(8, "Telemetry digest: 2 alerts (2026-11-20)", "digest", "pending", Now.AddHours(-2), null, null),
        ];

        var page = Render<SubscriptionsPage>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=subscription]").Count), Wait);
        Assert.Equal(["Regressions of GC_* on nightly with score ≥ 2", "Errors in every project: new-issue, spike"],
            page.FindAll("[data-testid=subscription-description]").Select(d => d.TextContent.Trim()));
        Assert.Equal(["Immediately", "Daily digest at 18:00 UTC"], page.FindAll("[data-testid=subscription-delivery]").Select(d => d.TextContent.Trim()));
        Assert.Equal(["active", "paused"], page.FindAll("[data-testid=subscription-state]").Select(d => d.TextContent.Trim()));
        Assert.Equal(["Pause", "Resume"], page.FindAll("[data-testid=pause-toggle]").Select(d => d.TextContent.Trim()));

        var link = page.Find("[data-testid=sent-link]");
        Assert.Equal(("/alerts/42", "[Errors] New issue: TypeError"), (link.GetAttribute("href"), link.TextContent.Trim()));
        Assert.Equal(["sent", "pending"], page.FindAll("[data-testid=sent-state]").Select(d => d.TextContent.Trim()));
        Assert.Contains("Telemetry digest", page.FindAll("[data-testid=sent-message]")[1].TextContent, StringComparison.Ordinal);
        Assert.All(_source.Tokens, t => Assert.Equal(Token, t));
    }

    [Fact]
    public void Someone_without_subscriptions_or_mail_is_told_so()
    {
        var page = Render<SubscriptionsPage>();

        page.WaitForAssertion(() => Assert.Contains("No subscriptions yet", page.Find("[data-testid=subscriptions-empty]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("No mail has been queued for you yet", page.Find("[data-testid=sent-empty]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_silo_is_said_in_words()
    {
        _source.Failure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");

        var page = Render<SubscriptionsPage>();

        page.WaitForAssertion(() => Assert.Contains("Silo unreachable", page.Find("[data-testid=subscriptions-error]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Contains("cannot be reached", page.Find("[data-testid=subscriptions-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=subscription]"));
    }

    [Fact]
    public void Creating_a_sentry_subscription_sends_its_project_rules_thresholds_and_digest_hour()
    {
        var page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=subscriptions-empty]")), Wait);

        page.Find("[data-testid=new-subscription]").Click();
        var kind = page.FindComponents<MudSelect<string>>().First();
        page.InvokeAsync(() => kind.Instance.ValueChanged.InvokeAsync("sentry"));
        page.Find("[data-testid=form-project]").Change("web");
        var topIssue = page.FindComponents<MudCheckBox<bool>>().Single(c => c.Instance.Label == "top-issue");
        page.InvokeAsync(() => topIssue.Instance.ValueChanged.InvokeAsync(false));
        var spikeFloor = page.FindComponents<MudNumericField<long?>>().Single(c => c.Instance.Label!.StartsWith("spike_floor", StringComparison.Ordinal));
        page.InvokeAsync(() => spikeFloor.Instance.ValueChanged.InvokeAsync(20));
        var delivery = page.FindComponent<MudRadioGroup<string>>();
        page.InvokeAsync(() => delivery.Instance.ValueChanged.InvokeAsync("digest"));
        var hour = page.FindComponents<MudSelect<int>>().Single();
        page.InvokeAsync(() => hour.Instance.ValueChanged.InvokeAsync(18));
        page.Find("[data-testid=form-save]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=subscription]")), Wait);
        var created = Assert.Single(_source.Created);
        Assert.Equal("""{"kind":"sentry","params":{"project":"web","rules":["new-issue","spike","regressed"],"spike_floor":20},"delivery":"digest","digest_hour":18,"paused":false}""",
            created.ToJson().ToJsonString());
        Assert.Equal("Errors in web: new-issue, spike, regressed", page.Find("[data-testid=subscription-description]").TextContent.Trim());
        Assert.Contains("created", page.Find("[data-testid=subscriptions-message]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_crash_rate_subscription_with_a_relative_rise_and_filters()
    {
        var page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=subscriptions-empty]")), Wait);

        page.Find("[data-testid=new-subscription]").Click();
        page.InvokeAsync(() => page.FindComponents<MudSelect<string>>().First().Instance.ValueChanged.InvokeAsync("crash_rate"));
        page.Find("[data-testid=form-channel]").Change("release");
        page.Find("[data-testid=form-filters]").Change("os=Windows_NT, architecture=x86");
        page.InvokeAsync(() => page.FindComponent<MudSelect<bool>>().Instance.ValueChanged.InvokeAsync(true));
        // Without the percentage the form says what is missing and sends nothing.
        page.Find("[data-testid=form-save]").Click();
        Assert.Contains("relative increase", page.Find("[data-testid=form-error]").TextContent, StringComparison.Ordinal);
        Assert.Empty(_source.Created);

        var pct = page.FindComponents<MudNumericField<double?>>().Single(c => c.Instance.Label == "Increase (%)");
        page.InvokeAsync(() => pct.Instance.ValueChanged.InvokeAsync(50));
        page.Find("[data-testid=form-save]").Click();

        page.WaitForAssertion(() => Assert.Single(_source.Created), Wait);
        var p = _source.Created[0].Params;
        Assert.Equal("""{"channel":"release","version":null,"filters":{"os":"Windows_NT","architecture":"x86"},"relative_increase_pct":50,"days":3,"min_usage_hours":1000,"measure":"main"}""", p.ToJsonString());
    }

    [Fact]
    public void Pause_resume_edit_and_delete_change_only_the_chosen_subscription()
    {
        _source.Add("regression", Params("""{"channel":"nightly","metric":"GC_*","min_score":0}"""));
        _source.Add("expiry", Params("""{"mine":true}"""));

        var page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=subscription]").Count), Wait);

        page.FindAll("[data-testid=pause-toggle]")[0].Click();
        page.WaitForAssertion(() => Assert.Equal(["paused", "active"], page.FindAll("[data-testid=subscription-state]").Select(d => d.TextContent.Trim())), Wait);
        Assert.Equal((1L, true, "GC_*"), (_source.Updates[^1].Id, _source.Updates[^1].Body.Paused, _source.Updates[^1].Body.Params["metric"]!.GetValue<string>()));

        page.FindAll("[data-testid=pause-toggle]")[0].Click();
        page.WaitForAssertion(() => Assert.Equal(["active", "active"], page.FindAll("[data-testid=subscription-state]").Select(d => d.TextContent.Trim())), Wait);

        // Edit: the form opens filled in; the change is saved to the same id.
        page.FindAll("[data-testid=edit]")[0].Click();
        Assert.Equal("GC_*", page.Find("[data-testid=form-metric]").GetAttribute("value"));
        page.Find("[data-testid=form-metric]").Change("CYCLE_COLLECTOR*");
        page.Find("[data-testid=form-save]").Click();
        page.WaitForAssertion(() => Assert.Equal("Regressions of CYCLE_COLLECTOR* on nightly", page.FindAll("[data-testid=subscription-description]")[0].TextContent.Trim()), Wait);
        Assert.Equal(1L, _source.Updates[^1].Id);

        // Delete asks first.
        page.FindAll("[data-testid=delete]")[1].Click();
        Assert.Empty(_source.Deleted);
        page.Find("[data-testid=confirm-delete]").Click();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=subscription]")), Wait);
        Assert.Equal([2L], _source.Deleted);
    }

    [Fact]
    public void The_silos_reason_for_refusing_a_subscription_is_shown_in_the_form()
    {
        var page = Render<SubscriptionsPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=subscriptions-empty]")), Wait);
        _source.SaveFailure = new SiloApiException(HttpStatusCode.BadRequest, "params.metric is required: a name or glob (GC_*) of at most 200 characters");

        page.Find("[data-testid=new-subscription]").Click();
        page.Find("[data-testid=form-channel]").Change("nightly");
        page.Find("[data-testid=form-metric]").Change("[bad");
        page.Find("[data-testid=form-save]").Click();

        page.WaitForAssertion(() => Assert.Equal("Params.metric is required: a name or glob (GC_*) of at most 200 characters.", page.Find("[data-testid=form-error]").TextContent.Trim()), Wait);
        Assert.NotEmpty(page.FindAll("[data-testid=subscription-form]"));
    }
}

/// <summary>One person's subscriptions and mail kept in memory, as the silo would answer them.</summary>
internal sealed class FakeSubscriptionsSource : ISubscriptionsSource
{
    private readonly List<PersonSubscription> _subscriptions = [];
    private long _next;

    public IReadOnlyList<SentMessage> Sent { get; set; } = [];
    public Exception? Failure { get; set; }
    public Exception? SaveFailure { get; set; }
    public List<string> Tokens { get; } = [];
    public List<SubscriptionBody> Created { get; } = [];
    public List<(long Id, SubscriptionBody Body)> Updates { get; } = [];
    public List<long> Deleted { get; } = [];

    public PersonSubscription Add(string kind, JsonObject parameters, string delivery = "immediate", int hour = 8, bool paused = false)
    {
        var s = new PersonSubscription(++_next, kind, parameters, delivery, hour, paused, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        _subscriptions.Add(s);
        return s;
    }

    public Task<IReadOnlyList<PersonSubscription>> ListAsync(string bearer, CancellationToken ct)
    {
        Tokens.Add(bearer);
        return Failure is not null ? Task.FromException<IReadOnlyList<PersonSubscription>>(Failure) : Task.FromResult<IReadOnlyList<PersonSubscription>>(_subscriptions.ToList());
    }

    public Task<PersonSubscription> CreateAsync(SubscriptionBody body, string bearer, CancellationToken ct)
    {
        Tokens.Add(bearer);
        if (SaveFailure is not null)
        {
            return Task.FromException<PersonSubscription>(SaveFailure);
        }
        Created.Add(body);
        return Task.FromResult(Add(body.Kind, Roundtrip(body.Params), body.Delivery, body.DigestHour, body.Paused));
    }

    public Task<PersonSubscription> UpdateAsync(long id, SubscriptionBody body, string bearer, CancellationToken ct)
    {
        Tokens.Add(bearer);
        Updates.Add((id, body));
        int i = _subscriptions.FindIndex(s => s.Id == id);
        _subscriptions[i] = _subscriptions[i] with { Params = Roundtrip(body.Params), Delivery = body.Delivery, DigestHour = body.DigestHour, Paused = body.Paused };
        return Task.FromResult(_subscriptions[i]);
    }

    public Task DeleteAsync(long id, string bearer, CancellationToken ct)
    {
        Tokens.Add(bearer);
        Deleted.Add(id);
        _subscriptions.RemoveAll(s => s.Id == id);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SentMessage>> SentAsync(int limit, string bearer, CancellationToken ct)
    {
        Tokens.Add(bearer);
        return Failure is not null ? Task.FromException<IReadOnlyList<SentMessage>>(Failure) : Task.FromResult(Sent);
    }

    // Parameters as the silo gives them back: parsed from JSON text.
    private static JsonObject Roundtrip(JsonObject o) => JsonNode.Parse(o.ToJsonString())!.AsObject();
}
