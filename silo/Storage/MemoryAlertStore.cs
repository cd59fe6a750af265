using Telemetry.Grains.Alerts;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Alerts of the embedded mode: in memory, lost at exit like the rest of that mode. The mails of an alert
/// are queued in the memory outbox while the alert's lock is held, so a reader never sees one without the other.
/// </summary>
public sealed class MemoryAlertStore(IOutboxStore outbox, TimeProvider time) : IAlertStore
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<long, AlertRecord> _byId = [];
    private readonly Dictionary<string, long> _byKey = new(StringComparer.Ordinal);
    private long _nextId;

    public async Task<PublishResult> RecordAsync(AlertDraft draft, Func<AlertRecord, IReadOnlyList<OutboxMail>> mails, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var now = time.GetUtcNow();
            AlertRecord alert;
            bool created = false, reopened = false;
            if (_byKey.TryGetValue(draft.Key, out long existingId))
            {
                alert = _byId[existingId];
                if (alert.State != AlertState.Resolved)
                {
                    return new PublishResult(alert, false, false, 0);
                }
                alert = AlertLifecycle.Refire(alert, now);
                reopened = true;
            }
            else
            {
                if (draft.GroupKey is { } group
                    && _byId.Values.Where(a => a.GroupKey == group && AlertStates.IsOpen(a.State)).OrderBy(a => a.Id).FirstOrDefault() is { } open)
                {
                    return new PublishResult(open, false, false, 0);
                }
                alert = AlertRecords.New(++_nextId, draft, now);
                created = true;
            }
            int queued = 0;
            if (draft.Notify && !alert.IsSilenced(now))
            {
                var results = await outbox.EnqueueAsync(mails(alert), ct);
                queued = results.Count(r => !r.AlreadyQueued);
            }
            _byId[alert.Id] = alert;
            _byKey[alert.Key] = alert.Id;
            return new PublishResult(alert, created, reopened, queued);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<AlertActionResult?> UpdateAsync(long id, Func<AlertRecord, AlertActionResult> change, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (!_byId.TryGetValue(id, out var alert))
            {
                return null;
            }
            var result = change(alert);
            if (result.Alert is { } changed)
            {
                _byId[id] = changed;
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<AlertRecord?> GetAsync(long id, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _byId.GetValueOrDefault(id);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<AlertRecord?> GetByKeyAsync(string key, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _byKey.TryGetValue(key, out long id) ? _byId[id] : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<AlertRecord>> ListAsync(AlertQuery q, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return _byId.Values.Where(a => AlertRecords.Matches(a, q))
                .OrderByDescending(a => a.Target.OccurredOn ?? DateOnly.MinValue).ThenByDescending(a => a.Id)
                .Take(q.Limit)
                .ToList();
        }
        finally
        {
            _gate.Release();
        }
    }
}
