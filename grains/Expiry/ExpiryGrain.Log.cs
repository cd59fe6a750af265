using Microsoft.Extensions.Logging;

namespace Telemetry.Grains.Expiry;

public sealed partial class ExpiryGrain
{
    [LoggerMessage(EventId = 9301, Level = LogLevel.Information, Message = "Expiry run for {AsOf} (notice days from {From}) queued {Rows} mails ({Mails} distinct)")]
    private static partial void LogQueued(ILogger logger, DateOnly asOf, DateOnly from, int rows, int mails);

    [LoggerMessage(EventId = 9302, Level = LogLevel.Warning, Message = "{Count} probes have an expires_in_version that is not a version and are never mailed: {Examples}")]
    private static partial void LogInvalidVersions(ILogger logger, int count, string examples);

    [LoggerMessage(EventId = 9303, Level = LogLevel.Warning, Message = "Expiry mail not sent to addresses that are not email addresses (fix the probes' alert_emails): {Addresses}")]
    private static partial void LogUnusableAddresses(ILogger logger, string addresses);

    [LoggerMessage(EventId = 9304, Level = LogLevel.Error, Message = "Daily expiry run for {Today} failed; the next run covers its days")]
    private static partial void LogCatchUpFailed(ILogger logger, Exception exception, DateOnly today);
}
