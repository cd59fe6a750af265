using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>The partition protocol state by state, with an in-memory log and aggregates that persist on their own clocks.</summary>
public sealed class PartitionProtocolTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeLandingLog _log;
    private readonly FakePeers _peers;
    private readonly ListLogger _logger = new();
    private readonly IngestOptions _options = new() { PushGraceMs = 2000, CheckpointSeconds = 5, PersistSeconds = 30 };

    public PartitionProtocolTests()
    {
        _log = new FakeLandingLog(_time);
        _peers = new FakePeers(_time, TimeSpan.FromSeconds(_options.PersistSeconds));
    }

    private PartitionProtocol NewProtocol(long checkpoint = 0) => new(0, checkpoint, 0, _log, _peers, _options, _time, _logger);

    [Fact]
    public async Task A_pushed_batch_is_applied_once_and_a_late_copy_or_a_read_back_adds_nothing()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A", "A,B");

        await protocol.PushAsync([_log.Pushed(b1)]);
        await protocol.PushAsync([_log.Pushed(b1)]);
        _time.Advance(TimeSpan.FromSeconds(10));
        await protocol.PollAsync(force: false, CancellationToken.None);

        Assert.Equal(2, _peers["A"].Pings);
        Assert.Equal(1, _peers["B"].Pings);
        Assert.Equal(0, _log.Reads);
        Assert.Equal(["A", "B"], _peers.Registered.Order());
    }

    [Fact]
    public async Task Poll_reads_back_batches_whose_push_is_late_and_waits_for_younger_ones()
    {
        var protocol = NewProtocol();
        long old = _log.Land("A");
        _time.Advance(TimeSpan.FromSeconds(3));
        long young = _log.Land("A");
        _time.Advance(TimeSpan.FromSeconds(1));

        await protocol.PollAsync(force: false, CancellationToken.None);

        Assert.Equal(1, _peers["A"].Pings);
        var status = protocol.Status();
        Assert.Equal(1, status.PendingBatches);
        Assert.Equal(1, status.LagSeconds, precision: 3);
        Assert.Equal(1, status.BatchesRecovered);
        // The young batch's push arrives: applied, not read again.
        await protocol.PushAsync([_log.Pushed(young)]);
        _time.Advance(TimeSpan.FromSeconds(5));
        await protocol.PollAsync(force: false, CancellationToken.None);
        Assert.Equal(2, _peers["A"].Pings);
        Assert.Equal(1, _log.Reads);
        Assert.True(old < young);
    }

    [Fact]
    public async Task The_checkpoint_never_passes_the_settled_horizon()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A");
        long b2 = _log.Land("A");
        _log.Horizon = b1; // a transaction that could still write batch b2's id is open
        await protocol.PushAsync([_log.Pushed(b1), _log.Pushed(b2)]);

        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(b1, protocol.Checkpoint);

        _log.Horizon = null;
        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(b2, protocol.Checkpoint);
        Assert.Equal(b2, _peers.Saves[^1].Checkpoint);
    }

    [Fact]
    public async Task The_checkpoint_moves_only_over_batches_every_aggregate_has_written()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A");
        await protocol.PushAsync([_log.Pushed(b1)]);
        _time.Advance(TimeSpan.FromSeconds(5));
        await protocol.PollAsync(force: false, CancellationToken.None); // A writes (first write is due at once)
        Assert.Equal(b1, protocol.Checkpoint);

        long b2 = _log.Land("A");
        long b3 = _log.Land("B");
        await protocol.PushAsync([_log.Pushed(b2), _log.Pushed(b3)]);
        _time.Advance(TimeSpan.FromSeconds(5));
        await protocol.PollAsync(force: false, CancellationToken.None);
        // B wrote at once (its first write); A wrote 5 s ago and waits until 30 s have passed: b2 is not durable.
        Assert.Equal(b1, protocol.Checkpoint);
        Assert.Equal(1, _peers["A"].DurablePings);
        Assert.Equal(1, _peers["B"].DurablePings);

        _time.Advance(TimeSpan.FromSeconds(25));
        await protocol.PollAsync(force: false, CancellationToken.None);
        Assert.Equal(b3, protocol.Checkpoint);
        Assert.Equal(2, _peers["A"].DurablePings);
    }

    [Fact]
    public async Task Under_steady_load_with_new_aggregates_activating_the_checkpoint_keeps_moving_at_the_default_settings()
    {
        // The pattern seen in production: a batch every 100 ms, each feeding a few long-lived aggregates
        // and the aggregate of a build date that changes every 2 s, so new aggregates keep activating and
        // each writes on its own 30 s clock. The checkpoint must trail by about PersistSeconds +
        // CheckpointSeconds, not wait for a moment when every aggregate has just written.
        var protocol = NewProtocol();
        double worstAge = 0;
        long lastCheckpoint = 0;
        var lastMove = _time.GetUtcNow();
        var longestStill = TimeSpan.Zero;
        for (int tick = 0; tick < 150 * 10; tick++)
        {
            string build = $"build-{tick / 20}";
            long id = _log.Land($"submission-day,{build}", $"submission-day,{build},crash-day", "submission-day");
            await protocol.PushAsync([_log.Pushed(id)]);
            _time.Advance(TimeSpan.FromMilliseconds(100));
            if (tick % 10 == 9)
            {
                await protocol.PollAsync(force: false, CancellationToken.None);
                if (tick > 600)
                {
                    worstAge = Math.Max(worstAge, protocol.CheckpointAgeSeconds);
                }
                if (protocol.Checkpoint > lastCheckpoint)
                {
                    longestStill = TimeSpan.FromTicks(Math.Max(longestStill.Ticks, (_time.GetUtcNow() - lastMove).Ticks));
                    lastCheckpoint = protocol.Checkpoint;
                    lastMove = _time.GetUtcNow();
                }
            }
        }

        Assert.InRange(worstAge, 0, _options.PersistSeconds + 2 * _options.CheckpointSeconds + 1);
        Assert.InRange(longestStill.TotalSeconds, 0, _options.PersistSeconds + _options.CheckpointSeconds + 1);
        Assert.True(protocol.Checkpoint > 1000, $"checkpoint {protocol.Checkpoint} of 1,500 batches");
        Assert.Equal(1500 * 3, _peers["submission-day"].Pings);
        Assert.Equal(75, _peers.Aggregates.Keys.Count(k => k.StartsWith("build-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_aggregate_that_lost_batches_in_a_crash_gets_them_again_and_counts_each_once()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A", "A");
        await protocol.PushAsync([_log.Pushed(b1)]);
        await protocol.PollAsync(force: true, CancellationToken.None);
        long b2 = _log.Land("A");
        long b3 = _log.Land("A");
        await protocol.PushAsync([_log.Pushed(b2, b3)]);
        Assert.Equal(4, _peers["A"].Pings);

        _peers["A"].Crash(); // b2 and b3 were never written
        Assert.Equal(2, _peers["A"].Pings);
        _time.Advance(TimeSpan.FromSeconds(5));
        await protocol.PollAsync(force: false, CancellationToken.None);

        Assert.Equal(4, _peers["A"].Pings);
        Assert.Equal(b3, protocol.Checkpoint);
        Assert.Contains(_logger.Entries, e => e.Contains("lacks 2 batches"));
    }

    [Fact]
    public async Task An_aggregate_that_does_not_answer_holds_the_checkpoint_below_its_first_batch_only()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A");
        long b2 = _log.Land("B");
        long b3 = _log.Land("A");
        await protocol.PushAsync([_log.Pushed(b1), _log.Pushed(b2), _log.Pushed(b3)]);
        _peers.Unreachable.Add("B");

        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(b1, protocol.Checkpoint);

        _peers.Unreachable.Clear();
        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(b3, protocol.Checkpoint);
    }

    [Fact]
    public async Task While_paused_nothing_is_applied_another_owner_is_refused_and_the_lease_runs_out_unless_renewed()
    {
        var protocol = NewProtocol();
        var lease = TimeSpan.FromSeconds(60);
        Assert.True(protocol.Pause("job-1", lease));
        Assert.False(protocol.Pause("job-2", lease));
        long b1 = _log.Land("A");
        await protocol.PushAsync([_log.Pushed(b1)]);
        _time.Advance(TimeSpan.FromSeconds(50));
        await protocol.PollAsync(force: false, CancellationToken.None);
        Assert.False(_peers.Aggregates.ContainsKey("A"));

        Assert.True(protocol.RenewPause("job-1", lease));
        _time.Advance(TimeSpan.FromSeconds(50));
        await protocol.PollAsync(force: false, CancellationToken.None);
        Assert.Equal("job-1", protocol.PausedBy);

        _time.Advance(TimeSpan.FromSeconds(11)); // 61 s after the renewal
        await protocol.PollAsync(force: false, CancellationToken.None);
        Assert.Null(protocol.PausedBy);
        Assert.Equal(1, _peers["A"].Pings);
        Assert.False(protocol.RenewPause("job-1", lease));
        Assert.Contains(_logger.Entries, e => e.Contains("lease of job-1 expired"));
        // A job that lost its pause cannot seal.
        await Assert.ThrowsAsync<InvalidOperationException>(() => protocol.SealAtAsync("job-1", b1, CancellationToken.None));
        Assert.True(protocol.Pause("job-2", lease));
    }

    [Fact]
    public async Task Seal_applies_and_checkpoints_exactly_up_to_the_batch_and_resume_reads_the_rest_again()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A");
        long b2 = _log.Land("A", "B");
        long b3 = _log.Land("B");
        Assert.True(protocol.Pause("job", TimeSpan.FromMinutes(1)));

        await protocol.SealAtAsync("job", b2, CancellationToken.None);

        Assert.Equal(b2, protocol.Checkpoint);
        Assert.Equal(2, _peers["A"].DurablePings);
        Assert.Equal(1, _peers["B"].Pings);
        protocol.Resume("other-job");
        Assert.Equal("job", protocol.PausedBy);
        protocol.Resume("job");
        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(b3, protocol.Checkpoint);
        Assert.Equal(2, _peers["B"].Pings);
        Assert.True(b1 < b2);
    }

    [Fact]
    public async Task Rows_that_no_longer_decode_are_counted_and_logged_once_per_batch()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A", "!", "!", "A");
        _time.Advance(TimeSpan.FromSeconds(5));

        await protocol.PollAsync(force: false, CancellationToken.None);

        Assert.Equal(2, _peers["A"].Pings);
        Assert.Equal(2, protocol.Status().UndecodableRows);
        var logged = Assert.Single(_logger.Entries, e => e.Contains("no longer decode"));
        Assert.Contains($"2 of the 4 rows of batch {b1}", logged);
    }

    [Fact]
    public async Task Checkpoint_age_is_zero_when_everything_applied_is_checkpointed()
    {
        var protocol = NewProtocol();
        long b1 = _log.Land("A");
        await protocol.PushAsync([_log.Pushed(b1)]);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(3, protocol.CheckpointAgeSeconds, precision: 3);
        await protocol.PollAsync(force: true, CancellationToken.None);
        Assert.Equal(0, protocol.CheckpointAgeSeconds);
        Assert.Equal(0, protocol.Status().AppliedAboveCheckpoint);
    }

    /// <summary>Keeps formatted log messages.</summary>
    private sealed class ListLogger : ILogger
    {
        public List<string> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add(formatter(state, exception));
    }
}
