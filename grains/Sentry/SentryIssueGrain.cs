using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Telemetry.Contracts.Sentry;

namespace Telemetry.Grains.Sentry;

/// <summary>
/// One Sentry issue (docs/sentry.md, "Issues"). The grain loads the issue from <see cref="ISentryStore"/> on
/// activation and saves what changed before answering, so a caller that got an answer may delete the message
/// it came from. Calls are not interleaved: one batch of events at a time.
/// </summary>
public sealed class SentryIssueGrain(ISentryStore store, IOptions<SentryOptions> options, TimeProvider clock) : Grain, ISentryIssueGrain
{
    private SentryIssue _issue = null!;

    private bool _stale = true;

    public override Task OnActivateAsync(CancellationToken ct) => LoadAsync(ct);

    /// <summary>(Re)reads the issue from the store: at activation, and after a failed save left memory ahead of it.</summary>
    private async Task LoadAsync(CancellationToken ct)
    {
        var (project, fingerprint) = SentryIssueKey.Parse(this.GetPrimaryKeyString());
        var o = options.Value;
        _issue = SentryIssue.FromStored(await store.LoadAsync(project, fingerprint, ct), project, fingerprint, o.ExactDistinctLimit, o.RetentionDays);
        _stale = false;
    }

    private Task EnsureLoadedAsync() => _stale ? LoadAsync(CancellationToken.None) : Task.CompletedTask;

    public async Task<ImmutableArray<bool>> Record(ImmutableArray<SentryEvent> events)
    {
        await EnsureLoadedAsync();
        var (project, fingerprint) = (_issue.Header.Project, _issue.Header.Fingerprint);
        var now = clock.GetUtcNow();
        var recorded = ImmutableArray.CreateBuilder<bool>(events.Length);
        foreach (var e in events)
        {
            if (e.Project != project || e.Fingerprint != fingerprint)
            {
                throw new ArgumentException($"event {e.EventId} belongs to issue {e.Project}/{e.Fingerprint}, not {project}/{fingerprint}");
            }
            recorded.Add(_issue.Record(e, now));
        }
        if (recorded.Contains(true))
        {
            await SaveAsync();
        }
        return recorded.MoveToImmutable();
    }

    public async Task<SentryIssueView?> Get(int days)
    {
        await EnsureLoadedAsync();
        return _issue.Exists ? _issue.View(days, clock.GetUtcNow()) : null;
    }

    public async Task<SentryActionResult> Act(SentryIssueAction action)
    {
        await EnsureLoadedAsync();
        if (!_issue.Exists)
        {
            return new SentryActionResult(null, null, NotFound: true);
        }
        var now = clock.GetUtcNow();
        if (_issue.Act(action, now) is { } error)
        {
            return new SentryActionResult(null, error, NotFound: false);
        }
        await SaveAsync();
        return new SentryActionResult(_issue.View(7, now), null, NotFound: false);
    }

    public async Task<SentryIssueFacts?> Facts(DateTimeOffset now, ImmutableArray<int> eventDays)
    {
        await EnsureLoadedAsync();
        return _issue.Exists ? _issue.Facts(now, eventDays) : null;
    }

    public async Task RecordNotices(ImmutableArray<SentryNotice> notices)
    {
        await EnsureLoadedAsync();
        if (!_issue.Exists || notices.IsEmpty)
        {
            return;
        }
        _issue.AddNotices(notices);
        await SaveAsync();
    }

    private async Task SaveAsync()
    {
        try
        {
            await store.SaveAsync(_issue.Header, _issue.DirtyDays, _issue.DroppedDays, CancellationToken.None);
            _issue.ClearDirty();
        }
        catch
        {
            // What is in memory is ahead of what is stored: the next call reads the store again, so a retried
            // batch is counted as new (its ids were not saved) rather than taken for a redelivery.
            _stale = true;
            throw;
        }
    }
}
