namespace Telemetry.Portal.Components.Shared;

/// <summary>Log lines of the pages that read the silo's HTTP API (regressions, expiring probes, aggregates, crash rates).</summary>
internal static partial class DataPagesLog
{
    [LoggerMessage(EventId = 8201, Level = LogLevel.Error, Message = "The {Page} page could not load its data")]
    public static partial void LoadFailed(ILogger logger, string page, Exception exception);

    [LoggerMessage(EventId = 8202, Level = LogLevel.Warning, Message = "The {Page} page: the silo refused {What}: {Reason}")]
    public static partial void Refused(ILogger logger, string page, string what, string reason);
}
