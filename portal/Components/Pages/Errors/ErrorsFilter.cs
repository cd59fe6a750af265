namespace Telemetry.Portal.Components.Pages.Errors;

/// <summary>What the errors list shows, from its query string: a project (or all) and a state (or all).</summary>
public static class ErrorsFilter
{
    /// <summary>The states an issue can be in (docs/sentry.md, "Issues"), in the order the filter offers them.</summary>
    public static readonly string[] States = ["unresolved", "regressed", "resolved", "muted", "snoozed"];

    /// <summary>The issues in the silo's ranking order (events over the range), keeping only those in <paramref name="state"/> when given.</summary>
    public static IReadOnlyList<Services.ErrorIssue> Apply(IEnumerable<Services.ErrorIssue> ranked, string? state) =>
        string.IsNullOrEmpty(state) ? ranked.ToList() : ranked.Where(i => string.Equals(i.State, state, StringComparison.Ordinal)).ToList();

    /// <summary>A known state, or null (all) for anything else in the URL.</summary>
    public static string? KnownState(string? state) => state is not null && Array.IndexOf(States, state) >= 0 ? state : null;

    public static MudBlazor.Color StateColor(string state) => state switch
    {
        "unresolved" => MudBlazor.Color.Warning,
        "regressed" => MudBlazor.Color.Error,
        "resolved" => MudBlazor.Color.Success,
        _ => MudBlazor.Color.Default,
    };

    /// <summary>The portal path of an issue; each part escaped once, as the silo and the alert mails write it.</summary>
    public static string IssueHref(string project, string fingerprint) =>
        "/errors/" + Uri.EscapeDataString(project) + "/" + Uri.EscapeDataString(fingerprint);
}
