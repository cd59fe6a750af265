namespace Telemetry.Portal.Components.Shared;

/// <summary>The snooze durations the triage panels offer.</summary>
public static class SnoozeChoices
{
    public static readonly IReadOnlyList<(string Label, TimeSpan Duration)> All =
    [
        ("1 hour", TimeSpan.FromHours(1)),
        ("8 hours", TimeSpan.FromHours(8)),
        ("1 day", TimeSpan.FromDays(1)),
        ("1 week", TimeSpan.FromDays(7)),
        ("30 days", TimeSpan.FromDays(30)),
    ];

    public static TimeSpan Default => TimeSpan.FromDays(1);
}
