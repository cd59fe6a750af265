using System.Collections.Immutable;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Telemetry.Contracts.Ingest;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Components.Pages.Overview;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

// IAsyncLifetime: MudBlazor registers services that only implement IAsyncDisposable, so the container must be
// disposed asynchronously before xunit 2 calls the synchronous Dispose.
public sealed class OverviewPageTests : BunitContext, IAsyncLifetime
{
    // Generous: the machine is shared, and a wait only lasts this long when the test is failing.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private static readonly DateTimeOffset Now = new(2026, 11, 20, 14, 30, 20, TimeSpan.Zero);

    private readonly FakeOverviewSource _source = new();

    public OverviewPageTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IOverviewSource>(_source);
        // The service tiles have their own tests (OverviewTilesTests); here they answer zeros.
        Services.AddSingleton<IOverviewTilesSource>(new FakeOverviewTilesSource());
        // Long enough that the timer never fires in a test that does not ask for it.
        UseRefreshInterval(TimeSpan.FromHours(1));
    }

    [Fact]
    public void Shows_accepted_count_rejections_by_reason_lag_and_channels()
    {
        _source.Answer(() => Busy());

        var page = Render<OverviewPage>();

        Assert.Equal("12,345", Text(page, "accepted-value"));
        Assert.Equal("350 in the last hour", Text(page, "accepted-caption"));
        Assert.Equal("10", Text(page, "rejected-value"));
        Assert.Equal("3 in the last hour", Text(page, "rejected-caption"));
        Assert.Equal("4", Text(page, "duplicates-value"));
        Assert.Equal("5.0 MiB", Text(page, "bytes-value"));

        var reasons = page.FindAll("[data-testid=rejected-reason]")
            .Select(row => (row.GetAttribute("data-reason"), row.QuerySelector("[data-testid=rejected-reason-count]")!.TextContent.Trim()))
            .ToList();
        Assert.Equal([("invalid_json", "7"), ("too_large", "3")], reasons);

        Assert.Equal("42 s", Text(page, "lag-value"));
        Assert.Equal("Behind", page.Find("[data-testid=lag-level]").GetAttribute("data-level"));

        var channels = page.FindAll("[data-testid=channel]")
            .Select(row => (
                row.GetAttribute("data-channel"),
                string.Join(",", row.QuerySelectorAll("[data-testid=channel-version]").Select(v => v.TextContent.Trim()))))
            .ToList();
        Assert.Equal([("release", "121,120"), ("beta", "122")], channels);

        Assert.NotNull(page.Find("[data-testid=accepted-sparkline] svg"));
        Assert.Empty(page.FindAll("[data-testid=overview-empty]"));
        Assert.Empty(page.FindAll("[data-testid=overview-error]"));
    }

    [Fact]
    public void Sparklines_fill_their_tile_and_label_their_axes_in_legible_text()
    {
        _source.Answer(() => Busy());

        var page = Render<OverviewPage>();

        var sparkline = page.Find("[data-testid=accepted-sparkline]");
        var svg = sparkline.QuerySelector("svg")!;
        // As wide as the tile, a readable height, stretched rather than letter-boxed to a few pixels.
        Assert.Equal("100%", svg.GetAttribute("width"));
        Assert.InRange(int.Parse(svg.GetAttribute("height")!), 48, 200);
        Assert.Equal("none", svg.GetAttribute("preserveAspectRatio"));
        Assert.Contains(svg.GetAttribute("height") + "px", sparkline.QuerySelector(".sparkline-plot")!.GetAttribute("style"));
        // No text inside the stretched SVG (it would be distorted and tiny); labels are caption-size HTML text.
        Assert.Empty(svg.QuerySelectorAll("text"));
        var axis = sparkline.QuerySelectorAll(".sparkline-axis .mud-typography-caption").Select(e => e.TextContent.Trim()).ToList();
        Assert.Equal(["13:31", "14:30 UTC"], axis);
        Assert.Equal("peak 200 per minute", page.Find("[data-testid=accepted-sparkline-peak]").TextContent.Trim());

        // One point per minute of the last hour; the busiest minute is the highest point.
        var points = page.Find("[data-testid=accepted-sparkline-line]").GetAttribute("d")!
            .Split(['M', 'L'], StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Trim().Split(','))
            .Select(xy => (X: double.Parse(xy[0], System.Globalization.CultureInfo.InvariantCulture), Y: double.Parse(xy[1], System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(60, points.Count);
        Assert.Equal(57, points.IndexOf(points.MinBy(p => p.Y)));
        Assert.Equal(points[0].Y, points[1].Y);
    }

    [Theory]
    [InlineData(0, "CaughtUp", "success")]
    [InlineData(9.9, "CaughtUp", "success")]
    [InlineData(10, "Behind", "warning")]
    [InlineData(59.9, "Behind", "warning")]
    [InlineData(60, "Stalled", "error")]
    [InlineData(7200, "Stalled", "error")]
    public void Colors_the_lag_green_under_10_s_orange_under_a_minute_red_otherwise(double lagSeconds, string level, string color)
    {
        _source.Answer(() => Busy() with { AggregationLagSeconds = lagSeconds });

        var page = Render<OverviewPage>();

        var chip = page.Find("[data-testid=lag-level]");
        Assert.Equal(level, chip.GetAttribute("data-level"));
        Assert.Contains($"mud-chip-color-{color}", chip.ClassName);
        Assert.Contains($"var(--mud-palette-{color})", page.Find("[data-testid=lag-value]").GetAttribute("style"));
    }

    [Fact]
    public void Shows_the_empty_state_when_nothing_has_been_ingested()
    {
        _source.Answer(() => new IngestOverview { GeneratedAt = Now });

        var page = Render<OverviewPage>();

        Assert.Contains("No pings ingested yet", page.Find("[data-testid=overview-empty]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=accepted]"));
        Assert.Empty(page.FindAll("[data-testid=overview-error]"));
    }

    [Fact]
    public void A_quiet_last_hour_with_totals_is_not_empty()
    {
        _source.Answer(() => new IngestOverview { AcceptedTotal = 5, GeneratedAt = Now });

        var page = Render<OverviewPage>();

        Assert.Empty(page.FindAll("[data-testid=overview-empty]"));
        Assert.Equal("5", Text(page, "accepted-value"));
        Assert.Equal("0 in the last hour", Text(page, "accepted-caption"));
    }

    [Fact]
    public void Shows_a_readable_card_when_the_cluster_is_unavailable()
    {
        _source.Fail(() => new ClusterUnavailableException("No silo gateway has answered yet (3 attempts). Retrying."));

        var page = Render<OverviewPage>();

        var card = page.Find("[data-testid=overview-error]");
        Assert.Contains("Cluster unavailable", card.TextContent);
        Assert.Equal("No silo gateway has answered yet (3 attempts). Retrying.", Text(page, "overview-error-message"));
        Assert.Empty(page.FindAll("[data-testid=accepted]"));
        Assert.Empty(page.FindAll("[data-testid=overview-loading]"));
    }

    [Fact]
    public void An_unexpected_error_shows_no_exception_details()
    {
        _source.Fail(() => ThrownWithStackTrace(new InvalidOperationException("connection string Password=hunter2")));

        var page = Render<OverviewPage>();

        var card = page.Find("[data-testid=overview-error]");
        Assert.Contains("Overview unavailable", card.TextContent);
        Assert.DoesNotContain("hunter2", page.Markup);
        Assert.DoesNotContain("InvalidOperationException", page.Markup);
        Assert.DoesNotContain(" at Telemetry.", page.Markup);
    }

    [Fact]
    public void Shows_skeletons_until_the_first_answer_arrives()
    {
        var answer = new TaskCompletionSource<IngestOverview>();
        _source.Answer(() => answer.Task);

        var page = Render<OverviewPage>();

        Assert.NotNull(page.Find("[data-testid=overview-loading]"));
        Assert.Empty(page.FindAll("[data-testid=accepted]"));

        answer.SetResult(Busy());

        page.WaitForAssertion(() => Assert.Equal("12,345", Text(page, "accepted-value")), Wait);
        Assert.Empty(page.FindAll("[data-testid=overview-loading]"));
    }

    [Fact]
    public void Refreshes_on_the_timer_and_recovers_after_the_cluster_comes_back()
    {
        UseRefreshInterval(TimeSpan.FromMilliseconds(50));
        var calls = 0;
        _source.Answer(() =>
        {
            calls++;
            return calls switch
            {
                1 => Busy(),
                2 => throw new ClusterUnavailableException("The cluster could not be reached."),
                _ => Busy() with { AcceptedTotal = 20_000 },
            };
        });

        var page = Render<OverviewPage>();
        Assert.Equal("12,345", Text(page, "accepted-value"));

        page.WaitForAssertion(() => Assert.Equal("20,000", Text(page, "accepted-value")), Wait);
        Assert.True(calls >= 3);
        Assert.Empty(page.FindAll("[data-testid=overview-stale]"));
    }

    [Fact]
    public void Keeps_the_last_figures_under_a_warning_while_the_cluster_is_away()
    {
        UseRefreshInterval(TimeSpan.FromMilliseconds(50));
        var calls = 0;
        _source.Answer(() => ++calls == 1 ? Busy() : throw new ClusterUnavailableException("The cluster could not be reached."));

        var page = Render<OverviewPage>();

        page.WaitForAssertion(() => Assert.Contains(
            "The cluster could not be reached.", page.Find("[data-testid=overview-stale]").TextContent), Wait);
        Assert.Equal("12,345", Text(page, "accepted-value"));
        Assert.Empty(page.FindAll("[data-testid=overview-error]"));
    }

    [Fact]
    public async Task Stops_refreshing_once_the_page_is_closed()
    {
        UseRefreshInterval(TimeSpan.FromMilliseconds(20));
        var calls = 0;
        _source.Answer(() =>
        {
            Interlocked.Increment(ref calls);
            return Busy();
        });
        var page = Render<OverviewPage>();
        page.WaitForAssertion(() => Assert.True(Volatile.Read(ref calls) >= 3), Wait);

        await DisposeComponentsAsync();
        var afterClose = Volatile.Read(ref calls);
        await Task.Delay(200);

        Assert.Equal(afterClose, Volatile.Read(ref calls));
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private void UseRefreshInterval(TimeSpan interval) =>
        Services.AddSingleton(Options.Create(new OverviewOptions { RefreshInterval = interval }));

    private static string Text(IRenderedComponent<OverviewPage> page, string testId) =>
        page.Find($"[data-testid={testId}]").TextContent.Trim();

    private static Exception ThrownWithStackTrace(Exception exception)
    {
        try
        {
            throw exception;
        }
        catch (Exception thrown)
        {
            return thrown;
        }
    }

    private static IngestOverview Busy() => new()
    {
        AcceptedTotal = 12_345,
        DuplicatesTotal = 4,
        BytesTotal = 5 * 1024 * 1024,
        RejectedByReason = ImmutableDictionary<string, long>.Empty
            .Add("too_large", 3)
            .Add("invalid_json", 7),
        LastHour =
        [
            new MinuteBucket { Minute = Now.AddMinutes(-30), Accepted = 100, Rejected = 1 },
            new MinuteBucket { Minute = Now.AddMinutes(-2), Accepted = 200, Rejected = 2 },
            new MinuteBucket { Minute = Now, Accepted = 50 },
            // Older than an hour: not in the last-hour figures.
            new MinuteBucket { Minute = Now.AddMinutes(-90), Accepted = 1_000, Rejected = 1_000 },
        ],
        AggregationLagSeconds = 42.4,
        Channels =
        [
            new ChannelVersions { Channel = "beta", Versions = ["122"] },
            new ChannelVersions { Channel = "release", Versions = ["120", "121"] },
        ],
        GeneratedAt = Now,
    };

    private sealed class FakeOverviewSource : IOverviewSource
    {
        private Func<Task<IngestOverview>> _next = () => Task.FromResult(new IngestOverview());

        public void Answer(Func<IngestOverview> overview) => _next = () => Task.FromResult(overview());

        public void Answer(Func<Task<IngestOverview>> overview) => _next = overview;

        public void Fail(Func<Exception> exception) => _next = () => Task.FromException<IngestOverview>(exception());

        public Task<IngestOverview> GetAsync(CancellationToken cancellationToken) => _next();
    }
}
