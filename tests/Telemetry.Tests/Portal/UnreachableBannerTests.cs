using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Components.Layout;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class UnreachableBannerTests : BunitContext, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
    private readonly ClusterConnectionState _cluster;
    private readonly SiloReachability _silo;

    public UnreachableBannerTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        _cluster = new ClusterConnectionState(_time);
        _silo = new SiloReachability(_time);
        Services.AddSingleton(_cluster);
        Services.AddSingleton(_silo);
        Services.AddSingleton(Options.Create(new SiloApiOptions { Url = "http://127.0.0.1:8080" }));
        AddAuthorization().SetNotAuthorized();
    }

    [Fact]
    public void Every_page_gets_the_banner_when_the_silo_api_is_unreachable_and_loses_it_on_recovery()
    {
        _cluster.MarkConnected();
        var layout = Render<MainLayout>(p => p.Add(l => l.Body, (RenderFragment)(b => b.AddMarkupContent(0, "<p id='page'>a page</p>"))));
        Assert.Empty(layout.FindAll("[data-testid=unreachable-banner]"));
        Assert.NotNull(layout.Find("#page"));

        _silo.MarkUnreachable("Connection refused (127.0.0.1:8080)");

        layout.WaitForAssertion(() => Assert.Equal(
            "The silo's HTTP API at http://127.0.0.1:8080 cannot be reached (Connection refused (127.0.0.1:8080)): alerts, regressions, errors, subscriptions and admin pages cannot load or save. Retrying.",
            layout.Find("[data-testid=unreachable-line]").TextContent.Trim()), Wait);

        _silo.MarkReachable();

        layout.WaitForAssertion(() => Assert.Empty(layout.FindAll("[data-testid=unreachable-banner]")), Wait);
        Assert.NotNull(layout.Find("#page"));
    }

    [Fact]
    public void Says_when_the_cluster_cannot_be_reached_and_clears_when_it_connects()
    {
        var banner = Render<UnreachableBanner>();
        // The first connection attempt is still under way: nothing to report yet.
        Assert.Empty(banner.FindAll("[data-testid=unreachable-banner]"));

        _cluster.RecordFailedAttempt(new InvalidOperationException("Connection refused\n   at Orleans.Something()"));

        banner.WaitForAssertion(() =>
        {
            var line = banner.Find("[data-testid=unreachable-line]").TextContent;
            Assert.StartsWith("The portal cannot reach the Orleans cluster", line.Trim());
            Assert.Contains("1 attempt; last error: Connection refused", line);
            Assert.DoesNotContain("at Orleans.Something", line);
        }, Wait);

        _cluster.MarkConnected();

        banner.WaitForAssertion(() => Assert.Empty(banner.FindAll("[data-testid=unreachable-banner]")), Wait);
    }

    [Fact]
    public void Both_problems_are_listed_together()
    {
        _cluster.MarkConnected();
        ((Orleans.IClusterConnectionStatusObserver)_cluster).NotifyClusterConnectionLost();
        _silo.MarkUnreachable("no answer within 15 s");

        var banner = Render<UnreachableBanner>();

        var lines = banner.FindAll("[data-testid=unreachable-line]").Select(l => l.TextContent.Trim()).ToList();
        Assert.Equal(2, lines.Count);
        Assert.EndsWith("The connection to the cluster was lost. Reconnecting.", lines[0]);
        Assert.Contains("(no answer within 15 s)", lines[1]);
    }

    [Fact]
    public async Task SiloApi_marks_the_silo_unreachable_on_a_refused_connection_and_reachable_on_any_answer()
    {
        int port = Telemetry.Tests.Infrastructure.TestPaths.FreePort();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
        var api = new SiloApi(http, _silo);

        var refused = await Assert.ThrowsAsync<SiloApiException>(() => api.GetAsync("/health/live"));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.Status);
        Assert.False(_silo.Current.Reachable);

        await using var silo = await Telemetry.Tests.Infrastructure.SiloHost.StartAsync();
        using var reachable = new HttpClient { BaseAddress = new Uri(silo.BaseUrl) };
        // A 401 is an answer: the silo is there.
        await Assert.ThrowsAsync<SiloApiException>(() => new SiloApi(reachable, _silo).GetAsync("/api/outbox"));
        Assert.True(_silo.Current.Reachable);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();
}
