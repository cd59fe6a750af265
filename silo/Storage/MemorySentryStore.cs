using Orleans.Serialization;
using Telemetry.Grains.Sentry;

namespace Telemetry.Silo.Storage;

/// <summary>
/// Sentry issues and dead letters in memory (the embedded mode; docs/sentry.md). Kept serialized, as the
/// PostgreSQL store keeps them, so a caller never shares objects with the store.
/// </summary>
public sealed class MemorySentryStore(Serializer serializer) : ISentryStore
{
    private const int KeptDeadLetters = 10_000;

    private sealed class Entry
    {
        public required byte[] Header;
        public required string Message;
        public required string State;
        public DateTimeOffset? SnoozedUntil;
        public DateTimeOffset FirstSeen;
        public DateTimeOffset LastSeen;
        public long Marker;
        public readonly SortedDictionary<DateOnly, (long Events, long Users, byte[] Counters)> Days = [];
    }

    private readonly object _gate = new();
    private readonly Dictionary<(string, string), Entry> _issues = [];
    private readonly LinkedList<SentryDeadLetter> _deadLetters = new();
    private readonly SortedDictionary<string, long> _deadLetterCounts = new(StringComparer.Ordinal);
    private long _marker;
    private long _deadLetterId;

    public Task<StoredSentryIssue?> LoadAsync(string project, string fingerprint, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_issues.TryGetValue((project, fingerprint), out var e))
            {
                return Task.FromResult<StoredSentryIssue?>(null);
            }
            return Task.FromResult<StoredSentryIssue?>(new StoredSentryIssue(
                serializer.Deserialize<SentryIssueHeader>(e.Header)!,
                e.Days.Values.Select(d => serializer.Deserialize<SentryIssueDay>(d.Counters)!).ToList()));
        }
    }

    public Task SaveAsync(SentryIssueHeader header, IReadOnlyList<SentryIssueDay> days, IReadOnlyList<DateOnly> droppedDays, CancellationToken ct)
    {
        var bytes = serializer.SerializeToArray(header);
        var dayBytes = days.Select(d => (d.Date, d.Events.Count, d.Users.Count, serializer.SerializeToArray(d))).ToList();
        lock (_gate)
        {
            if (!_issues.TryGetValue((header.Project, header.Fingerprint), out var e))
            {
                e = new Entry { Header = bytes, Message = header.Message, State = header.State };
                _issues[(header.Project, header.Fingerprint)] = e;
            }
            e.Header = bytes;
            e.Message = header.Message;
            e.State = header.State;
            e.SnoozedUntil = header.SnoozedUntil;
            e.FirstSeen = header.FirstSeen;
            e.LastSeen = header.LastSeen;
            e.Marker = ++_marker;
            foreach (var (date, events, users, counters) in dayBytes)
            {
                e.Days[date] = (events, users, counters);
            }
            foreach (var d in droppedDays)
            {
                e.Days.Remove(d);
            }
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<SentryIssueRow>> ListAsync(string? project, DateOnly from, DateOnly to, string sort, int limit, CancellationToken ct)
    {
        List<SentryIssueRow> rows;
        lock (_gate)
        {
            rows = _issues
                .Where(kv => project is null || kv.Key.Item1 == project)
                .Select(kv =>
                {
                    var inRange = kv.Value.Days.Where(d => d.Key >= from && d.Key <= to).Select(d => d.Value).ToList();
                    var e = kv.Value;
                    return new SentryIssueRow(kv.Key.Item1, kv.Key.Item2, e.Message, inRange.Sum(d => d.Events), inRange.Sum(d => d.Users),
                        e.FirstSeen, e.LastSeen, e.State, e.SnoozedUntil);
                })
                .Where(r => r.Events > 0)
                .ToList();
        }
        IOrderedEnumerable<SentryIssueRow> ordered = sort switch
        {
            SentrySorts.Users => rows.OrderByDescending(r => r.UsersSum).ThenByDescending(r => r.LastSeen),
            SentrySorts.LastSeen => rows.OrderByDescending(r => r.LastSeen).ThenByDescending(r => r.Events),
            _ => rows.OrderByDescending(r => r.Events).ThenByDescending(r => r.LastSeen),
        };
        return Task.FromResult<IReadOnlyList<SentryIssueRow>>(ordered
            .ThenBy(r => r.Fingerprint, StringComparer.Ordinal).ThenBy(r => r.Project, StringComparer.Ordinal).Take(limit).ToList());
    }

    public Task<long> StableMarkerAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult(_marker);
        }
    }

    public Task<IReadOnlyList<SentryChange>> ChangedAsync(long after, long upTo, int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<SentryChange>>(_issues
                .Where(kv => kv.Value.Marker > after && kv.Value.Marker <= upTo)
                .OrderBy(kv => kv.Value.Marker)
                .Select(kv => new SentryChange(kv.Key.Item1, kv.Key.Item2, kv.Value.Marker))
                .Take(limit)
                .ToList());
        }
    }

    public Task<long> AddDeadLetterAsync(string source, string reason, string body, DateTimeOffset at, CancellationToken ct)
    {
        lock (_gate)
        {
            long id = ++_deadLetterId;
            _deadLetters.AddFirst(new SentryDeadLetter(id, at, source, reason, body));
            if (_deadLetters.Count > KeptDeadLetters)
            {
                _deadLetters.RemoveLast();
            }
            _deadLetterCounts[reason] = _deadLetterCounts.GetValueOrDefault(reason) + 1;
            return Task.FromResult(id);
        }
    }

    public Task<IReadOnlyList<SentryDeadLetter>> ListDeadLettersAsync(int limit, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<SentryDeadLetter>>(_deadLetters.Take(limit).ToList());
        }
    }

    public Task<IReadOnlyDictionary<string, long>> DeadLetterCountsAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyDictionary<string, long>>(new SortedDictionary<string, long>(_deadLetterCounts, StringComparer.Ordinal));
        }
    }
}
