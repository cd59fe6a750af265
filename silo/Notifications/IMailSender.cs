using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>Delivers outbox rows (one dispatcher uses one sender, one row at a time).</summary>
public interface IMailSender
{
    /// <summary>
    /// Sends one mail. Throws <see cref="MailSendException"/> to say how it failed; any other
    /// exception counts as a failed attempt of this mail only.
    /// </summary>
    Task SendAsync(OutboxRow mail, CancellationToken ct);

    /// <summary>Called after each batch: closes a connection kept open across the batch.</summary>
    Task EndBatchAsync(CancellationToken ct);
}

/// <summary>A mail that was not sent, and whether trying again can help.</summary>
public sealed class MailSendException(string message, bool permanent, bool serviceDown, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The server refused this mail for good (5xx for the recipient or the message): no retry.</summary>
    public bool Permanent { get; } = permanent;

    /// <summary>The server could not be used at all (connection, TLS, authentication): the rest of the batch is not tried.</summary>
    public bool ServiceDown { get; } = serviceDown;
}
