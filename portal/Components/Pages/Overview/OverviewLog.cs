namespace Telemetry.Portal.Components.Pages.Overview;

internal static partial class OverviewLog
{
    [LoggerMessage(EventId = 8101, Level = LogLevel.Error, Message = "The overview page could not load the ingest overview")]
    public static partial void LoadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8102, Level = LogLevel.Error, Message = "The overview page could not read its tiles")]
    public static partial void TilesFailed(ILogger logger, Exception exception);
}
