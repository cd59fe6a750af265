using Telemetry.Grains.Alerts;

namespace Telemetry.Silo.Storage;

/// <summary>Subscriptions and owner opt-outs of the embedded mode (in memory, lost at exit).</summary>
public sealed class MemorySubscriptionStore(TimeProvider time) : ISubscriptionStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, Subscription> _rows = new();
    private readonly HashSet<(string Email, string Probe)> _optOuts = [];
    private long _nextId;

    public Task<IReadOnlyList<Subscription>> ListForAsync(string email, CancellationToken ct)
    {
        string e = Normalize(email);
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<Subscription>>(_rows.Values.Where(s => s.Email == e).ToList());
        }
    }

    public Task<Subscription?> GetAsync(string email, long id, CancellationToken ct)
    {
        string e = Normalize(email);
        lock (_lock)
        {
            return Task.FromResult(_rows.TryGetValue(id, out var s) && s.Email == e ? s : null);
        }
    }

    public Task<Subscription> CreateAsync(string email, SubscriptionInput input, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var s = new Subscription
            {
                Id = ++_nextId,
                Email = Normalize(email),
                Kind = input.Kind,
                Params = input.Params,
                Delivery = input.Delivery,
                DigestHour = input.DigestHour,
                Paused = input.Paused,
                CreatedAt = now,
                UpdatedAt = now,
            };
            _rows[s.Id] = s;
            return Task.FromResult(s);
        }
    }

    public Task<Subscription?> UpdateAsync(string email, long id, SubscriptionInput input, CancellationToken ct)
    {
        string e = Normalize(email);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_rows.TryGetValue(id, out var s) || s.Email != e)
            {
                return Task.FromResult<Subscription?>(null);
            }
            s = s with { Kind = input.Kind, Params = input.Params, Delivery = input.Delivery, DigestHour = input.DigestHour, Paused = input.Paused, UpdatedAt = now };
            _rows[id] = s;
            return Task.FromResult<Subscription?>(s);
        }
    }

    public Task<bool> DeleteAsync(string email, long id, CancellationToken ct)
    {
        string e = Normalize(email);
        lock (_lock)
        {
            return Task.FromResult(_rows.TryGetValue(id, out var s) && s.Email == e && _rows.Remove(id));
        }
    }

    public Task<IReadOnlyList<Subscription>> ListActiveAsync(string kind, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<Subscription>>(_rows.Values.Where(s => s.Kind == kind && !s.Paused).ToList());
        }
    }

    public Task<bool> PauseAsync(long id, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        lock (_lock)
        {
            if (!_rows.TryGetValue(id, out var s))
            {
                return Task.FromResult(false);
            }
            if (!s.Paused)
            {
                _rows[id] = s with { Paused = true, UpdatedAt = now };
            }
            return Task.FromResult(true);
        }
    }

    public Task OptOutAsync(string email, string probe, CancellationToken ct)
    {
        lock (_lock)
        {
            _optOuts.Add((Normalize(email), probe));
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlySet<string>> OptedOutAsync(string probe, IReadOnlyCollection<string> emails, CancellationToken ct)
    {
        lock (_lock)
        {
            IReadOnlySet<string> set = emails.Select(Normalize).Where(e => _optOuts.Contains((e, probe))).ToHashSet(StringComparer.Ordinal);
            return Task.FromResult(set);
        }
    }

    private static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
