using Microsoft.Extensions.Options;
using Telemetry.Contracts.Probes;
using Telemetry.Grains.Registry;

namespace Telemetry.Silo.Probes;

/// <summary>Section <c>Probes</c>.</summary>
public sealed class ProbeOptions
{
    public const string Section = "Probes";

    /// <summary>The silo's own <c>probes</c> folder, next to its assemblies.</summary>
    public static readonly string DefaultSeedDirectory = Path.Combine(AppContext.BaseDirectory, "probes");

    /// <summary>
    /// Folder whose <c>*.json</c> Histograms files are loaded at start (revision = the part after
    /// "Histograms."). Empty: no seeds. A folder other than the default must exist.
    /// </summary>
    public string SeedDirectory { get; set; } = DefaultSeedDirectory;

    /// <summary>How often each silo checks the registry for changes, in milliseconds.</summary>
    [System.ComponentModel.DataAnnotations.Range(100, 600_000)] public int RefreshMs { get; set; } = 2000;
}

/// <summary>
/// Keeps this silo's parsed copy of the probe registry current (checked every few seconds) and
/// loads the seed directory into the registry at start, without replacing operators' uploads.
/// </summary>
public sealed partial class ProbeSnapshotCache(IGrainFactory grains, IOptions<ProbeOptions> options, ILogger<ProbeSnapshotCache> logger)
    : BackgroundService, IProbeSnapshotSource
{
    private volatile ProbeSnapshot _current = ProbeSnapshot.Empty;

    public ProbeSnapshot Current => _current;

    /// <summary>Fetches the registry now if it changed (after uploads, so the next ping sees them).</summary>
    public async Task RefreshAsync()
    {
        var registry = grains.GetGrain<IProbeRegistryGrain>(0);
        long version = await registry.GetVersion();
        if (version == _current.Version && _current != ProbeSnapshot.Empty)
        {
            return;
        }
        var content = await registry.GetContent();
        _current = ProbeSnapshotBuilder.Build(content, _current);
        LogRefreshed(logger, content.Version, content.Revisions.Length);
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Start-up waits for the seeds so the first ping already finds its definitions.
        await LoadSeedsAsync();
        await RefreshAsync();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.RefreshMs));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogRefreshFailed(logger, e.Message);
            }
        }
    }

    private async Task LoadSeedsAsync()
    {
        var dir = options.Value.SeedDirectory;
        if (dir.Length == 0)
        {
            return;
        }
        if (!Directory.Exists(dir))
        {
            LogNoSeeds(logger, dir);
            return;
        }
        var registry = grains.GetGrain<IProbeRegistryGrain>(0);
        foreach (var file in Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal))
        {
            string revision = RevisionOf(file);
            try
            {
                var result = await registry.PutHistograms(revision, await File.ReadAllTextAsync(file), onlyIfAbsent: true);
                LogSeedLoaded(logger, revision, result.Loaded, result.Errors.Length);
            }
            catch (FormatException e)
            {
                LogSeedFailed(logger, file, e.Message);
            }
        }
    }

    internal static string RevisionOf(string file)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        return name.StartsWith("Histograms.", StringComparison.OrdinalIgnoreCase) ? name["Histograms.".Length..] : name;
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Information, Message = "Probe registry version {Version} loaded ({Revisions} revisions)")]
    private static partial void LogRefreshed(ILogger logger, long version, int revisions);

    [LoggerMessage(EventId = 1402, Level = LogLevel.Warning, Message = "Probe registry refresh failed: {Message}")]
    private static partial void LogRefreshFailed(ILogger logger, string message);

    [LoggerMessage(EventId = 1403, Level = LogLevel.Information, Message = "Seed probe revision {Revision}: {Loaded} definitions, {Errors} not understood")]
    private static partial void LogSeedLoaded(ILogger logger, string revision, int loaded, int errors);

    [LoggerMessage(EventId = 1404, Level = LogLevel.Warning, Message = "Seed probe file {File} could not be read: {Message}")]
    private static partial void LogSeedFailed(ILogger logger, string file, string message);

    [LoggerMessage(EventId = 1405, Level = LogLevel.Warning, Message = "Probe seed directory {Directory} does not exist; no definitions loaded")]
    private static partial void LogNoSeeds(ILogger logger, string directory);
}
