using System.Collections.Immutable;

namespace Telemetry.Contracts.Crash;

/// <summary>One evaluation of the crash-rate subscriptions (docs/crash-alerts.md, "Evaluation").</summary>
[GenerateSerializer, Immutable]
public sealed record CrashAlertRun
{
    /// <summary>The key of the cluster's one <see cref="ICrashAlertGrain"/>.</summary>
    public const long GrainKey = 0;

    [Id(0)] public required DateTimeOffset EvaluatedAt { get; init; }

    /// <summary>The UTC date the windows were computed from (the newest activity date considered).</summary>
    [Id(1)] public required DateOnly Today { get; init; }

    /// <summary>Active crash-rate subscriptions evaluated.</summary>
    [Id(2)] public required int Subscriptions { get; init; }

    /// <summary>The rules that hold now, each with the alert it published (new or already open).</summary>
    [Id(3)] public required ImmutableArray<CrashAlertFiring> Fired { get; init; }

    /// <summary>The rules that do not hold, or could not be evaluated, with the reason.</summary>
    [Id(4)] public required ImmutableArray<CrashAlertQuiet> Quiet { get; init; }
}

/// <summary>A rule that holds, and what publishing its alert did.</summary>
[GenerateSerializer, Immutable]
public sealed record CrashAlertFiring
{
    [Id(0)] public required long SubscriptionId { get; init; }

    /// <summary><c>absolute</c> or <c>relative</c>.</summary>
    [Id(1)] public required string Rule { get; init; }

    [Id(2)] public required string Channel { get; init; }

    /// <summary>The version evaluated; null for an absolute rule over every version of the channel.</summary>
    [Id(3)] public string? Version { get; init; }

    [Id(4)] public required DateOnly WindowEnd { get; init; }

    /// <summary>Crashes per 1,000 usage hours.</summary>
    [Id(5)] public required double Rate { get; init; }

    [Id(6)] public required string Reason { get; init; }

    [Id(7)] public required long AlertId { get; init; }

    [Id(8)] public required string AlertKey { get; init; }

    /// <summary>
    /// True when this evaluation recorded the alert (or reopened a resolved one); false when an alert of the
    /// same rule was already open, so nothing new was recorded and nobody was told again.
    /// </summary>
    [Id(9)] public required bool Recorded { get; init; }

    /// <summary>The state of the alert after publishing (<c>new</c>, <c>acknowledged</c>, <c>regressed</c>, ...).</summary>
    [Id(10)] public required string AlertState { get; init; }
}

/// <summary>A subscription whose rule does not hold now (or cannot be evaluated), and why.</summary>
[GenerateSerializer, Immutable]
public sealed record CrashAlertQuiet
{
    [Id(0)] public required long SubscriptionId { get; init; }

    /// <summary><c>absolute</c>, <c>relative</c>, or null when the parameters name no rule.</summary>
    [Id(1)] public string? Rule { get; init; }

    [Id(2)] public required string Reason { get; init; }

    /// <summary>True when the evaluation failed (storage or publishing); the reason then holds the error.</summary>
    [Id(3)] public bool Failed { get; init; }
}
