using System.Collections.Immutable;
using Microsoft.AspNetCore.Components;
using MudBlazor;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Aggregates;

/// <summary>
/// The aggregates explorer: picks sensible defaults for what the URL leaves open (the nightly channel, the newest
/// version, its newest dates), reads the histograms and shows them through <see cref="AggregatesView"/>.
/// </summary>
public sealed partial class AggregatesPage : ComponentBase
{
    private AggregateFilters _filters = AggregateFilters.FromQuery(null, null, null, null, null, null, null, null, null, null, null);
    private string? _loadedKey;
    private bool _loading = true;
    private SiloReadProblem? _problem;
    private ImmutableArray<string> _channels = [];
    private string? _channel;
    private ImmutableArray<string> _versions = [];
    private string? _version;
    private ImmutableArray<string> _versionDates = [];
    private IReadOnlyCollection<string> _dates = [];
    private ImmutableArray<string> _queriedDates = [];
    private AggregateFilterOptions? _options;
    private AggregatesView? _view;
    private string? _compareA;
    private string? _compareB;
    private List<ChartSeries<double>> _histogramSeries = [];
    private string[] _bucketLabels = [];
    private List<ChartSeries<double>> _evolutionSeries = [];
    private string[] _evolutionLabels = [];
    private List<ChartSeries<double>> _compareSeries = [];

    /// <summary>What a 403 means here: a restricted channel (Aggregates:RestrictedChannels) read without the token.</summary>
    public const string ReadTokenHint = "this channel is restricted; the portal needs Portal:Silo:ReadToken set to one of the silo's Aggregates:ReadTokens";

    [Inject] private IAggregatesSource Source { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private ILogger<AggregatesPage> Logger { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "kind")] public string? Kind { get; set; }
    [SupplyParameterFromQuery(Name = "channel")] public string? Channel { get; set; }
    [SupplyParameterFromQuery(Name = "version")] public string? Version { get; set; }
    [SupplyParameterFromQuery(Name = "metric")] public string? Metric { get; set; }
    [SupplyParameterFromQuery(Name = "dates")] public string? Dates { get; set; }
    [SupplyParameterFromQuery(Name = "application")] public string? Application { get; set; }
    [SupplyParameterFromQuery(Name = "architecture")] public string? Architecture { get; set; }
    [SupplyParameterFromQuery(Name = "os")] public string? Os { get; set; }
    [SupplyParameterFromQuery(Name = "process")] public string? Process { get; set; }
    [SupplyParameterFromQuery(Name = "label")] public string? Label { get; set; }
    [SupplyParameterFromQuery(Name = "compare")] public string? Compare { get; set; }

    /// <summary>The channels the silo lists, plus the one in the URL (restricted channels are not listed but may be read with a token).</summary>
    private IEnumerable<string> ChannelChoices => _channel is null || _channels.Contains(_channel) ? _channels : _channels.Add(_channel);

    protected override Task OnParametersSetAsync() =>
        ShowAsync(AggregateFilters.FromQuery(Kind, Channel, Version, Metric, Dates, Application, Architecture, Os, Process, Label, Compare));

