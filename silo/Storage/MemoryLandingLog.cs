using Telemetry.Grains.Ingest;

namespace Telemetry.Silo.Storage;

/// <summary>
/// The landing log of the embedded mode: in process memory, lost at exit. Bodies are kept up to
/// a byte budget so reprocessing works for recent data; the oldest rows go first.
/// </summary>
public sealed class MemoryLandingLog(long maxBytes) : ILandingLog
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LandedRow> _byDocId = new(StringComparer.Ordinal);
    private readonly SortedDictionary<(int Partition, long Batch), List<LandedRow>> _byBatch = new();
    private readonly Queue<LandedRow> _order = new();
    private long _bytes;
    private long _nextBatch;

    public bool IsDurable => false;

    public Task<AppendResult> AppendAsync(IReadOnlyList<LandingEntry> entries, CancellationToken ct)
    {
        lock (_lock)
        {
            long batch = ++_nextBatch;
            var inserted = new bool[entries.Count];
            for (int i = 0; i < entries.Count; i++)
            {
                var e = entries[i];
                if (_byDocId.ContainsKey(e.DocId))
                {
                    continue;
                }
                var row = new LandedRow(batch, e.Partition, e.DocId, e.SubmissionDate, e.ReceivedAt, e.Path, e.Body.ToArray(), e.Country);
                _byDocId[e.DocId] = row;
                if (!_byBatch.TryGetValue((e.Partition, batch), out var list))
                {
                    _byBatch[(e.Partition, batch)] = list = new List<LandedRow>();
                }
                list.Add(row);
                _order.Enqueue(row);
                _bytes += row.Body.Length;
                inserted[i] = true;
            }
            while (_bytes > maxBytes && _order.TryDequeue(out var old))
            {
                Remove(old);
            }
            return Task.FromResult(new AppendResult(batch, inserted));
        }
    }

    public Task<long> GetLastBatchIdAsync(CancellationToken ct) => GetSettledHorizonAsync(ct);

    public Task<long> GetSettledHorizonAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult(_nextBatch); // appends are complete when AppendAsync returns
        }
    }

    public Task<IReadOnlyList<LandedBatch>> ListBatchesAsync(int partition, long afterBatch, int limit, CancellationToken ct)
    {
        lock (_lock)
        {
            IReadOnlyList<LandedBatch> result = _byBatch
                .Where(kv => kv.Key.Partition == partition && kv.Key.Batch > afterBatch)
                .OrderBy(kv => kv.Key.Batch)
                .Take(limit)
                .Select(kv => new LandedBatch(kv.Key.Batch, kv.Value.Min(r => r.ReceivedAt)))
                .ToList();
            return Task.FromResult(result);
        }
    }

    public Task<IReadOnlyList<LandedRow>> ReadBatchAsync(int partition, long batchId, CancellationToken ct)
    {
        lock (_lock)
        {
            IReadOnlyList<LandedRow> rows = _byBatch.TryGetValue((partition, batchId), out var list)
                ? list.OrderBy(r => r.DocId, StringComparer.Ordinal).ToList()
                : [];
            return Task.FromResult(rows);
        }
    }

    public Task<IReadOnlyList<LandedRow>> ReadForRebuildAsync(int partition, long maxBatch, DateOnly? fromDate, DateOnly? toDate,
        (long BatchId, string DocId)? after, int limit, CancellationToken ct)
    {
        lock (_lock)
        {
            IReadOnlyList<LandedRow> rows = _byBatch
                .Where(kv => kv.Key.Partition == partition && kv.Key.Batch <= maxBatch)
                .SelectMany(kv => kv.Value.OrderBy(r => r.DocId, StringComparer.Ordinal))
                .Where(r => (fromDate is null || r.SubmissionDate >= fromDate) && (toDate is null || r.SubmissionDate <= toDate))
                .Where(r => after is null || r.BatchId > after.Value.BatchId
                    || (r.BatchId == after.Value.BatchId && string.CompareOrdinal(r.DocId, after.Value.DocId) > 0))
                .Take(limit)
                .ToList();
            return Task.FromResult(rows);
        }
    }

    public Task<long> DeleteBeforeAsync(DateOnly cutoff, long maxBatchId, CancellationToken ct)
    {
        lock (_lock)
        {
            var old = _byDocId.Values.Where(r => r.SubmissionDate < cutoff && r.BatchId <= maxBatchId).ToList();
            foreach (var row in old)
            {
                Remove(row);
            }
            return Task.FromResult((long)old.Count);
        }
    }

    public Task<DateTimeOffset?> GetReceivedAtAsync(string docId, CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult(_byDocId.TryGetValue(docId, out var row) ? row.ReceivedAt : (DateTimeOffset?)null);
        }
    }

    public Task<long> CountAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            return Task.FromResult((long)_byDocId.Count);
        }
    }

    private void Remove(LandedRow row)
    {
        if (!_byDocId.Remove(row.DocId))
        {
            return;
        }
        _bytes -= row.Body.Length;
        if (_byBatch.TryGetValue((row.Partition, row.BatchId), out var list))
        {
            list.Remove(row);
            if (list.Count == 0)
            {
                _byBatch.Remove((row.Partition, row.BatchId));
            }
        }
    }
}
