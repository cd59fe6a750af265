using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.CrashRates;

/// <summary>Crash rates per 1,000 usage hours with the silo's 95 % intervals; every filter lives in the URL.</summary>
public sealed partial class CrashRatesPage : ComponentBase
{
    private CrashRateFilters? _filters;
    private string? _loadedKey;
    private EditState _edit = new();
    private IReadOnlyList<CrashRateRow> _rows = [];
    private CrashRatesView? _view;
    private SiloReadProblem? _problem;
    private string? _sql;
    private bool _loading = true;
    private bool _copied;

    [Inject] private ICrashRatesSource Source { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private IJSRuntime Js { get; set; } = default!;
    [Inject] private ILogger<CrashRatesPage> Logger { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "from")] public string? From { get; set; }
    [SupplyParameterFromQuery(Name = "to")] public string? To { get; set; }
    [SupplyParameterFromQuery(Name = "by")] public string? By { get; set; }
    [SupplyParameterFromQuery(Name = "measure")] public string? Measure { get; set; }
    [SupplyParameterFromQuery(Name = "group")] public string? Group { get; set; }
    [SupplyParameterFromQuery(Name = "build_version")] public string? BuildVersion { get; set; }
    [SupplyParameterFromQuery(Name = "build_id")] public string? BuildId { get; set; }
    [SupplyParameterFromQuery(Name = "channel")] public string? Channel { get; set; }
    [SupplyParameterFromQuery(Name = "application")] public string? Application { get; set; }
    [SupplyParameterFromQuery(Name = "os_name")] public string? OsName { get; set; }
    [SupplyParameterFromQuery(Name = "os_version")] public string? OsVersion { get; set; }
    [SupplyParameterFromQuery(Name = "architecture")] public string? Architecture { get; set; }
    [SupplyParameterFromQuery(Name = "country")] public string? Country { get; set; }
    [SupplyParameterFromQuery(Name = "experiment_id")] public string? ExperimentId { get; set; }
    [SupplyParameterFromQuery(Name = "experiment_branch")] public string? ExperimentBranch { get; set; }
    [SupplyParameterFromQuery(Name = "e10s_enabled")] public string? E10sEnabled { get; set; }
    [SupplyParameterFromQuery(Name = "e10s_cohort")] public string? E10sCohort { get; set; }
    [SupplyParameterFromQuery(Name = "gfx_compositor")] public string? GfxCompositor { get; set; }

    protected override async Task OnParametersSetAsync()
    {
        var dimensions = new Dictionary<string, string?>
        {
            ["build_version"] = BuildVersion, ["build_id"] = BuildId, ["channel"] = Channel, ["application"] = Application,
            ["os_name"] = OsName, ["os_version"] = OsVersion, ["architecture"] = Architecture, ["country"] = Country,
            ["experiment_id"] = ExperimentId, ["experiment_branch"] = ExperimentBranch, ["e10s_enabled"] = E10sEnabled,
            ["e10s_cohort"] = E10sCohort, ["gfx_compositor"] = GfxCompositor,
        };
        var filters = CrashRateFilters.FromQuery(From, To, By, Measure, Group, dimensions, DateOnly.FromDateTime(DateTime.UtcNow));
        await ShowAsync(filters);
    }

    private async Task ShowAsync(CrashRateFilters filters)
    {
        string key = Key(filters);
        if (key == _loadedKey)
        {
            return;
        }
        _loadedKey = key;
        _filters = filters;
        _edit = EditState.Of(filters);
        _loading = true;
        _problem = null;
        try
        {
            _sql = CrashRatesSql.Build(filters.ToRequest(), filters.Measure);
            _rows = await Source.GetAsync(filters.ToRequest(), CancellationToken.None);
            _view = CrashRatesView.From(_rows, filters.Measure);
        }
        catch (Exception e)
        {
            if (e is not SiloApiException and not ArgumentException)
            {
                DataPagesLog.LoadFailed(Logger, "crash rates", e);
            }
            _problem = e is ArgumentException a
                ? new SiloReadProblem("These filters cannot be used", a.Message, Unreachable: false)
                : SiloReadProblem.From(e, "crash rates");
            _view = null;
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task ApplyAsync()
    {
        var dims = _edit.Dimensions.ToDictionary(d => d.Key, d => d.Value);
        var filters = CrashRateFilters.FromQuery(_edit.From, _edit.To, _edit.By, _edit.Measure, _edit.Group ?? "", dims, DateOnly.FromDateTime(DateTime.UtcNow));
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(filters.ToQuery()));
        await ShowAsync(filters);
    }

    private async Task ResetAsync()
    {
        var filters = CrashRateFilters.FromQuery(null, null, null, null, null, new Dictionary<string, string?>(), DateOnly.FromDateTime(DateTime.UtcNow));
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(filters.ToQuery()));
        await ShowAsync(filters);
    }

    private async Task CopySqlAsync()
    {
        await Js.InvokeVoidAsync("navigator.clipboard.writeText", _sql);
        _copied = true;
    }

    private CrashPoint Point(CrashRateRow row) => _filters?.Measure == "content"
        ? new CrashPoint(row.Date, row.ContentRate, row.ContentLow, row.ContentHigh, row.UsageHours, row.ContentCrashes)
        : new CrashPoint(row.Date, row.MainRate, row.MainLow, row.MainHigh, row.UsageHours, row.MainCrashes);

    internal static string Number(double value) => value.ToString(Math.Abs(value) >= 100 ? "N0" : "0.###", CultureInfo.InvariantCulture);

    private static string Key(CrashRateFilters f) => string.Join('&', f.ToQuery().Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>The filter form's values until "Apply".</summary>
    private sealed class EditState
    {
        public string? From { get; set; }
        public string? To { get; set; }
        public string By { get; set; } = "activity";
        public string Measure { get; set; } = "main";
        public string? Group { get; set; }
        public Dictionary<string, string?> Dimensions { get; } = new(StringComparer.Ordinal);

        public string? Dimension(string name) => Dimensions.TryGetValue(name, out var v) ? v : null;

        public static EditState Of(CrashRateFilters f)
        {
            var state = new EditState { From = f.From, To = f.To, By = f.By, Measure = f.Measure, Group = string.Join(',', f.GroupBy) };
            foreach (var (name, value) in f.Filters)
            {
                state.Dimensions[name] = value;
            }
            return state;
        }
    }
}
