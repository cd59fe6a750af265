using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>
/// Delivers the outbox (docs/notifications.md): every silo runs one. A round claims up to
/// <c>Notifications:BatchSize</c> due rows with a lease, folds the ones flood control holds back,
/// sends the others one at a time and records each outcome as soon as it is known (a crash then
/// resends at most the one mail in flight). Rounds follow each other at once while batches come back
/// full, else every <c>Notifications:PollInterval</c>.
/// </summary>
public sealed partial class OutboxDispatcher : BackgroundService
{
    private static readonly TimeSpan CountsInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxErrorDelay = TimeSpan.FromSeconds(30);

    private readonly IOutboxStore _store;
    private readonly IMailSender? _sender;
    private readonly NotificationOptions _options;
    private readonly SmtpOptions _smtp;
    private readonly OutboxMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RetrySchedule _schedule;
    private readonly FloodControl _flood;
    private readonly NotificationMode _mode;
    // Outcomes the store did not take (it was unreachable): recorded before anything else is claimed,
    // so that a short database outage does not make sent mail look unsent when its claim runs out.
    private readonly List<OutboxCompletion> _unrecorded = [];
    private DateTimeOffset _countsAt = DateTimeOffset.MinValue;

    /// <param name="sender">The mail sender of the mode; null when <c>Notifications:Mode=off</c> (rows are discarded).</param>
    /// <param name="claimer">This dispatcher's name in <c>claimed_by</c>; unique per dispatcher.</param>
    public OutboxDispatcher(
        IOutboxStore store,
        IMailSender? sender,
        NotificationOptions options,
        SmtpOptions smtp,
        OutboxMetrics metrics,
        TimeProvider time,
        ILogger<OutboxDispatcher> logger,
        string? claimer = null)
    {
        _store = store;
        _sender = sender;
        _options = options;
        _smtp = smtp;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _mode = options.EffectiveMode(smtp);
        if (_mode != NotificationMode.Off && sender is null)
        {
            throw new ArgumentException($"mode {_mode} needs a sender", nameof(sender));
        }
        _schedule = new RetrySchedule(smtp.RetryBase, smtp.RetryMax, smtp.MaxAttempts);
        _flood = new FloodControl(options.MaxPerRecipientPerHour);
        Claimer = claimer ?? $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    }

    /// <summary>The name this dispatcher claims rows under.</summary>
    public string Claimer { get; }

    public NotificationMode Mode => _mode;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(_logger, _mode.ToString().ToLowerInvariant(), Claimer, _store.IsDurable);
        int failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            int claimed = 0;
            try
            {
                claimed = await RunOnceAsync(stoppingToken);
                await RefreshCountsAsync(stoppingToken);
                failures = 0;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                LogRoundFailed(_logger, failures, e);
            }
            if (claimed >= _options.BatchSize && failures == 0)
            {
                continue; // more may be due right now
            }
            // After failures (the database is away), wait longer each time, up to half a minute.
            var delay = failures == 0 ? _options.PollInterval
                : TimeSpan.FromTicks(Math.Min(MaxErrorDelay.Ticks, _options.PollInterval.Ticks << Math.Min(failures, 10)));
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// One round: records outcomes left over from a failed round, claims a batch and handles it.
    /// Returns how many rows it claimed. Throws when the store fails (the round's remaining rows stay
    /// claimed and are due again when their claim runs out).
    /// </summary>
    public async Task<int> RunOnceAsync(CancellationToken stoppingToken)
    {
        await RecordLeftoversAsync(stoppingToken);
        var now = _time.GetUtcNow();
        var batch = await _store.ClaimDueAsync(Claimer, _options.BatchSize, now, _options.ClaimDuration, stoppingToken);
        if (batch.Count == 0)
        {
            return 0;
        }
        if (_mode == NotificationMode.Off)
        {
            foreach (var row in batch)
            {
                await RecordAsync(row, OutboxTransitions.Discarded(row, now));
            }
            return batch.Count;
        }
        var recipients = batch.Where(r => FloodControl.Counts(r.Kind)).Select(r => r.Recipient).ToHashSet(StringComparer.Ordinal);
        var sentInWindow = recipients.Count == 0
            ? new Dictionary<string, int>()
            : await _store.CountSentSinceAsync(recipients, now - FloodControl.Window, stoppingToken);
        var fold = _flood.RowsToFold(batch, sentInWindow);
        try
        {
            await HandleBatchAsync(batch, fold, stoppingToken);
        }
        finally
        {
            await _sender!.EndBatchAsync(CancellationToken.None);
        }
        return batch.Count;
    }