    private async Task ShowAsync(AggregateFilters filters)
    {
        if (filters.Key == _loadedKey)
        {
            return;
        }
        _loadedKey = filters.Key;
        _filters = filters;
        _compareA = filters.CompareA;
        _compareB = filters.CompareB;
        _loading = true;
        _problem = null;
        _view = null;
        try
        {
            await LoadAsync(filters);
        }
        catch (Exception e)
        {
            if (e is not SiloApiException)
            {
                DataPagesLog.LoadFailed(Logger, "aggregates", e);
            }
            _problem = SiloReadProblem.From(e, "aggregates", ReadTokenHint);
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task LoadAsync(AggregateFilters filters)
    {
        var ct = CancellationToken.None;
        _channels = await Source.ChannelsAsync(filters.Kind, ct);
        _channel = filters.Channel ?? (_channels.Contains("nightly") ? "nightly" : _channels.FirstOrDefault());
        if (_channel is null)
        {
            return;
        }
        var dates = await Source.DatesAsync(filters.Kind, _channel, ct);
        _versions = [.. dates.Select(d => d.Version).Distinct().OrderByDescending(VersionKey)];
        _version = filters.Version ?? _versions.FirstOrDefault();
        if (_version is null)
        {
            _channel = filters.Channel is null ? null : _channel;
            _options = null;
            return;
        }
        _versionDates = [.. dates.Where(d => d.Version == _version).Select(d => d.Date).OrderDescending(StringComparer.Ordinal)];
        _queriedDates = filters.Dates.IsEmpty
            ? [.. _versionDates.Take(AggregateFilters.DefaultDateCount).Order(StringComparer.Ordinal)]
            : [.. filters.Dates.Order(StringComparer.Ordinal)];
        _dates = _queriedDates;
        _options = await Source.FiltersAsync(_channel, _version, ct);
        if (filters.Metric is null || _queriedDates.IsEmpty)
        {
            return;
        }
        var result = await Source.HistogramsAsync(filters.ToQuery(_channel, _version, filters.Metric, _queriedDates), ct);
        if (result is null || result.Data.IsEmpty)
        {
            return;
        }
        _view = AggregatesView.From(filters.Metric, result, filters.CompareA, filters.CompareB);
        _queriedDates = [.. result.Data.Select(d => d.Date).Distinct()];
        BuildCharts(_view);
    }

    private void BuildCharts(AggregatesView view)
    {
        _bucketLabels = [.. view.Buckets];
        _histogramSeries = [new() { Name = view.Metric, Data = new ChartData<double>([.. view.Summed]) }];
        _evolutionLabels = [.. view.Evolution.Select(r => r.Date)];
        _evolutionSeries = [new() { Name = "mean", Data = new ChartData<double>([.. view.Evolution.Select(r => r.Mean ?? 0)]) }];
        for (int p = 0; p < BucketPercentiles.Shown.Length; p++)
        {
            int index = p;
            _evolutionSeries.Add(new() { Name = $"p{BucketPercentiles.Shown[p]}", Data = new ChartData<double>([.. view.Evolution.Select(r => r.Percentiles[index] ?? 0)]) });
        }
        _compareSeries = [.. view.Compared.Select(c => new ChartSeries<double> { Name = c.Date, Data = new ChartData<double>([.. c.Shares]) })];
    }

    private Task<IEnumerable<string>> SearchMetricsAsync(string? text, CancellationToken cancellationToken)
    {
        var metrics = _options?.Metrics ?? [];
        IEnumerable<string> found = string.IsNullOrWhiteSpace(text)
            ? metrics
            : metrics.Where(m => m.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase))
                .OrderBy(m => m.StartsWith(text.Trim(), StringComparison.OrdinalIgnoreCase) ? 0 : 1)
                .ThenBy(m => m, StringComparer.Ordinal);
        return Task.FromResult(found);
    }

    private Task DatesChangedAsync(IEnumerable<string>? dates) =>
        NavigateAsync(_filters with { Dates = [.. (dates ?? []).Order(StringComparer.Ordinal)], CompareA = null, CompareB = null });

    private async Task NavigateAsync(AggregateFilters filters)
    {
        // Keep the defaults the page chose visible in the URL, so what is shown can be shared as is.
        filters = filters with { Channel = filters.Channel ?? _channel, Version = filters.Version ?? (filters.Channel == _channel ? _version : null) };
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(filters.ToQuery()));
        await ShowAsync(filters);
    }

    // Major versions sort numerically ("120" after "99").
    private static (int, string) VersionKey(string version) =>
        (int.TryParse(version.Split('.')[0], out var major) ? major : -1, version);
}
