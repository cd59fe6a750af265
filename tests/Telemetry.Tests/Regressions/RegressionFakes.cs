using Telemetry.Grains.Alerts;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// An in-test alert store for the recorder's unit tests: publishing a key records it once and counts calls;
/// publishing the key of a resolved alert reopens it, as the notification core's contract says.
/// </summary>
internal sealed class FakeAlertStore : IAlertPublisher, IAlertReader
{
    private readonly Dictionary<string, AlertRecord> _byKey = new(StringComparer.Ordinal);
    private long _nextId = 100;

    public List<AlertDraft> Published { get; } = [];

    public int Lookups { get; private set; }

    public Task<PublishResult> PublishAsync(AlertDraft draft, CancellationToken ct)
    {
        Published.Add(draft);
        if (_byKey.TryGetValue(draft.Key, out var existing))
        {
            bool reopen = existing.State == AlertState.Resolved;
            if (reopen)
            {
                existing = existing with { State = AlertState.Regressed };
                _byKey[draft.Key] = existing;
            }
            return Task.FromResult(new PublishResult(existing, false, reopen, reopen ? 1 : 0));
        }
        var now = DateTimeOffset.UnixEpoch;
        var record = new AlertRecord
        {
            Id = _nextId++,
            Kind = draft.Kind,
            Key = draft.Key,
            Title = draft.Title,
            Summary = draft.Summary,
            Target = draft.Target,
            Owners = draft.Owners,
            DetailsJson = draft.DetailsJson,
            Notify = draft.Notify,
            State = AlertState.New,
            CreatedAt = now,
            UpdatedAt = now,
        };
        _byKey[draft.Key] = record;
        return Task.FromResult(new PublishResult(record, true, false, draft.Notify ? draft.Owners.Count : 0));
    }

    public void Resolve(string key) => _byKey[key] = _byKey[key] with { State = AlertState.Resolved };

    public AlertRecord ByKey(string key) => _byKey[key];

    public Task<AlertRecord?> GetAsync(long id, CancellationToken ct) =>
        Task.FromResult(_byKey.Values.FirstOrDefault(r => r.Id == id));

    public Task<AlertRecord?> GetByKeyAsync(string key, CancellationToken ct)
    {
        Lookups++;
        return Task.FromResult(_byKey.GetValueOrDefault(key));
    }

    public Task<IReadOnlyList<AlertRecord>> ListAsync(AlertQuery query, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<AlertRecord>>([.. _byKey.Values.OrderByDescending(r => r.Target.OccurredOn).ThenByDescending(r => r.Id)]);
}
