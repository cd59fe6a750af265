using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Telemetry.Contracts.Ingest;
using Telemetry.Portal.Cluster;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class OverviewServiceTests
{
    private readonly ClusterConnectionState _connection = new(TimeProvider.System);

    [Fact]
    public async Task Before_the_first_connection_it_says_so_without_calling_the_cluster()
    {
        _connection.RecordFailedAttempt(new InvalidOperationException("Unable to connect to any of the 1 available gateways.\n   at Somewhere()"));
        _connection.RecordFailedAttempt(new InvalidOperationException("Unable to connect to any of the 1 available gateways."));
        var grains = GrainFactoryProxy.Create(_ => throw new InvalidOperationException("must not be called"));

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Service(grains).GetAsync(CancellationToken.None));

        Assert.Equal(
            "No silo gateway has answered yet (2 attempts; last error: Unable to connect to any of the 1 available gateways). Retrying.",
            error.Message);
    }

    [Fact]
    public async Task Returns_the_overview_of_stats_grain_0()
    {
        _connection.MarkConnected();
        var expected = new IngestOverview { AcceptedTotal = 7 };
        long? key = null;
        var grains = GrainFactoryProxy.Create(k =>
        {
            key = k;
            return Task.FromResult(expected);
        });

        var overview = await Service(grains).GetAsync(CancellationToken.None);

        Assert.Same(expected, overview);
        Assert.Equal(0, key);
    }

    [Fact]
    public async Task A_silo_that_does_not_answer_in_time_is_reported_as_unavailable()
    {
        _connection.MarkConnected();
        var grains = GrainFactoryProxy.Create(_ => new TaskCompletionSource<IngestOverview>().Task);

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(
            () => Service(grains, callTimeout: TimeSpan.FromMilliseconds(50)).GetAsync(CancellationToken.None));

        Assert.StartsWith("The cluster did not answer within", error.Message);
    }

    [Fact]
    public async Task A_lost_connection_is_reported_as_unavailable()
    {
        _connection.MarkConnected();
        ((IClusterConnectionStatusObserver)_connection).NotifyClusterConnectionLost();
        var grains = GrainFactoryProxy.Create(_ => Task.FromException<IngestOverview>(new SiloUnavailableException("silo S127.0.0.1:11111 is gone")));

        var error = await Assert.ThrowsAsync<ClusterUnavailableException>(() => Service(grains).GetAsync(CancellationToken.None));

        Assert.Equal("The cluster could not be reached. The connection to the cluster was lost; reconnecting.", error.Message);
    }

    [Fact]
    public void Connection_state_follows_attempts_losses_and_recoveries()
    {
        var seen = new List<ClusterConnectionStatus>();
        _connection.Changed += s => seen.Add(s.Status);
        var observer = (IClusterConnectionStatusObserver)_connection;

        Assert.Equal(1, _connection.RecordFailedAttempt(new Exception("refused")));
        Assert.Equal(2, _connection.RecordFailedAttempt(new Exception("refused")));
        Assert.Equal(ClusterConnectionStatus.Connecting, _connection.Current.Status);

        _connection.MarkConnected();
        Assert.Equal(0, _connection.Current.FailedAttempts);

        observer.NotifyClusterConnectionLost();
        Assert.Equal(ClusterConnectionStatus.ConnectionLost, _connection.Current.Status);

        observer.NotifyGatewayCountChanged(1, 0, connectionRecovered: true);
        Assert.Equal(ClusterConnectionStatus.Connected, _connection.Current.Status);

        Assert.Equal(
            [ClusterConnectionStatus.Connecting, ClusterConnectionStatus.Connecting, ClusterConnectionStatus.Connected,
             ClusterConnectionStatus.ConnectionLost, ClusterConnectionStatus.Connected],
            seen);
    }

    [Fact]
    public void Retry_delay_doubles_up_to_the_maximum()
    {
        var options = new ClusterConnectionOptions { RetryDelayMin = TimeSpan.FromSeconds(1), RetryDelayMax = TimeSpan.FromSeconds(5) };

        Assert.Equal(
            [1, 2, 4, 5, 5],
            new[] { 1, 2, 3, 4, 100 }.Select(a => options.DelayAfter(a).TotalSeconds));
    }

    private OverviewService Service(IGrainFactory grains, TimeSpan? callTimeout = null) => new(
        grains,
        _connection,
        Options.Create(new ClusterConnectionOptions { CallTimeout = callTimeout ?? TimeSpan.FromSeconds(5) }),
        NullLogger<OverviewService>.Instance);

    /// <summary>An <see cref="IGrainFactory"/> whose only grain is an <see cref="IIngestStatsGrain"/> answering from a delegate.</summary>
    public class GrainFactoryProxy : DispatchProxy
    {
        private Func<long, Task<IngestOverview>> _getOverview = default!;

        public static IGrainFactory Create(Func<long, Task<IngestOverview>> getOverview)
        {
            var proxy = DispatchProxy.Create<IGrainFactory, GrainFactoryProxy>();
            ((GrainFactoryProxy)(object)proxy)._getOverview = getOverview;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true }
                && method.GetGenericArguments()[0] == typeof(IIngestStatsGrain)
                && args?[0] is long key)
            {
                return StatsGrainProxy.Create(() => _getOverview(key));
            }

            throw new NotSupportedException($"{method?.Name} is not part of this fake.");
        }
    }

    public class StatsGrainProxy : DispatchProxy
    {
        private Func<Task<IngestOverview>> _getOverview = default!;

        public static IIngestStatsGrain Create(Func<Task<IngestOverview>> getOverview)
        {
            var proxy = DispatchProxy.Create<IIngestStatsGrain, StatsGrainProxy>();
            ((StatsGrainProxy)(object)proxy)._getOverview = getOverview;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
        {
            nameof(IIngestStatsGrain.GetOverview) => _getOverview(),
            _ => throw new NotSupportedException($"{method?.Name} is not part of this fake."),
        };
    }
}
