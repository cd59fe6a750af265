namespace Telemetry.Grains.Alerts;

/// <summary>How a subscription's alerts reach its person.</summary>
public enum Delivery
{
    /// <summary>A mail per alert (subject to flood control).</summary>
    Immediate,

    /// <summary>Folded into one daily mail at <see cref="Subscription.DigestHour"/> UTC.</summary>
    Digest,
}

/// <summary>
/// A person's subscription (docs/alerts.md, "Subscriptions"). <see cref="Params"/> holds the
/// kind's parameters; exactly one of the typed parameter records is set, matching <see cref="Kind"/>.
/// </summary>
public sealed record Subscription
{
    public required long Id { get; init; }

    /// <summary>The owner's address, lower-case. Nobody else can read or change it.</summary>
    public required string Email { get; init; }

    public required string Kind { get; init; }
    public required SubscriptionParams Params { get; init; }
    public required Delivery Delivery { get; init; }

    /// <summary>0-23, the UTC hour of the daily digest.</summary>
    public required int DigestHour { get; init; }

    public required bool Paused { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The parameters of a subscription; one of the members is set, by kind.</summary>
public sealed record SubscriptionParams
{
    public RegressionParams? Regression { get; init; }
    public ExpiryParams? Expiry { get; init; }
    public CrashRateParams? CrashRate { get; init; }

    /// <summary>Sentry parameters as validated JSON; <c>SentryRuleSet.From</c> reads them (project, rules, thresholds).</summary>
    public string? SentryJson { get; init; }
}

/// <param name="Channel">Exact channel name.</param>
/// <param name="Metric">A metric name or a glob (<c>*</c> any run, <c>?</c> one character): <c>GC_*</c>.</param>
/// <param name="MinScore">Regressions scoring below this are not sent to this subscription.</param>
public sealed record RegressionParams(string Channel, string Metric, double MinScore);

/// <param name="Metric">A probe name glob; null when <see cref="Mine"/>.</param>
/// <param name="Mine">The probes whose <c>alert_emails</c> list the subscriber.</param>
public sealed record ExpiryParams(string? Metric, bool Mine);

/// <param name="Channel">Exact channel name.</param>
/// <param name="Version">Only this version; null: the newest versions on the channel.</param>
/// <param name="Filters">Dimension filters (<c>os</c>, <c>country</c>, ...), all must match.</param>
/// <param name="Threshold">Absolute rule: crashes per 1,000 usage hours; null when relative.</param>
/// <param name="RelativeIncreasePct">Relative rule: percent increase over the previous version; null when absolute.</param>
/// <param name="Days">The window: activity days (absolute) or days since release (relative).</param>
/// <param name="MinUsageHours">Nothing fires below this many usage hours.</param>
/// <param name="Content">Watch content-process crashes (from main pings) instead of main-process crashes (crash pings).</param>
public sealed record CrashRateParams(
    string Channel,
    string? Version,
    IReadOnlyDictionary<string, string> Filters,
    double? Threshold,
    double? RelativeIncreasePct,
    int Days,
    double MinUsageHours,
    bool Content = false);

/// <summary>A new subscription or the new contents of one (the store sets id and times).</summary>
public sealed record SubscriptionInput(string Kind, SubscriptionParams Params, Delivery Delivery, int DigestHour, bool Paused);

/// <summary>
/// Subscriptions, strictly per person: every call that reads or changes one subscription takes the
/// caller's address and treats someone else's id as unknown.
/// </summary>
public interface ISubscriptionStore
{
    Task<IReadOnlyList<Subscription>> ListForAsync(string email, CancellationToken ct);

    Task<Subscription?> GetAsync(string email, long id, CancellationToken ct);

    Task<Subscription> CreateAsync(string email, SubscriptionInput input, CancellationToken ct);

    /// <summary>Null when the id is unknown or someone else's.</summary>
    Task<Subscription?> UpdateAsync(string email, long id, SubscriptionInput input, CancellationToken ct);

    Task<bool> DeleteAsync(string email, long id, CancellationToken ct);

    /// <summary>Every subscription of <paramref name="kind"/> that is not paused (for detectors and the publisher).</summary>
    Task<IReadOnlyList<Subscription>> ListActiveAsync(string kind, CancellationToken ct);

    /// <summary>Pauses by id without an owner check: the signed unsubscribe link's path. False when unknown.</summary>
    Task<bool> PauseAsync(long id, CancellationToken ct);

    /// <summary>A probe owner stops receiving mail about one probe (<c>alert_emails</c> opt-out).</summary>
    Task OptOutAsync(string email, string probe, CancellationToken ct);

    /// <summary>The owners among <paramref name="emails"/> who opted out of <paramref name="probe"/>.</summary>
    Task<IReadOnlySet<string>> OptedOutAsync(string probe, IReadOnlyCollection<string> emails, CancellationToken ct);
}
