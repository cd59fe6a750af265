using Microsoft.Extensions.Logging.Abstractions;
using Telemetry.Grains.Alerts;
using Telemetry.Silo.Alerts;
using Telemetry.Silo.Storage;

namespace Telemetry.Tests.Alerts;

/// <summary>
/// The notification core as the embedded silo runs it — memory stores and the real publisher — for the
/// unit tests of detectors, so they exercise the core's real publishing rules instead of a copy of them.
/// It also keeps every draft published and counts key lookups.
/// </summary>
internal sealed class InMemoryAlertCore : IAlertPublisher, IAlertReader
{
    public InMemoryAlertCore(TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        Outbox = new MemoryOutboxStore(time);
        Store = new MemoryAlertStore(Outbox, time);
        Subscriptions = new MemorySubscriptionStore(time);
        Publisher = new AlertPublisher(Store, Subscriptions, new AlertMail("https://portal.test", new TestLinks()), NullLogger<AlertPublisher>.Instance);
        Time = time;
    }

    public TimeProvider Time { get; }
    public MemoryOutboxStore Outbox { get; }
    public MemoryAlertStore Store { get; }
    public MemorySubscriptionStore Subscriptions { get; }
    public AlertPublisher Publisher { get; }

    /// <summary>Every draft given to <see cref="PublishAsync"/>, in order.</summary>
    public List<AlertDraft> Published { get; } = [];

    /// <summary>Calls of <see cref="GetByKeyAsync"/>.</summary>
    public int Lookups { get; private set; }

    /// <summary>Publishing an alert for this subscription throws (a core that is down for one call).</summary>
    public long? FailFor { get; init; }

    /// <summary>Every recorded alert, oldest first.</summary>
    public IReadOnlyList<AlertRecord> Alerts =>
        Store.ListAsync(new AlertQuery(Limit: int.MaxValue), default).GetAwaiter().GetResult().OrderBy(a => a.Id).ToList();

    public Task<PublishResult> PublishAsync(AlertDraft draft, CancellationToken ct)
    {
        if (FailFor is { } id && draft.Target.SubscriptionId == id)
        {
            throw new InvalidOperationException("publisher down");
        }
        Published.Add(draft);
        return Publisher.PublishAsync(draft, ct);
    }

    /// <summary>Someone resolves the alert, as through <c>POST /api/alerts/{id}/actions</c>.</summary>
    public void Resolve(long id) =>
        Assert.True(Store.UpdateAsync(id, a => AlertLifecycle.Apply(a, AlertActions.Resolve, "tester@example.org", null, null, null, Time.GetUtcNow()), default)
            .GetAwaiter().GetResult()?.Ok);

    public void Resolve(string key) => Resolve(ByKey(key).Id);

    public AlertRecord ByKey(string key) => Store.GetByKeyAsync(key, default).GetAwaiter().GetResult() ?? throw new KeyNotFoundException(key);

    public Task<AlertRecord?> GetAsync(long id, CancellationToken ct) => Store.GetAsync(id, ct);

    public Task<AlertRecord?> GetByKeyAsync(string key, CancellationToken ct)
    {
        Lookups++;
        return Store.GetByKeyAsync(key, ct);
    }

    public Task<IReadOnlyList<AlertRecord>> ListAsync(AlertQuery query, CancellationToken ct) => Store.ListAsync(query, ct);

    private sealed class TestLinks : IUnsubscribeLinks
    {
        public string ForSubscription(long subscriptionId) => $"https://silo.test/unsubscribe?token=s{subscriptionId}";
        public string ForOwner(string email, string probe) => $"https://silo.test/unsubscribe?token=o-{probe}";
    }
}
