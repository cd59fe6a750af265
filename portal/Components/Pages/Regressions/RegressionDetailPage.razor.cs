using System.Collections.Immutable;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Pages.Aggregates;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Regressions;

/// <summary>One regression: its distributions, the metric around the build date, its history and triage.</summary>
public sealed partial class RegressionDetailPage : ComponentBase
{
    public const int EvolutionDays = 7;

    private RegressionDetail? _detail;
    private bool _notFound;
    private SiloReadProblem? _problem;
    private ImmutableArray<BuildDatePoint>? _evolution;
    private SiloReadProblem? _evolutionProblem;
    private PortalUser? _user;
    private string? _comment;
    private string? _bug;
    private int _snoozeDays = 7;
    private bool _busy;
    private string? _actionMessage;
    private bool _actionFailed;
    private List<ChartSeries<double>> _distributionSeries = [];
    private string[] _bucketLabels = [];
    private List<ChartSeries<double>> _evolutionSeries = [];
    private string[] _evolutionLabels = [];
    private List<BreadcrumbItem> _crumbs = [];

    [Parameter] public long Id { get; set; }

    [Inject] private IRegressionsSource Source { get; set; } = default!;
    [Inject] private ILogger<RegressionDetailPage> Logger { get; set; } = default!;
    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        _user = AuthState is null ? null : PortalUser.From((await AuthState).User);
        _crumbs = [new("Regressions", "/regressions"), new($"#{Id}", null, disabled: true)];
        await LoadAsync();
        if (_detail is not null)
        {
            await LoadEvolutionAsync(_detail.Row);
        }
    }

    private async Task LoadAsync()
    {
        try
        {
            _detail = await Source.GetAsync(Id, CancellationToken.None);
            _notFound = _detail is null;
            _problem = null;
            if (_detail is not null)
            {
                BuildDistributionChart(_detail);
            }
        }
        catch (Exception e)
        {
            if (e is not SiloApiException)
            {
                DataPagesLog.LoadFailed(Logger, "regression", e);
            }
            _problem = SiloReadProblem.From(e, "regression");
        }
    }

    private async Task LoadEvolutionAsync(RegressionRow row)
    {
        try
        {
            _evolution = await Source.EvolutionAsync(row.Channel, row.Metric, row.BuildDate, EvolutionDays, CancellationToken.None);
            var points = _evolution.Value;
            var stats = points.Select(p => new BucketPercentiles(p.LowerBounds, p.Counts)).ToList();
            _evolutionLabels = [.. points.Select(p => p.Date == row.BuildDate ? p.Date + " ◆" : p.Date)];
            _evolutionSeries =
            [
                new() { Name = "mean", Data = new ChartData<double>([.. points.Select((p, i) => stats[i].Mean(p.Sum) ?? 0)]) },
                new() { Name = "median", Data = new ChartData<double>([.. stats.Select(s => s.Percentile(50) ?? 0)]) },
            ];
        }
        catch (Exception e)
        {
            if (e is not SiloApiException)
            {
                DataPagesLog.LoadFailed(Logger, "regression evolution", e);
            }
            _evolutionProblem = SiloReadProblem.From(e, "evolution");
        }
    }

    private void BuildDistributionChart(RegressionDetail detail)
    {
        _bucketLabels = [.. detail.Buckets];
        _distributionSeries =
        [
            // In percent: shares (0-1) drew as flat bars against the chart's smallest axis step of 20.
            new() { Name = $"candidate {detail.Row.BuildDate}", Data = new ChartData<double>([.. detail.Candidate.Select(s => s * 100)]) },
            new() { Name = "reference", Data = new ChartData<double>([.. detail.Reference.Select(s => s * 100)]) },
        ];
    }

    private async Task ActAsync(string action)
    {
        if (_user is null || _detail is null)
        {
            return;
        }
        if (action == "comment" && string.IsNullOrWhiteSpace(_comment) && string.IsNullOrWhiteSpace(_bug))
        {
            (_actionMessage, _actionFailed) = ("Write a comment or a bug link first.", true);
            return;
        }
        _busy = true;
        try
        {
            var now = DateTimeOffset.UtcNow;
            var request = new RegressionAction(action, _comment, _bug, action == "snooze" ? now.AddDays(_snoozeDays) : null);
            await Source.ActAsync(Id, request, _user.Token, CancellationToken.None);
            (_actionMessage, _actionFailed) = ($"Recorded: {action} by {_user.Email}.", false);
            _comment = null;
            _bug = null;
            await LoadAsync();
        }
        catch (SiloApiException e)
        {
            DataPagesLog.Refused(Logger, "regression", action, e.Message);
            (_actionMessage, _actionFailed) = (e.Status == System.Net.HttpStatusCode.Conflict
                ? $"Not recorded: the regression is {_detail.Row.State}, which does not allow \"{action}\" ({e.Message})."
                : $"Not recorded: {e.Message}.", true);
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task SubscribeAsync()
    {
        if (_user is null || _detail is null)
        {
            return;
        }
        _busy = true;
        try
        {
            long id = await Source.SubscribeAsync(_detail.Row.Channel, _detail.Row.Metric, _user.Token, CancellationToken.None);
            (_actionMessage, _actionFailed) = (string.Create(CultureInfo.InvariantCulture,
                $"Subscribed (subscription {id}): you will be mailed about new regressions of {_detail.Row.Metric} on {_detail.Row.Channel}."), false);
        }
        catch (SiloApiException e)
        {
            DataPagesLog.Refused(Logger, "regression", "subscribe", e.Message);
            (_actionMessage, _actionFailed) = ($"Not subscribed: {e.Message}.", true);
        }
        finally
        {
            _busy = false;
        }
    }
}
