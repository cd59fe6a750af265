namespace Telemetry.Grains.Notifications;

/// <summary>
/// Exponential backoff for mail that could not be sent: after attempt n the next one waits
/// <c>base × 2^(n−1)</c>, at most <c>max</c>; after <c>maxAttempts</c> attempts the row fails for good
/// (docs/notifications.md, "Retries"). With the defaults (1 min, 1 h, 8 attempts) a row is tried
/// for about two hours (1+2+4+8+16+32+60 minutes of waiting) before it is marked failed.
/// </summary>
public sealed class RetrySchedule
{
    public RetrySchedule(TimeSpan baseDelay, TimeSpan maxDelay, int maxAttempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        MaxAttempts = maxAttempts;
    }

    public TimeSpan BaseDelay { get; }
    public TimeSpan MaxDelay { get; }
    public int MaxAttempts { get; }

    /// <summary>The wait after the <paramref name="attempts"/>-th failed attempt (1-based).</summary>
    public TimeSpan DelayAfter(int attempts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        // Doubling in floating point: 2^62 ticks would overflow long long before the cap matters.
        double ticks = BaseDelay.Ticks * Math.Pow(2, Math.Min(attempts - 1, 62));
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    /// <summary>True when a row that has used <paramref name="attempts"/> attempts may not be tried again.</summary>
    public bool IsExhausted(int attempts) => attempts >= MaxAttempts;
}
