using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The expiry ledger of the embedded mode: in memory, like the rest of its state. A lock serialises
/// runs; the mails are queued (all or none) before the notices are recorded, so a failed enqueue
/// records nothing and the notices stay due.
/// </summary>
public sealed class MemoryExpiryLedger(IOutboxStore outbox) : IExpiryLedger, IDisposable
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly HashSet<NoticeKey> _sent = [];
    private DateOnly? _lastRun;

    public bool IsDurable => false;

    public async Task<ExpiryLedgerState> ReadAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            return new ExpiryLedgerState(_lastRun, _sent.ToHashSet());
        }
        finally
        {
            _lock.Release();
        }
    }

    public async Task<TResult> RecordAsync<TResult>(Func<ExpiryLedgerState, CancellationToken, Task<ExpiryLedgerWrite<TResult>>> plan, CancellationToken ct)
    {
        await _lock.WaitAsync(ct);
        try
        {
            var write = await plan(new ExpiryLedgerState(_lastRun, _sent.ToHashSet()), ct);
            var repeated = write.Notices.Where(n => _sent.Contains(n.Key)).Select(n => n.Key).ToList();
            if (repeated.Count > 0)
            {
                throw new InvalidOperationException($"expiry notices recorded before: {string.Join(", ", repeated)}");
            }
            if (write.Mails.Count > 0)
            {
                await outbox.EnqueueAsync(write.Mails, ct);
            }
            _sent.UnionWith(write.Notices.Select(n => n.Key));
            if (_lastRun is null || write.AsOf > _lastRun)
            {
                _lastRun = write.AsOf;
            }
            return write.Result;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();
}
