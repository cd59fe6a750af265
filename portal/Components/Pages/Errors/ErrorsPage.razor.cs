using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Errors;

/// <summary>Sentry issues ranked by events, filtered by project and state from the query string (docs/portal.md).</summary>
public sealed partial class ErrorsPage : ComponentBase, IDisposable
{
    private const int Days = 7;

    private readonly CancellationTokenSource _closing = new();
    private IReadOnlyList<ErrorIssue>? _issues;
    private IReadOnlyList<ErrorIssue> _shown = [];
    private List<string> _projects = [];
    private PageProblem? _problem;
    private PortalUser? _user;
    private DateTimeOffset _now;
    private string? _loadedProject;
    private bool _loaded;
    private bool _evaluating;
    private EvaluationRound? _round;
    private string? _evaluationProblem;

    [Inject] private IErrorsSource Source { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private ILogger<ErrorsPage> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    /// <summary>One project's issues only (its own top issues are asked of the silo), or all.</summary>
    [SupplyParameterFromQuery(Name = "project")]
    public string? Project { get; set; }

    /// <summary>Only issues in this state (unresolved, regressed, resolved, muted, snoozed), or all.</summary>
    [SupplyParameterFromQuery(Name = "state")]
    public string? State { get; set; }

    private string EmptyTitle => _issues is { Count: 0 } ? "No errors recorded" : "No issue matches these filters";

    private string EmptyText => _issues is { Count: 0 }
        ? $"No Sentry event arrived in the last {Days} days{(string.IsNullOrEmpty(Project) ? "" : $" for {Project}")}. Events come from the Sentry queue or the webhook POST /api/sentry/events."
        : $"None of the {_issues?.Count ?? 0} issues of the last {Days} days is {State}. Choose another state or any state.";

    protected override async Task OnInitializedAsync()
    {
        _user = AuthState is null ? null : PortalUser.From((await AuthState).User);
    }

    protected override async Task OnParametersSetAsync()
    {
        string? project = string.IsNullOrEmpty(Project) ? null : Project;
        if (!_loaded || project != _loadedProject)
        {
            await LoadAsync();
        }
        else
        {
            _shown = ErrorsFilter.Apply(_issues ?? [], ErrorsFilter.KnownState(State));
        }
    }

    private async Task LoadAsync()
    {
        string? project = string.IsNullOrEmpty(Project) ? null : Project;
        _loaded = true;
        _loadedProject = project;
        _problem = null;
        _issues = null;
        try
        {
            var issues = await Source.ListAsync(project, Days, _closing.Token);
            _now = Clock.GetUtcNow();
            _issues = issues;
            _shown = ErrorsFilter.Apply(issues, ErrorsFilter.KnownState(State));
            // The project list grows with what the unfiltered list showed; the chosen project stays in it.
            _projects = _projects.Union(issues.Select(i => i.Project)).Union(project is null ? [] : [project])
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The page was closed.
        }
        catch (Exception e)
        {
            ErrorsLog.LoadFailed(Logger, "errors list", e);
            _problem = PageProblem.From(e, "the errors");
        }
    }

    private void OnProjectChanged(string value) => Navigate(value, ErrorsFilter.KnownState(State));

    private void OnStateChanged(string value) => Navigate(string.IsNullOrEmpty(Project) ? null : Project, value);

    /// <summary>Filters live in the URL, so the address bar is always a link to what is on screen.</summary>
    private void Navigate(string? project, string? state) =>
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
        {
            ["project"] = string.IsNullOrEmpty(project) ? null : project,
            ["state"] = string.IsNullOrEmpty(state) ? null : state,
        }));

    private async Task EvaluateAsync()
    {
        if (_user is not { IsAdmin: true } user)
        {
            return;
        }
        _evaluationProblem = null;
        string? failed = await PageAction.RunAsync(Logger, "dry run", busy => _evaluating = busy, async () =>
            _round = await Source.EvaluateDryRunAsync(user.Token, _closing.Token));
        if (failed is not null)
        {
            _evaluationProblem = "The dry run failed. " + failed;
        }
    }

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }
}
