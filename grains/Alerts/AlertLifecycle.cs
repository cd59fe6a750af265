namespace Telemetry.Grains.Alerts;

/// <summary>What people can do to an alert (<c>POST /api/alerts/{id}/actions</c>).</summary>
public static class AlertActions
{
    public const string Acknowledge = "acknowledge";
    public const string Resolve = "resolve";
    public const string Invalid = "invalid";
    public const string Comment = "comment";
    public const string Snooze = "snooze";
    public const string Mute = "mute";
    public const string Unmute = "unmute";
    public const string Reopen = "reopen";

    public static readonly string[] All = [Acknowledge, Resolve, Invalid, Comment, Snooze, Mute, Unmute, Reopen];

    /// <summary>History actions of the detector itself.</summary>
    public const string Created = "created";
    public const string Regressed = "regressed";
}

/// <summary>The outcome of an action: the changed alert, or why it cannot be done (a 409 or 400 for the caller).</summary>
public sealed record AlertActionResult(AlertRecord? Alert, string? Error, bool BadRequest = false)
{
    public bool Ok => Alert is not null;
}

/// <summary>
/// The alert lifecycle (docs/alerts.md, "Lifecycle"):
/// <code>
/// new ──acknowledge──► acknowledged ──resolve──► resolved ──fires again──► regressed
///  │ └──────────────resolve──────────────────────▲                           │
///  └─invalid (from any open state)──► invalid     reopen (resolved/invalid) ──► new
/// </code>
/// Comments, snooze and mute leave the state as it is; every action is kept in the history with who and when.
/// </summary>
public static class AlertLifecycle
{
    public const int MaxCommentLength = 4000;
    public const int MaxBugLength = 500;

    public static AlertActionResult Apply(AlertRecord a, string action, string by, string? comment, string? bug, DateTimeOffset? until, DateTimeOffset now)
    {
        comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        bug = string.IsNullOrWhiteSpace(bug) ? null : bug.Trim();
        if (comment is { Length: > MaxCommentLength })
        {
            return new(null, $"comment is longer than {MaxCommentLength} characters", BadRequest: true);
        }
        if (bug is { Length: > MaxBugLength } || (bug is not null && bug.Any(char.IsControl)))
        {
            return new(null, $"bug must be one line of at most {MaxBugLength} characters", BadRequest: true);
        }
        AlertRecord changed;
        switch (action)
        {
            case AlertActions.Acknowledge:
                if (a.State is not (AlertState.New or AlertState.Regressed))
                {
                    return Conflict(a, action);
                }
                changed = a with { State = AlertState.Acknowledged };
                break;
            case AlertActions.Resolve:
                if (!AlertStates.IsOpen(a.State))
                {
                    return Conflict(a, action);
                }
                changed = a with { State = AlertState.Resolved, SnoozedUntil = null };
                break;
            case AlertActions.Invalid:
                if (a.State == AlertState.Invalid)
                {
                    return Conflict(a, action);
                }
                changed = a with { State = AlertState.Invalid, SnoozedUntil = null };
                break;
            case AlertActions.Reopen:
                if (AlertStates.IsOpen(a.State))
                {
                    return Conflict(a, action);
                }
                changed = a with { State = AlertState.New };
                break;
            case AlertActions.Comment:
                if (comment is null && bug is null)
                {
                    return new(null, "a comment needs comment or bug", BadRequest: true);
                }
                changed = a;
                break;
            case AlertActions.Snooze:
                if (until is not { } u || u <= now)
                {
                    return new(null, "snooze needs until, a time in the future", BadRequest: true);
                }
                changed = a with { SnoozedUntil = u };
                break;
            case AlertActions.Mute:
                changed = a with { Muted = true };
                break;
            case AlertActions.Unmute:
                changed = a with { Muted = false };
                break;
            default:
                return new(null, $"action must be one of {string.Join(", ", AlertActions.All)}", BadRequest: true);
        }
        return new(Record(changed, now, by, action, comment, bug), null);
    }

    /// <summary>A resolved alert fired again: it reopens as regressed (and notifies again).</summary>
    public static AlertRecord Refire(AlertRecord a, DateTimeOffset now) =>
        Record(a with { State = AlertState.Regressed, SnoozedUntil = null }, now, "system", AlertActions.Regressed, null, null);

    /// <summary>How many times the alert fired (created, then each regression): numbers its mails so a re-fire is mailed again.</summary>
    public static int Firings(AlertRecord a) =>
        Math.Max(1, a.History.Count(e => e.Action is AlertActions.Created or AlertActions.Regressed));

    private static AlertRecord Record(AlertRecord a, DateTimeOffset now, string by, string action, string? comment, string? bug) =>
        a with
        {
            UpdatedAt = now,
            History = [.. a.History, new AlertEvent(now, by, action, a.State, comment, bug)],
        };

    private static AlertActionResult Conflict(AlertRecord a, string action) =>
        new(null, $"cannot {action} an alert that is {AlertStates.Name(a.State)}");
}
