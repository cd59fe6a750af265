using System.Collections.Immutable;
using System.Security.Claims;
using System.Text.Json;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Telemetry.Contracts.Ingest;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Pages.Overview;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

/// <summary>An <see cref="IOverviewTilesSource"/> that answers what a test gives it and remembers who asked.</summary>
internal sealed class FakeOverviewTilesSource : IOverviewTilesSource
{
    public Func<OverviewTiles> Answer { get; set; } = () => new OverviewTiles(
        TileResult<int>.Ok(0), TileResult<int>.Ok(0), TileResult<IReadOnlyList<TopErrorIssue>>.Ok([]),
        TileResult<IReadOnlyList<ChannelCrashRate>>.Ok([]), null);

    public List<PortalUser?> Viewers { get; } = [];

    public Task<OverviewTiles> GetAsync(PortalUser? viewer, CancellationToken ct)
    {
        lock (Viewers)
        {
            Viewers.Add(viewer);
        }
        return Task.FromResult(Answer());
    }
}

public sealed class OverviewTilesTests : BunitContext, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FakeOverviewTilesSource _tiles = new();

    public OverviewTilesTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IOverviewSource>(new QuietIngest());
        Services.AddSingleton<IOverviewTilesSource>(_tiles);
        Services.AddSingleton(Options.Create(new OverviewOptions { RefreshInterval = TimeSpan.FromHours(1) }));
    }

    [Fact]
    public void The_errors_tile_warns_when_the_rule_evaluator_is_stalled_and_says_when_it_last_ran_otherwise()
    {
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var errors = TileResult<IReadOnlyList<TopErrorIssue>>.Ok([new TopErrorIssue("web", "fp1", "TypeError: x", 10, 2)]);
        OverviewTiles With(SentryEvaluatorHealth health) => new(
            TileResult<int>.Ok(0), TileResult<int>.Ok(0), errors, TileResult<IReadOnlyList<ChannelCrashRate>>.Ok([]), null)
        {
            Evaluator = TileResult<SentryEvaluatorHealth>.Ok(health),
        };

        var healthy = OverviewTilesView.From(With(new SentryEvaluatorHealth(now.AddSeconds(-20), false, 1)), now).Single(t => t.Key == "errors");
        Assert.False(healthy.Problem);
        Assert.Equal("Rules evaluated: last round 20 s ago", healthy.Lines[^1]);

        var stalled = OverviewTilesView.From(With(new SentryEvaluatorHealth(now.AddMinutes(-12), true, 1)), now).Single(t => t.Key == "errors");
        Assert.True(stalled.Problem);
        Assert.Equal("Error alerts are stalled: last round 12 min 0 s ago (every 1 min expected)", stalled.Caption);

        // Just started: no round yet is said, without a warning.
        var never = OverviewTilesView.From(With(new SentryEvaluatorHealth(null, true, 1)), now).Single(t => t.Key == "errors");
        Assert.False(never.Problem);
        Assert.Equal("Rules evaluated: no round completed yet", never.Lines[^1]);
    }

    [Fact]
    public void Each_tile_shows_its_figure_and_links_to_its_page()
    {
        var auth = AddAuthorization();
        auth.SetAuthorized("ada@example.org");
        auth.SetRoles(PortalAuth.AdminRole);
        auth.SetClaims(new Claim(ClaimTypes.Email, "ada@example.org"), new Claim(PortalUser.TokenClaim, "session-ada"));
        _tiles.Answer = () => new OverviewTiles(
            TileResult<int>.Ok(4),
            TileResult<int>.Ok(17),
            TileResult<IReadOnlyList<TopErrorIssue>>.Ok(
            [
                new TopErrorIssue("web", "fp1", "TypeError: x is undefined", 1520, 300),
                new TopErrorIssue("web", "fp2", "NetworkError", 12, 3),
            ]),
            TileResult<IReadOnlyList<ChannelCrashRate>>.Ok([new ChannelCrashRate("release", "2026-11-30", 2.345), new ChannelCrashRate("nightly", "2026-11-29", 7.1)]),
            TileResult<OutboxCounts>.Ok(new OutboxCounts(3, 2, false)));

        var page = Render<OverviewPage>();

        Assert.Equal(
            [("regressions", "/regressions"), ("expiring", "/expiring"), ("errors", "/errors"), ("crash", "/crash-rates"), ("outbox", "/admin/outbox")],
            page.FindAll("a.tile-link").Select(a => (a.GetAttribute("data-testid")!["tile-".Length..^"-link".Length], a.GetAttribute("href")!)).ToList());
        Assert.Equal("4", Text(page, "tile-regressions-value"));
        Assert.Equal("17", Text(page, "tile-expiring-value"));
        Assert.Equal("1,520", Text(page, "tile-errors-value"));
        Assert.Contains("TypeError: x is undefined", Text(page, "tile-errors-caption"));
        Assert.Equal(["1,520 · TypeError: x is undefined", "12 · NetworkError"], page.FindAll("[data-testid=tile-errors-line]").Select(e => e.TextContent.Trim()).ToList());
        Assert.Equal("2.35", Text(page, "tile-crash-value"));
        Assert.Equal(["release: 2.35 (2026-11-30)", "nightly: 7.10 (2026-11-29)"], page.FindAll("[data-testid=tile-crash-line]").Select(e => e.TextContent.Trim()).ToList());
        Assert.Equal("3", Text(page, "tile-outbox-value"));
        Assert.Equal("pending · 2 failed: open to retry", Text(page, "tile-outbox-caption"));
        Assert.Equal("session-ada", _tiles.Viewers[0]?.Token);
        Assert.True(_tiles.Viewers[0]?.IsAdmin);
    }

    [Fact]
    public void Without_signing_in_the_outbox_tile_says_it_is_for_administrators_and_a_failing_tile_says_why()
    {
        _tiles.Answer = () => new OverviewTiles(
            TileResult<int>.Failed("the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)"),
            TileResult<int>.Ok(0),
            TileResult<IReadOnlyList<TopErrorIssue>>.Ok([]),
            TileResult<IReadOnlyList<ChannelCrashRate>>.Ok([]),
            null);

        var page = Render<OverviewPage>();

        Assert.Null(_tiles.Viewers[0]);
        Assert.Equal("–", Text(page, "tile-regressions-value"));
        Assert.Equal("The silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)", Text(page, "tile-regressions-caption"));
        Assert.Equal("No probe expires in the next 42 days", Text(page, "tile-expiring-caption"));
        Assert.Equal("No error event in the last 7 days", Text(page, "tile-errors-caption"));
        Assert.Equal("No usage reported in the last 7 days", Text(page, "tile-crash-caption"));
        Assert.Equal("Administrators see the outbox here", Text(page, "tile-outbox-caption"));
    }

    [Fact]
    public void Tiles_update_live_on_the_refresh_timer()
    {
        Services.AddSingleton(Options.Create(new OverviewOptions { RefreshInterval = TimeSpan.FromMilliseconds(40) }));
        int open = 1;
        _tiles.Answer = () => new OverviewTiles(
            TileResult<int>.Ok(Volatile.Read(ref open)), TileResult<int>.Ok(0), TileResult<IReadOnlyList<TopErrorIssue>>.Ok([]),
            TileResult<IReadOnlyList<ChannelCrashRate>>.Ok([]), null);

        var page = Render<OverviewPage>();
        Assert.Equal("1", Text(page, "tile-regressions-value"));

        Volatile.Write(ref open, 6);

        page.WaitForAssertion(() => Assert.Equal("6", Text(page, "tile-regressions-value")), Wait);
    }

    [Fact]
    public void The_crash_tile_takes_each_channels_newest_day_with_a_rate()
    {
        using var doc = JsonDocument.Parse("""
            {"rows":[
              {"date":"2026-11-28","group":{"channel":"nightly"},"main_crash_rate":5.0},
              {"date":"2026-11-29","group":{"channel":"nightly"},"main_crash_rate":6.5},
              {"date":"2026-11-30","group":{"channel":"nightly"},"main_crash_rate":null},
              {"date":"2026-11-30","group":{"channel":"release"},"main_crash_rate":1.25},
              {"date":"2026-11-29","group":{"channel":"beta"},"main_crash_rate":3.0}
            ]}
            """);

        var rates = OverviewTilesService.LatestPerChannel(doc.RootElement);

        Assert.Equal(
            [new ChannelCrashRate("release", "2026-11-30", 1.25), new ChannelCrashRate("beta", "2026-11-29", 3.0), new ChannelCrashRate("nightly", "2026-11-29", 6.5)],
            rates);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private static string Text(IRenderedComponent<OverviewPage> page, string testId) => page.Find($"[data-testid={testId}]").TextContent.Trim();

    private sealed class QuietIngest : IOverviewSource
    {
        public Task<IngestOverview> GetAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new IngestOverview { AcceptedTotal = 1, GeneratedAt = DateTimeOffset.UtcNow });
    }
}
