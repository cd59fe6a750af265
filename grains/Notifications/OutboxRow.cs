namespace Telemetry.Grains.Notifications;

/// <summary>Where an outbox row is in its life (docs/notifications.md, "States").</summary>
public enum OutboxState
{
    /// <summary>Waiting for its next attempt (<see cref="OutboxRow.NextAttemptAt"/>).</summary>
    Pending,

    /// <summary>Claimed by a dispatcher until <see cref="OutboxRow.ClaimedUntil"/>; due again after that if the claimer died.</summary>
    Sending,

    /// <summary>Accepted by the mail server (or written to the log in console mode).</summary>
    Sent,

    /// <summary>Gave up after <c>Smtp:MaxAttempts</c> attempts, or refused for good; an admin can retry it.</summary>
    Failed,

    /// <summary>Held back by flood control; the recipient's next digest lists it.</summary>
    Folded,

    /// <summary>Not sent because notifications are off (<c>Notifications:Mode=off</c>).</summary>
    Discarded,

    /// <summary>Was folded; a digest mail (its own row) listed it.</summary>
    Digested,
}

public static class OutboxStates
{
    /// <summary>The lower-case name used in the database and the admin API.</summary>
    public static string Name(OutboxState state) => state switch
    {
        OutboxState.Pending => "pending",
        OutboxState.Sending => "sending",
        OutboxState.Sent => "sent",
        OutboxState.Failed => "failed",
        OutboxState.Folded => "folded",
        OutboxState.Discarded => "discarded",
        OutboxState.Digested => "digested",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static bool TryParse(string? name, out OutboxState state)
    {
        foreach (var s in Enum.GetValues<OutboxState>())
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

    public static OutboxState Parse(string name) =>
        TryParse(name, out var s) ? s : throw new FormatException($"unknown outbox state '{name}'");
}

/// <summary>One row of the outbox as stored.</summary>
public sealed record OutboxRow
{
    public required long Id { get; init; }
    public required string AlertKey { get; init; }
    public required string Recipient { get; init; }
    public required string Kind { get; init; }
    public required string Subject { get; init; }
    public required string TextBody { get; init; }
    public string? HtmlBody { get; init; }
    public string? UnsubscribeUrl { get; init; }
    public required OutboxState State { get; init; }

    /// <summary>Attempts so far; a claim counts as one (a dispatcher that dies mid-send used it up).</summary>
    public int Attempts { get; init; }

    /// <summary>When the row is due: the next attempt while pending, the end of the claim while sending.</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    public string? LastError { get; init; }
    public string? ClaimedBy { get; init; }
    public DateTimeOffset? ClaimedUntil { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; init; }
}

/// <summary>The outcome of an enqueue: the row's id, and whether the (alert, recipient) pair was there already.</summary>
public readonly record struct EnqueueResult(long Id, bool AlreadyQueued);

/// <summary>
/// What a dispatcher records about a row it claimed: its new state with attempts, next attempt,
/// error and send time. Applied only while the claim is still the dispatcher's.
/// </summary>
public sealed record OutboxCompletion(
    long Id,
    OutboxState State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    string? LastError,
    DateTimeOffset? SentAt);

/// <summary>The result of an admin's retry of one row.</summary>
public enum OutboxRetryResult
{
    Retried,
    NotFound,
    NotFailed,
}

/// <summary>One page of the admin listing, newest first; <see cref="NextBefore"/> continues it.</summary>
public sealed record OutboxPage(IReadOnlyList<OutboxRow> Rows, long? NextBefore);

/// <summary>Rows waiting for delivery (pending or being sent) and rows failed for good.</summary>
public readonly record struct OutboxCounts(long Pending, long Failed);

/// <summary>A digest queued by <see cref="IOutboxStore.TakeDigestAsync"/>: its outbox row and the folded rows it lists.</summary>
public sealed record DigestTaken(long DigestId, IReadOnlyList<long> Rows);
