namespace Telemetry.Grains.Notifications;

/// <summary>
/// A mail to put in the outbox: one alert for one recipient (docs/notifications.md). The pair
/// (<see cref="AlertKey"/>, <see cref="Recipient"/>) is unique in the outbox: enqueuing it again
/// changes nothing and reports "already queued".
/// </summary>
/// <param name="AlertKey">What the mail is about, stable across restarts, e.g. <c>regression:123</c> or <c>digest:2026-11-30</c>.</param>
/// <param name="Recipient">An email address; stored trimmed and lower-case.</param>
/// <param name="Kind">One of <see cref="MailKinds"/> (or a newer lower-case kind); flood control exempts digests and sign-in links.</param>
/// <param name="Subject">One line.</param>
/// <param name="TextBody">The plain-text body (always sent).</param>
/// <param name="HtmlBody">An optional HTML alternative.</param>
/// <param name="UnsubscribeUrl">The one-click unsubscribe link of the subscription, sent as <c>List-Unsubscribe</c>.</param>
/// <param name="ForDigest">
/// Queued straight into the recipient's next digest (stored <c>folded</c>) instead of sent on its own:
/// the delivery of a digest subscription.
/// </param>
public sealed record OutboxMail(
    string AlertKey,
    string Recipient,
    string Kind,
    string Subject,
    string TextBody,
    string? HtmlBody = null,
    string? UnsubscribeUrl = null,
    bool ForDigest = false)
{
    public const int MaxAlertKeyLength = 200;
    public const int MaxSubjectLength = 500;
    public const int MaxAddressLength = 254;

    /// <summary>
    /// The mail as stored: recipient trimmed and lower-cased, kind lower-cased. Throws
    /// <see cref="ArgumentException"/> for a mail that could never be sent (a bad address, a line break
    /// in the subject that would forge headers, an unsubscribe link that is not absolute http(s)).
    /// </summary>
    public OutboxMail Normalized()
    {
        string recipient = NormalizeAddress(Recipient);
        if (string.IsNullOrWhiteSpace(AlertKey) || AlertKey.Length > MaxAlertKeyLength || HasLineBreakOrControl(AlertKey))
        {
            throw new ArgumentException($"alert key must be 1-{MaxAlertKeyLength} characters on one line", nameof(AlertKey));
        }
        string kind = (Kind ?? "").Trim().ToLowerInvariant();
        if (kind.Length == 0 || kind.Length > 40 || !kind.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException("kind must be 1-40 characters of a-z, 0-9 and _", nameof(Kind));
        }
        if (string.IsNullOrWhiteSpace(Subject) || Subject.Length > MaxSubjectLength || HasLineBreakOrControl(Subject))
        {
            throw new ArgumentException($"subject must be 1-{MaxSubjectLength} characters on one line", nameof(Subject));
        }
        ArgumentNullException.ThrowIfNull(TextBody);
        if (UnsubscribeUrl is not null
            && (!Uri.TryCreate(UnsubscribeUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || HasLineBreakOrControl(UnsubscribeUrl)))
        {
            throw new ArgumentException("unsubscribe URL must be an absolute http(s) URL", nameof(UnsubscribeUrl));
        }
        return this with { Recipient = recipient, Kind = kind, AlertKey = AlertKey.Trim() };
    }

    /// <summary>An address trimmed and lower-cased, or <see cref="ArgumentException"/> when it is not <c>local@domain</c>.</summary>
    public static string NormalizeAddress(string? address)
    {
        string a = (address ?? "").Trim().ToLowerInvariant();
        int at = a.IndexOf('@', StringComparison.Ordinal);
        if (a.Length > MaxAddressLength || at <= 0 || at != a.LastIndexOf('@') || at == a.Length - 1
            || a.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>' or ',' or ';' or '"'))
        {
            throw new ArgumentException($"'{address}' is not an email address", nameof(address));
        }
        return a;
    }

    private static bool HasLineBreakOrControl(string s) => s.Any(char.IsControl);
}

/// <summary>The kinds of mail the notification features write.</summary>
public static class MailKinds
{
    public const string Regression = "regression";
    public const string Expiry = "expiry";
    public const string CrashRate = "crash_rate";
    public const string Sentry = "sentry";

    /// <summary>A digest of folded alerts; never folded itself.</summary>
    public const string Digest = "digest";

    /// <summary>A sign-in link; never folded (the person is waiting for it).</summary>
    public const string SignIn = "signin";
}
