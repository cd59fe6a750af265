using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The outbox of the embedded mode: in process memory, lost at exit (like every other state of that
/// mode). Same rules as the PostgreSQL store: (alert, recipient) unique, leased claims.
/// </summary>
public sealed class MemoryOutboxStore(TimeProvider time) : IOutboxStore
{
    private readonly Lock _lock = new();
    private readonly SortedDictionary<long, OutboxRow> _rows = new();
    private readonly Dictionary<(string AlertKey, string Recipient), long> _byPair = new();
    private long _nextId;

    public bool IsDurable => false;

    public async Task<EnqueueResult> EnqueueAsync(OutboxMail mail, CancellationToken ct) =>
        (await EnqueueAsync([mail], ct))[0];

    public Task<IReadOnlyList<EnqueueResult>> EnqueueAsync(IReadOnlyList<OutboxMail> mails, CancellationToken ct)
    {
        // Normalized first: a bad mail throws before any row of the call is stored (all or none).
        var normalized = mails.Select(m => m.Normalized()).ToList();
        var now = time.GetUtcNow();
        var results = new EnqueueResult[normalized.Count];
        lock (_lock)
        {
            for (int i = 0; i < normalized.Count; i++)
            {
                results[i] = EnqueueLocked(normalized[i], now);
            }
        }
        return Task.FromResult<IReadOnlyList<EnqueueResult>>(results);
    }

    private EnqueueResult EnqueueLocked(OutboxMail m, DateTimeOffset now)
    {
        if (_byPair.TryGetValue((m.AlertKey, m.Recipient), out long existing))
        {
            return new EnqueueResult(existing, AlreadyQueued: true);
        }
        long id = ++_nextId;
        _rows[id] = new OutboxRow
        {
            Id = id,
            AlertKey = m.AlertKey,
            Recipient = m.Recipient,
            Kind = m.Kind,
            Subject = m.Subject,
            TextBody = m.TextBody,
            HtmlBody = m.HtmlBody,
            UnsubscribeUrl = m.UnsubscribeUrl,
            State = m.ForDigest ? OutboxState.Folded : OutboxState.Pending,
            NextAttemptAt = now,
            CreatedAt = now,
        };
        _byPair[(m.AlertKey, m.Recipient)] = id;
        return new EnqueueResult(id, AlreadyQueued: false);
    }

    public Task<IReadOnlyList<OutboxRow>> ClaimDueAsync(string claimer, int limit, DateTimeOffset now, TimeSpan lease, CancellationToken ct)
    {
        lock (_lock)
        {
            var due = _rows.Values
                .Where(r => r.State is OutboxState.Pending or OutboxState.Sending && r.NextAttemptAt <= now)
                .OrderBy(r => r.NextAttemptAt).ThenBy(r => r.Id)
                .Take(limit)
                .ToList();
            var until = now + lease;
            var claimed = new List<OutboxRow>(due.Count);
            foreach (var r in due)
            {
                var c = r with
                {
                    State = OutboxState.Sending,
                    Attempts = r.Attempts + 1,
                    ClaimedBy = claimer,
                    ClaimedUntil = until,
                    NextAttemptAt = until,
                };
                _rows[r.Id] = c;
                claimed.Add(c);
            }
            return Task.FromResult<IReadOnlyList<OutboxRow>>(claimed);
        }
    }

    public Task<bool> CompleteAsync(string claimer, OutboxCompletion completion, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue(completion.Id, out var r) || r.State != OutboxState.Sending || r.ClaimedBy != claimer)
            {
                return Task.FromResult(false);
            }
            _rows[r.Id] = r with
            {
                State = completion.State,
                Attempts = completion.Attempts,
                NextAttemptAt = completion.NextAttemptAt,
                LastError = completion.LastError,
                SentAt = completion.SentAt,
                ClaimedBy = null,
                ClaimedUntil = null,
            };
            return Task.FromResult(true);
        }
    }

    public Task<int> ReleaseAsync(string claimer, IReadOnlyList<long> ids, DateTimeOffset now, CancellationToken ct)
    {
        int released = 0;
        lock (_lock)
        {
            foreach (long id in ids)
            {
                if (_rows.TryGetValue(id, out var r) && r.State == OutboxState.Sending && r.ClaimedBy == claimer)
                {
                    _rows[id] = r with
                    {
                        State = OutboxState.Pending,
                        Attempts = Math.Max(0, r.Attempts - 1),
                        NextAttemptAt = now,
                        ClaimedBy = null,
                        ClaimedUntil = null,
                    };
                    released++;
                }
            }
        }
        return Task.FromResult(released);
    }

    public Task<IReadOnlyDictionary<string, int>> CountSentSinceAsync(IReadOnlyCollection<string> recipients, DateTimeOffset since, CancellationToken ct)
    {
        var wanted = recipients.ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            IReadOnlyDictionary<string, int> counts = _rows.Values
                .Where(r => r.State == OutboxState.Sent && r.SentAt > since && wanted.Contains(r.Recipient) && FloodControl.Counts(r.Kind))
                .GroupBy(r => r.Recipient, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            return Task.FromResult(counts);
        }
    }

    public Task<OutboxPage> ListAsync(OutboxState? state, int limit, long? beforeId, CancellationToken ct)
    {
        lock (_lock)
        {
            var rows = _rows.Values.Reverse()
                .Where(r => (state is null || r.State == state) && (beforeId is null || r.Id < beforeId))
                .Take(limit + 1)
                .ToList();
            long? next = rows.Count > limit ? rows[limit - 1].Id : null;
            return Task.FromResult(new OutboxPage(rows.Take(limit).ToList(), next));
        }
    }

    public Task<OutboxRow?> GetAsync(long id, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult(_rows.GetValueOrDefault(id));
        }
    }

    public Task<OutboxRetryResult> RetryFailedAsync(long id, DateTimeOffset now, CancellationToken ct)
    {
        lock (_lock)
        {
            if (!_rows.TryGetValue(id, out var r))
            {
                return Task.FromResult(OutboxRetryResult.NotFound);
            }
            if (r.State != OutboxState.Failed)
            {
                return Task.FromResult(OutboxRetryResult.NotFailed);
            }
            _rows[id] = r with { State = OutboxState.Pending, Attempts = 0, NextAttemptAt = now };
            return Task.FromResult(OutboxRetryResult.Retried);
        }
    }

    public Task<IReadOnlyList<OutboxRow>> ListFoldedAsync(string recipient, int limit, CancellationToken ct)
    {
        string r = OutboxMail.NormalizeAddress(recipient);
        lock (_lock)
        {
            IReadOnlyList<OutboxRow> rows = _rows.Values.Where(x => x.State == OutboxState.Folded && x.Recipient == r).Take(limit).ToList();
            return Task.FromResult(rows);
        }
    }

    public Task<IReadOnlyList<OutboxRow>> ListForRecipientAsync(string recipient, int limit, CancellationToken ct)
    {
        string r = OutboxMail.NormalizeAddress(recipient);
        lock (_lock)
        {
            IReadOnlyList<OutboxRow> rows = _rows.Values.Reverse().Where(x => x.Recipient == r).Take(limit).ToList();
            return Task.FromResult(rows);
        }
    }

    public Task<IReadOnlyList<string>> ListFoldedRecipientsAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            IReadOnlyList<string> list = _rows.Values.Where(x => x.State == OutboxState.Folded).Select(x => x.Recipient).Distinct().Order(StringComparer.Ordinal).ToList();
            return Task.FromResult(list);
        }
    }

    public Task<DigestTaken?> TakeDigestAsync(string recipient, DateTimeOffset cutoff, Func<IReadOnlyList<OutboxRow>, OutboxMail> compose, CancellationToken ct)
    {
        string r = OutboxMail.NormalizeAddress(recipient);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            var rows = _rows.Values.Where(x => x.State == OutboxState.Folded && x.Recipient == r && x.NextAttemptAt < cutoff).ToList();
            if (rows.Count == 0)
            {
                return Task.FromResult<DigestTaken?>(null);
            }
            var mail = compose(rows).Normalized();
            var digest = EnqueueLocked(mail, now);
            foreach (var row in rows)
            {
                _rows[row.Id] = row with { State = OutboxState.Digested, SentAt = now };
            }
            return Task.FromResult<DigestTaken?>(new DigestTaken(digest.Id, rows.Select(x => x.Id).ToList()));
        }
    }

    public Task<OutboxCounts> CountAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            long pending = 0, failed = 0;
            foreach (var r in _rows.Values)
            {
                pending += r.State is OutboxState.Pending or OutboxState.Sending ? 1 : 0;
                failed += r.State == OutboxState.Failed ? 1 : 0;
            }
            return Task.FromResult(new OutboxCounts(pending, failed));
        }
    }
}
