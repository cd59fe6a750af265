namespace Telemetry.Grains.Notifications;

/// <summary>
/// Per-recipient flood control (docs/notifications.md, "Flood control"): at most
/// <c>Notifications:MaxPerRecipientPerHour</c> alert mails are sent to one person in any hour; the
/// rows beyond that are folded into their next digest instead of sent. Digests and sign-in links are
/// neither counted nor folded.
/// </summary>
public sealed class FloodControl(int maxPerHour)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public int MaxPerHour { get; } = maxPerHour > 0 ? maxPerHour : throw new ArgumentOutOfRangeException(nameof(maxPerHour));

    /// <summary>Kinds flood control neither counts nor folds: a digest is where folded alerts go, and a sign-in link is awaited.</summary>
    public static readonly string[] ExemptKinds = [MailKinds.Digest, MailKinds.SignIn];

    /// <summary>True for the kinds flood control counts and folds (alerts); false for <see cref="ExemptKinds"/>.</summary>
    public static bool Counts(string kind) => Array.IndexOf(ExemptKinds, kind) < 0;

    // REVIEW: the sent count is read once per batch, so dispatchers of several silos mailing the same
    // person at the same moment can exceed the limit by up to a batch each. A guard against floods,
    // not a quota (docs/notifications.md); exactness would need a per-recipient lock.

    /// <summary>
    /// The rows of a claimed batch to fold, given how many counted mails each recipient was sent in
    /// the last hour. Rows are taken in batch order (oldest due first), so the earliest alerts are the
    /// ones mailed; each row not folded counts as sent for the rows after it.
    /// </summary>
    public HashSet<long> RowsToFold(IReadOnlyList<OutboxRow> batch, IReadOnlyDictionary<string, int> sentInWindow)
    {
        var fold = new HashSet<long>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in batch)
        {
            if (!Counts(row.Kind))
            {
                continue;
            }
            if (!counts.TryGetValue(row.Recipient, out int n))
            {
                n = sentInWindow.GetValueOrDefault(row.Recipient);
            }
            if (n >= MaxPerHour)
            {
                fold.Add(row.Id);
            }
            else
            {
                n++;
            }
            counts[row.Recipient] = n;
        }
        return fold;
    }
}
