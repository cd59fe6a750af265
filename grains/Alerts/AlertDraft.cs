namespace Telemetry.Grains.Alerts;

/// <summary>
/// What a detector reports (docs/alerts.md): one alert, named for good by <see cref="Key"/>. The
/// notification core records it, decides who hears about it (owners and matching subscriptions) and
/// queues their mail in the same step. Detectors never address mail themselves.
/// </summary>
/// <param name="Kind">One of <see cref="AlertKinds"/>.</param>
/// <param name="Key">
/// The natural key, unique across all alerts and stable across restarts and silos, e.g.
/// <c>regression:nightly:GC_MS:20260101:default</c>. Publishing a key that exists changes nothing
/// (unless that alert was resolved: it then reopens as <c>regressed</c> and notifies again).
/// </param>
/// <param name="Title">One line: the mail subject and the list entry.</param>
/// <param name="Summary">Plain text, a few lines: what happened, with numbers; the body of the mail.</param>
/// <param name="Target">What subscriptions match against.</param>
/// <param name="Owners">Addresses told without subscribing (a probe's <c>alert_emails</c>); may be empty.</param>
/// <param name="DetailsJson">Kind-specific JSON kept with the alert (a regression's histograms); <c>{}</c> when none.</param>
/// <param name="Notify">False: recorded and listed, mailed to nobody (e.g. a metric on the ignore list).</param>
/// <param name="GroupKey">
/// Optional: alerts of one group fire one at a time. While an alert of the group is open (not resolved
/// or invalid), publishing another of the same group records nothing and returns the open one.
/// </param>
public sealed record AlertDraft(
    string Kind,
    string Key,
    string Title,
    string Summary,
    AlertTarget Target,
    IReadOnlyList<string> Owners,
    string DetailsJson = "{}",
    bool Notify = true,
    string? GroupKey = null);

/// <summary>
/// The attributes subscriptions match (<see cref="SubscriptionMatcher"/>); each kind fills the ones it has.
/// </summary>
/// <param name="Channel">Release channel (regressions, crash rates).</param>
/// <param name="Subject">The metric or probe name (regressions, expiry), or the Sentry project.</param>
/// <param name="Detector">The detector or rule that fired: <c>default</c>, <c>cerberus</c>, a Sentry rule, a crash rule.</param>
/// <param name="OccurredOn">The build date of a regression, the window end of a crash-rate alert, the expiry date.</param>
/// <param name="Score">The detector's score (regressions: compared with a subscription's <c>min_score</c>).</param>
/// <param name="SubscriptionId">Set when the alert exists for one subscription only (crash-rate rules): only its owner hears of it.</param>
public sealed record AlertTarget(
    string? Channel = null,
    string? Subject = null,
    string? Detector = null,
    DateOnly? OccurredOn = null,
    double? Score = null,
    long? SubscriptionId = null);

public static class AlertKinds
{
    public const string Regression = "regression";
    public const string Expiry = "expiry";
    public const string CrashRate = "crash_rate";
    public const string Sentry = "sentry";

    public static readonly string[] All = [Regression, Expiry, CrashRate, Sentry];

    public static bool IsKnown(string? kind) => kind is not null && Array.IndexOf(All, kind) >= 0;
}
