using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>
/// <c>Notifications:Mode=console</c> (the embedded default): writes each mail to the log once, at
/// Information, as one structured message. Server settings and passwords are not part of it; the
/// links in the mail are (that is how one follows them without a mail server).
/// </summary>
public sealed partial class ConsoleMailSender(ILogger<ConsoleMailSender> logger) : IMailSender
{
    public Task SendAsync(OutboxRow mail, CancellationToken ct)
    {
        LogMail(logger, mail.Id, mail.Recipient, mail.Kind, mail.AlertKey, mail.Subject, mail.UnsubscribeUrl ?? "(none)", mail.TextBody);
        return Task.CompletedTask;
    }

    public Task EndBatchAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(EventId = 9101, Level = LogLevel.Information,
        Message = "Mail {OutboxId} to {Recipient} ({Kind}, {AlertKey}): {Subject}\nUnsubscribe: {UnsubscribeUrl}\n{Body}")]
    private static partial void LogMail(ILogger logger, long outboxId, string recipient, string kind, string alertKey, string subject, string unsubscribeUrl, string body);
}
