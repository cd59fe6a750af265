using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Utilities;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Overview;

/// <summary>The live ingest overview: asks <see cref="IOverviewSource"/> on load and then on a timer.</summary>
public sealed partial class OverviewPage : ComponentBase, IDisposable
{
    private const int InvalidHistogramRows = 10;

    private readonly CancellationTokenSource _closing = new();
    private OverviewView? _view;
    private IReadOnlyList<LinkedTile>? _tiles;
    private Problem? _problem;
    private DateTimeOffset? _lastSuccess;

    [Inject]
    private IOverviewSource Source { get; set; } = default!;

    [Inject]
    private IOptions<OverviewOptions> Options { get; set; } = default!;

    [Inject]
    private ILogger<OverviewPage> Logger { get; set; } = default!;

    [Inject]
    private IOverviewTilesSource Tiles { get; set; } = default!;

    [CascadingParameter]
    private Task<Microsoft.AspNetCore.Components.Authorization.AuthenticationState>? AuthState { get; set; }

    private Auth.PortalUser? _viewer;

    private sealed record Problem(string Title, string Message, bool ClusterUnavailable);

    private int RefreshSeconds => (int)Math.Round(Options.Value.RefreshInterval.TotalSeconds);

    private string RetryCaption => $"Retrying every {RefreshSeconds} s.";

    private string UpdatedCaption => _view?.GeneratedAt is { } at
        ? $"Figures as of {at.UtcDateTime:HH:mm:ss} UTC · refreshed every {RefreshSeconds} s"
        : $"Refreshed every {RefreshSeconds} s";

    private string LastSuccessText => _lastSuccess is { } at ? $" at {at.UtcDateTime:HH:mm:ss} UTC" : "";

    protected override async Task OnInitializedAsync()
    {
        _viewer = Auth.PortalUser.From(AuthState is null ? null : (await AuthState).User);
        await RefreshAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        // Only once the page is interactive: a prerendered instance is thrown away right after rendering.
        if (firstRender)
        {
            _ = PollAsync(_closing.Token);
        }
    }

    private async Task PollAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Options.Value.RefreshInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await InvokeAsync(async () =>
                {
                    await RefreshAsync();
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page was closed; the timer stops with it.
        }
    }

    // The ingest figures come from the cluster, the tiles from the silo's HTTP API: read both at once.
    private Task RefreshAsync() => Task.WhenAll(RefreshIngestAsync(), RefreshTilesAsync());

    private async Task RefreshTilesAsync()
    {
        try
        {
            _tiles = OverviewTilesView.From(await Tiles.GetAsync(_viewer, _closing.Token));
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The page was closed.
        }
        catch (Exception exception)
        {
            // Each tile reports its own failure; this is something else (a bug): keep the last tiles.
            OverviewLog.TilesFailed(Logger, exception);
        }
    }

    private async Task RefreshIngestAsync()
    {
        try
        {
            var overview = await Source.GetAsync(_closing.Token);
            _view = OverviewView.From(overview);
            _lastSuccess = DateTimeOffset.UtcNow;
            _problem = null;
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The page was closed while waiting for the cluster.
        }
        catch (ClusterUnavailableException exception)
        {
            _problem = new Problem("Cluster unavailable", exception.Message, ClusterUnavailable: true);
        }
        catch (Exception exception)
        {
            OverviewLog.LoadFailed(Logger, exception);
            _problem = new Problem(
                "Overview unavailable",
                "The overview could not be loaded. The details are in the portal's log.",
                ClusterUnavailable: false);
        }
    }

    private static string LagColor(LagLevel level) => level switch
    {
        LagLevel.CaughtUp => "var(--mud-palette-success)",
        LagLevel.Behind => "var(--mud-palette-warning)",
        _ => "var(--mud-palette-error)",
    };

    private static Color LagChipColor(LagLevel level) => level switch
    {
        LagLevel.CaughtUp => Color.Success,
        LagLevel.Behind => Color.Warning,
        _ => Color.Error,
    };

    private static string LagText(LagLevel level) => level switch
    {
        LagLevel.CaughtUp => "Caught up (< 10 s)",
        LagLevel.Behind => "Behind (< 1 min)",
        _ => "Stalled (≥ 1 min)",
    };

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }
}
