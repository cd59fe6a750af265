namespace Telemetry.Silo.Notifications;

public sealed partial class OutboxDispatcher
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Outbox dispatcher started: mode {Mode}, claiming as {Claimer}, durable store {Durable}")]
    private static partial void LogStarted(ILogger logger, string mode, string claimer, bool durable);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Outbox round failed ({Failures} in a row); trying again later")]
    private static partial void LogRoundFailed(ILogger logger, int failures, Exception e);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "{Failed} of {Batch} mails of a batch were not sent and will be retried or failed; last error: {Error}")]
    private static partial void LogBatchFailures(ILogger logger, int failed, int batch, string? error);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Error, Message = "Mail {OutboxId} ({AlertKey}) failed for good after {Attempts} attempts: {Error} (an admin can send it again: POST /api/outbox/<id>/retry)")]
    private static partial void LogGaveUp(ILogger logger, long outboxId, string alertKey, int attempts, string? error);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Warning, Message = "Mail {OutboxId}: the claim ran out before its outcome ({State}) was recorded; another dispatcher has it")]
    private static partial void LogClaimLost(ILogger logger, long outboxId, string state);

    [LoggerMessage(EventId = 9006, Level = LogLevel.Debug, Message = "Gave back {Count} claimed mails unattempted: {Reason}")]
    private static partial void LogReleased(ILogger logger, int count, string reason);
}
