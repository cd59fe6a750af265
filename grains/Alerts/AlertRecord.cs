namespace Telemetry.Grains.Alerts;

/// <summary>Where an alert is in its life (docs/alerts.md, "Lifecycle").</summary>
public enum AlertState
{
    New,
    Acknowledged,
    Resolved,
    Invalid,

    /// <summary>Was resolved, then fired again.</summary>
    Regressed,
}

public static class AlertStates
{
    public static string Name(AlertState s) => s switch
    {
        AlertState.New => "new",
        AlertState.Acknowledged => "acknowledged",
        AlertState.Resolved => "resolved",
        AlertState.Invalid => "invalid",
        AlertState.Regressed => "regressed",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, null),
    };

    public static bool TryParse(string? name, out AlertState state)
    {
        foreach (var s in Enum.GetValues<AlertState>())
        {
            if (string.Equals(Name(s), name, StringComparison.Ordinal))
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }

    public static AlertState Parse(string name) =>
        TryParse(name, out var s) ? s : throw new FormatException($"unknown alert state '{name}'");

    /// <summary>Open alerts still ask for attention; a group (<see cref="AlertDraft.GroupKey"/>) fires again only once none is open.</summary>
    public static bool IsOpen(AlertState s) => s is AlertState.New or AlertState.Acknowledged or AlertState.Regressed;
}

/// <summary>One entry of an alert's history: who did what, when.</summary>
/// <param name="By">An email address, or <c>system</c> for the detector itself.</param>
/// <param name="Action">What happened: <c>created</c>, <c>regressed</c>, or an <see cref="AlertActions"/> name.</param>
/// <param name="State">The state after the entry.</param>
public sealed record AlertEvent(DateTimeOffset At, string By, string Action, AlertState State, string? Comment, string? Bug);

/// <summary>A recorded alert.</summary>
public sealed record AlertRecord
{
    public required long Id { get; init; }
    public required string Kind { get; init; }
    public required string Key { get; init; }
    public string? GroupKey { get; init; }
    public required string Title { get; init; }
    public required string Summary { get; init; }
    public required AlertTarget Target { get; init; }
    public required IReadOnlyList<string> Owners { get; init; }
    public required string DetailsJson { get; init; }
    public required bool Notify { get; init; }
    public required AlertState State { get; init; }
    public DateTimeOffset? SnoozedUntil { get; init; }
    public bool Muted { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public IReadOnlyList<AlertEvent> History { get; init; } = [];

    /// <summary>Muted, or snoozed past <paramref name="now"/>: notifies no one.</summary>
    public bool IsSilenced(DateTimeOffset now) => Muted || (SnoozedUntil is { } until && until > now);
}

/// <summary>What publishing a draft did.</summary>
/// <param name="Alert">The alert as stored now.</param>
/// <param name="Created">This call recorded it.</param>
/// <param name="Reopened">It was resolved and this call reopened it as regressed.</param>
/// <param name="MailsQueued">Outbox rows this call queued (immediate or for a digest).</param>
public sealed record PublishResult(AlertRecord Alert, bool Created, bool Reopened, int MailsQueued);

/// <summary>Filters of the alert listing; null filters match everything.</summary>
public sealed record AlertQuery(
    string? Kind = null,
    AlertState? State = null,
    string? Channel = null,
    string? Subject = null,
    string? Detector = null,
    DateOnly? From = null,
    DateOnly? To = null,
    int Limit = 500);