    private async Task HandleBatchAsync(IReadOnlyList<OutboxRow> batch, HashSet<long> fold, CancellationToken stoppingToken)
    {
        string? serviceDown = null;
        int failed = 0;
        string? lastError = null;
        for (int i = 0; i < batch.Count; i++)
        {
            var row = batch[i];
            var now = _time.GetUtcNow();
            if (fold.Contains(row.Id))
            {
                await RecordAsync(row, OutboxTransitions.Folded(row, now));
                _metrics.Folded();
                continue;
            }
            // Start a send only when it can end within the claim (each SMTP step is bounded by
            // Smtp:Timeout) and the silo is not stopping; the rest goes back, unattempted.
            if (stoppingToken.IsCancellationRequested || now + _smtp.Timeout >= row.ClaimedUntil)
            {
                var rest = batch.Skip(i).Where(r => !fold.Contains(r.Id)).Select(r => r.Id).ToList();
                int released = await _store.ReleaseAsync(Claimer, rest, now, CancellationToken.None);
                LogReleased(_logger, released, stoppingToken.IsCancellationRequested ? "the silo is stopping" : "the claim is running out");
                foreach (var r in batch.Skip(i).Where(r => fold.Contains(r.Id)))
                {
                    await RecordAsync(r, OutboxTransitions.Folded(r, now));
                    _metrics.Folded();
                }
                break;
            }
            OutboxCompletion completion;
            if (serviceDown is not null)
            {
                // The server could not be reached for an earlier row of this batch: this one would fail
                // the same way, after the same timeout.
                completion = OutboxTransitions.AttemptFailed(row, serviceDown, now, _schedule);
            }
            else
            {
                try
                {
                    // Not the stopping token: a mail half sent is worse than a stop that waits one SMTP timeout.
                    await _sender!.SendAsync(row, CancellationToken.None);
                    completion = OutboxTransitions.Sent(row, _time.GetUtcNow());
                }
                catch (MailSendException e) when (e.Permanent)
                {
                    completion = OutboxTransitions.Refused(row, e.Message, _time.GetUtcNow());
                }
                catch (Exception e)
                {
                    completion = OutboxTransitions.AttemptFailed(row, e.Message, _time.GetUtcNow(), _schedule);
                    if (e is MailSendException { ServiceDown: true })
                    {
                        serviceDown = e.Message;
                    }
                }
            }
            if (completion.State == OutboxState.Sent)
            {
                _metrics.Sent();
            }
            else
            {
                _metrics.FailedAttempt();
                failed++;
                lastError = completion.LastError;
                if (completion.State == OutboxState.Failed)
                {
                    LogGaveUp(_logger, row.Id, row.AlertKey, row.Attempts, completion.LastError);
                }
            }
            await RecordAsync(row, completion);
        }
        if (failed > 0)
        {
            LogBatchFailures(_logger, failed, batch.Count, lastError);
        }
    }

    private async Task RecordAsync(OutboxRow row, OutboxCompletion completion)
    {
        bool applied;
        try
        {
            applied = await _store.CompleteAsync(Claimer, completion, CancellationToken.None);
        }
        catch (Exception)
        {
            _unrecorded.Add(completion);
            throw;
        }
        if (!applied)
        {
            // Our claim ran out and another dispatcher has the row: it may be mailed twice.
            LogClaimLost(_logger, row.Id, OutboxStates.Name(completion.State));
        }
    }

    private async Task RecordLeftoversAsync(CancellationToken ct)
    {
        while (_unrecorded.Count > 0)
        {
            var completion = _unrecorded[0];
            if (!await _store.CompleteAsync(Claimer, completion, ct))
            {
                LogClaimLost(_logger, completion.Id, OutboxStates.Name(completion.State));
            }
            _unrecorded.RemoveAt(0);
        }
    }

    private async Task RefreshCountsAsync(CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (now - _countsAt < CountsInterval)
        {
            return;
        }
        _metrics.SetCounts(await _store.CountAsync(ct));
        _countsAt = now;
    }
}
