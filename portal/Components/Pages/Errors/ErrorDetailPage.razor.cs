using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Errors;

/// <summary>One Sentry issue: counts per day, stack, releases, alerts sent, and triage by signed-in people.</summary>
public sealed partial class ErrorDetailPage : ComponentBase, IDisposable
{
    private static readonly int[] DayChoices = [7, 14, 30, 90];
    private const int DefaultDays = 14;

    private readonly CancellationTokenSource _closing = new();
    private ErrorIssueDetail? _detail;
    private PageProblem? _problem;
    private bool _loading = true;
    private PortalUser? _user;
    private DateTimeOffset _now;
    private List<ChartSeries<double>> _series = [];
    private string[] _labels = [];
    private List<BreadcrumbItem> _crumbs = [];
    private string? _comment;
    private TimeSpan _snoozeFor = SnoozeChoices.Default;
    private bool _acting;
    private string? _actionMessage;
    private bool _actionFailed;
    private (string, string, int)? _loadedFor;

    [Inject] private IErrorsSource Source { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private ILogger<ErrorDetailPage> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter] public string Project { get; set; } = "";

    [Parameter] public string Fingerprint { get; set; } = "";

    /// <summary>How many UTC days the counts and chart cover (7, 14, 30 or 90).</summary>
    [SupplyParameterFromQuery(Name = "days")]
    public int? DaysParameter { get; set; }

    private int Days => DaysParameter is { } d && Array.IndexOf(DayChoices, d) >= 0 ? d : DefaultDays;

    private string SignInHref => "/signin?return=" + Uri.EscapeDataString("/" + Navigation.ToBaseRelativePath(Navigation.Uri));

    private string BusiestDay => _detail?.Days.Where(d => d.Events > 0).MaxBy(d => d.Events) is { } day
        ? $"{day.Date:yyyy-MM-dd} with {Format.Count(day.Events)} events from {Format.Count(day.Users)} users"
        : $"no events in the last {Days} days";

    protected override async Task OnInitializedAsync()
    {
        _user = AuthState is null ? null : PortalUser.From((await AuthState).User);
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedFor != (Project, Fingerprint, Days))
        {
            await LoadAsync();
        }
    }

    private async Task LoadAsync()
    {
        _loadedFor = (Project, Fingerprint, Days);
        _loading = true;
        _problem = null;
        _crumbs = [new BreadcrumbItem("Errors", "/errors"), new BreadcrumbItem(Project, "/errors?project=" + Uri.EscapeDataString(Project)), new BreadcrumbItem(Fingerprint, null, disabled: true)];
        try
        {
            Show(await Source.GetAsync(Project, Fingerprint, Days, _closing.Token));
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The page was closed.
        }
        catch (Exception e)
        {
            ErrorsLog.LoadFailed(Logger, "issue", e);
            _problem = PageProblem.From(e, "this issue");
        }
        finally
        {
            _loading = false;
        }
    }

    private void Show(ErrorIssueDetail? detail)
    {
        _detail = detail;
        _now = Clock.GetUtcNow();
        if (detail is null)
        {
            return;
        }
        _labels = detail.Days.Select(d => d.Date.ToString("MM-dd", CultureInfo.InvariantCulture)).ToArray();
        _series =
        [
            new ChartSeries<double> { Name = "Events", Data = new ChartData<double>(detail.Days.Select(d => (double)d.Events).ToList()) },
            new ChartSeries<double> { Name = "Users", Data = new ChartData<double>(detail.Days.Select(d => (double)d.Users).ToList()) },
        ];
    }

    private static string StateText(ErrorIssue issue) =>
        issue.State == "snoozed" && issue.SnoozedUntil is { } until ? $"snoozed until {Timestamps.Utc(until)}" : issue.State;

    private void OnDaysChanged(int days) =>
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("days", days == DefaultDays ? null : days));

    private async Task ActAsync(string action)
    {
        if (_user is null || _detail is null)
        {
            return;
        }
        string? comment = string.IsNullOrWhiteSpace(_comment) ? null : _comment.Trim();
        DateTimeOffset? until = action == "snooze" ? Clock.GetUtcNow() + _snoozeFor : null;
        string? failed = await PageAction.RunAsync(Logger, action, busy => _acting = busy, async () =>
        {
            var after = await Source.ActAsync(Project, Fingerprint, new IssueAction(action, comment, until), _user.Token, _closing.Token);
            // The action answers the issue over the silo's default range; keep the chart's range.
            Show(await Source.GetAsync(Project, Fingerprint, Days, _closing.Token) ?? after);
            _comment = null;
            _actionMessage = action switch
            {
                "comment" => "Comment added.",
                "snooze" => $"Snoozed until {Timestamps.Utc(until)}.",
                _ => $"Done: {action}.",
            };
        });
        _actionFailed = failed is not null;
        _actionMessage = failed ?? _actionMessage;
    }

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }
}
