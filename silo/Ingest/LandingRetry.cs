namespace Telemetry.Silo.Ingest;

/// <summary>
/// When an import tries to land a record again after the landing log failed. Each record backs off
/// exponentially (<see cref="FirstDelay"/> doubling up to <see cref="MaxDelay"/>) within its own
/// budget. Once one record has used up its budget the import stops waiting: records that have
/// not landed yet give up at once, except for one probe attempt every <see cref="MaxDelay"/>, until
/// a landing succeeds again. So an outage longer than the budget costs the import about one budget,
/// not one budget per record; and the import's in-flight limit keeps it from reading ahead while
/// records are waiting.
/// </summary>
/// <remarks>One instance per import job; thread-safe.</remarks>
public sealed class LandingRetry(TimeSpan budget, TimeProvider time)
{
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(4);

    private readonly TimeSpan _budget = budget;
    private readonly TimeProvider _time = time;
    private readonly Lock _lock = new();
    private bool _gaveUp;
    private DateTimeOffset _nextProbe;
    private int _waiting;

    /// <summary>How long one record keeps trying.</summary>
    public TimeSpan Budget => _budget;

    /// <summary>True from the moment a record used up its budget until a landing succeeds again.</summary>
    public bool GaveUp
    {
        get
        {
            lock (_lock)
            {
                return _gaveUp;
            }
        }
    }

    /// <summary>Records currently waiting to try again.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Starts the attempts of one record; its budget runs from now.</summary>
    public Attempts Begin() => new(this, _time.GetUtcNow() + _budget);

    /// <summary>A landing succeeded: the landing log is back, records wait for it again.</summary>
    public void Landed()
    {
        lock (_lock)
        {
            _gaveUp = false;
        }
    }

    /// <summary>Waits <paramref name="delay"/>, counted in <see cref="Waiting"/> meanwhile.</summary>
    public async Task WaitAsync(TimeSpan delay, CancellationToken ct)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await Task.Delay(delay, _time, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private bool MayTry(bool first)
    {
        lock (_lock)
        {
            if (!_gaveUp)
            {
                return true;
            }
            // Given up: a record that already failed stops; a new one may probe now and then.
            var now = _time.GetUtcNow();
            if (!first || now < _nextProbe)
            {
                return false;
            }
            _nextProbe = now + MaxDelay;
            return true;
        }
    }

    private bool MayRetry(DateTimeOffset deadline)
    {
        lock (_lock)
        {
            if (_gaveUp)
            {
                return false;
            }
            var now = _time.GetUtcNow();
            if (now < deadline)
            {
                return true;
            }
            _gaveUp = true;
            _nextProbe = now + MaxDelay;
            return false;
        }
    }

    /// <summary>The attempts of one record.</summary>
    public sealed class Attempts
    {
        private readonly LandingRetry _owner;
        private readonly DateTimeOffset _deadline;
        private TimeSpan _delay = FirstDelay;
        private bool _tried;

        internal Attempts(LandingRetry owner, DateTimeOffset deadline)
        {
            _owner = owner;
            _deadline = deadline;
        }

        /// <summary>Whether the record should try to land now; false means it is not landed.</summary>
        public bool MayTry()
        {
            bool first = !_tried;
            _tried = true;
            return _owner.MayTry(first);
        }

        /// <summary>After a failed attempt: how long to wait before the next one, or null when the record is not landed.</summary>
        public TimeSpan? AfterFailure()
        {
            if (!_owner.MayRetry(_deadline))
            {
                return null;
            }
            var left = _deadline - _owner._time.GetUtcNow();
            var delay = _delay < left ? _delay : left;
            _delay = _delay * 2 < MaxDelay ? _delay * 2 : MaxDelay;
            return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
        }
    }
}
