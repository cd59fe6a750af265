namespace Telemetry.Portal.Services;

/// <summary>Whether the silo's HTTP API answered the last time the portal asked, and since when.</summary>
public sealed record SiloReachabilitySnapshot(bool Reachable, string? Problem, DateTimeOffset Since);

/// <summary>
/// Tracks whether the silos' HTTP API (<c>Portal:Silo:Url</c>) can be reached: fed by every
/// <see cref="SiloApi"/> call and by <see cref="SiloHealthProbe"/>, read by the banner every page shows
/// (docs/portal.md, "Admin pages, overview tiles and the unreachable banner"). An answer of any status
/// counts as reachable: only a refused connection or a timeout does not.
/// </summary>
public sealed class SiloReachability(TimeProvider time)
{
    private readonly Lock _gate = new();
    private SiloReachabilitySnapshot _current = new(true, null, time.GetUtcNow());

    /// <summary>Raised after every change, on the thread that made it.</summary>
    public event Action<SiloReachabilitySnapshot>? Changed;

    public SiloReachabilitySnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public void MarkReachable() => Update(c => c.Reachable ? c : new SiloReachabilitySnapshot(true, null, time.GetUtcNow()));

    public void MarkUnreachable(string problem) =>
        Update(c => c.Reachable ? new SiloReachabilitySnapshot(false, problem, time.GetUtcNow()) : c with { Problem = problem });

    private void Update(Func<SiloReachabilitySnapshot, SiloReachabilitySnapshot> change)
    {
        SiloReachabilitySnapshot next;
        lock (_gate)
        {
            next = change(_current);
            if (next == _current)
            {
                return;
            }
            _current = next;
        }
        Changed?.Invoke(next);
    }
}

/// <summary>
/// Asks the silo's <c>/health/live</c> every <see cref="SiloApiOptions.ProbeInterval"/>, so the banner
/// appears while nobody uses a page that calls the silo, and disappears once it answers again.
/// </summary>
internal sealed partial class SiloHealthProbe(
    IServiceProvider services,
    SiloReachability reachability,
    Microsoft.Extensions.Options.IOptions<SiloApiOptions> options,
    ILogger<SiloHealthProbe> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ProbeInterval);
        do
        {
            // SiloApi records the outcome in SiloReachability itself; other answers than 2xx still mean it is up.
            try
            {
                await services.GetRequiredService<SiloApi>().GetAsync("/health/live", bearer: null, stoppingToken);
            }
            catch (SiloApiException e) when (e.Status is System.Net.HttpStatusCode.ServiceUnavailable or System.Net.HttpStatusCode.GatewayTimeout)
            {
                if (reachability.Current.Reachable)
                {
                    LogUnreachable(logger, e.Message);
                }
            }
            catch (SiloApiException)
            {
                // It answered (an error status): reachable, which SiloApi has recorded.
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 8201, Level = LogLevel.Warning, Message = "The silo's HTTP API cannot be reached: {Problem}")]
    private static partial void LogUnreachable(ILogger logger, string problem);
}
