using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Telemetry.Silo.Extensions;

/// <summary>
/// Keeps a stop (SIGTERM) within what container platforms allow (they kill after 30 s), also when
/// PostgreSQL is unreachable. A stop with the database up still deactivates grains, which persist
/// their state, exactly as before.
/// </summary>
/// <remarks>
/// Where a stop waited with the database gone (measured: 120 s): Orleans' membership agent writes
/// the silo's terminal statuses (ShuttingDown or Stopping, then Dead) with retries that ignore the
/// host's stop token and are capped only by a fixed one minute each, or by
/// <see cref="ClusterMembershipOptions.MaxJoinAttemptTime"/> (5 minutes by default) when shorter:
/// <see cref="ShortenMembershipRetriesOnStop"/> shortens that once the stop begins.
/// Grain deactivation and the reminder service fail fast on a refused connection and honour the
/// stop token. A hung server (connections accepted, never answered) holds each of those steps for a
/// connect or command timeout, which no option bounds: <see cref="ArmDeadline"/> ends the process then.
/// Ending it early is safe: every acknowledged ping is in the landing log, and a restart recovers
/// as after <c>kill -9</c> (batches above the checkpoints are read again; aggregates drop those they hold).
/// </remarks>
public static class BoundedShutdown
{
    /// <summary>Default of the host's <c>shutdownTimeoutSeconds</c>: how long hosted services (Kestrel, the silo) get to stop.</summary>
    public const int DefaultShutdownTimeoutSeconds = 15;

    /// <summary>How much longer than the host's shutdown timeout the process may take before it is ended.</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromSeconds(5);

    /// <summary>How long, once stopping, the membership agent retries one status write (it waits up to one more back-off).</summary>
    public static readonly TimeSpan MembershipStopRetryTime = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The host's shutdown timeout defaults to <see cref="DefaultShutdownTimeoutSeconds"/>; the
    /// standard <c>shutdownTimeoutSeconds</c> setting overrides it (added as the first configuration
    /// source, like the log defaults).
    /// </summary>
    public static WebApplicationBuilder UseBoundedShutdownDefaults(this WebApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["shutdownTimeoutSeconds"] = DefaultShutdownTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        });
        return builder;
    }

    /// <summary>
    /// Once the application starts stopping, the membership agent's status writes give up after
    /// <see cref="MembershipStopRetryTime"/> instead of <see cref="ClusterMembershipOptions.MaxJoinAttemptTime"/>.
    /// </summary>
    /// <remarks>
    /// The same option bounds joining at start, where minutes of retries are right (a silo that
    /// starts while the database restarts should wait for it, and several silos starting at once
    /// retry on write contention), so it keeps its default until the stop. The membership table
    /// manager reads the option on every status write; the options object is the container's
    /// single instance, changed once, before any hosted service stops.
    /// </remarks>
    public static void ShortenMembershipRetriesOnStop(WebApplication app)
    {
        var membership = app.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        app.Lifetime.ApplicationStopping.Register(() => membership.MaxJoinAttemptTime = MembershipStopRetryTime);
    }

    /// <summary>
    /// Once the application starts stopping, ends the process if it is still running after the
    /// host's shutdown timeout plus <see cref="DeadlineMargin"/>. Only for the silo process itself
    /// (Program.cs): hosts started inside tests must not end the test run.
    /// </summary>
    public static void ArmDeadline(WebApplication app)
    {
        var deadline = app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout + DeadlineMargin;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BoundedShutdown).FullName!);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            // A thread of its own, not a pool timer: a stop that starves the pool must not delay it.
            var thread = new Thread(() =>
            {
                Thread.Sleep(deadline);
                string message = $"The silo did not stop within {deadline.TotalSeconds:0} s (storage unreachable?); ending the process now. " +
                    "Nothing acknowledged is lost: the next start reads unpersisted batches again from the landing log.";
                logger.LogCritical("{Message}", message);
                Console.Error.WriteLine(message);
                Environment.Exit(3);
            })
            {
                IsBackground = true,
                Name = "shutdown deadline",
            };
            thread.Start();
        });
    }
}
