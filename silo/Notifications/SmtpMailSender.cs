using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>
/// Sends through an SMTP server with MailKit (<c>Notifications:Mode=smtp</c>). One connection serves
/// a batch and is closed after it (mail servers drop idle sessions anyway). A failure drops the
/// connection, so the next mail starts a fresh one.
/// </summary>
public sealed partial class SmtpMailSender(SmtpOptions options, ILogger<SmtpMailSender> logger) : IMailSender, IAsyncDisposable
{
    private readonly MailboxAddress _from = MailboxAddress.Parse(options.From ?? throw new ArgumentException("Smtp:From is required", nameof(options)));
    private readonly string _host = options.Host ?? throw new ArgumentException("Smtp:Host is required", nameof(options));
    private SmtpClient? _client;

    public async Task SendAsync(OutboxRow mail, CancellationToken ct)
    {
        MimeMessage message;
        try
        {
            message = MailComposer.Compose(mail, _from);
        }
        catch (ParseException e)
        {
            // An address MimeKit cannot parse will not parse next time either.
            throw new MailSendException($"cannot build the mail: {e.Message}", permanent: true, serviceDown: false, e);
        }
        SmtpClient client;
        try
        {
            client = await ConnectedAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Drop();
            throw new MailSendException($"cannot use {options.Host}:{options.Port}: {e.Message}", permanent: false, serviceDown: true, e);
        }
        try
        {
            await client.SendAsync(message, ct);
        }
        catch (SmtpCommandException e)
        {
            // The server answered this mail with an error. 5xx for the recipient or the message
            // (no such mailbox, rejected content) will not change on retry; 4xx (greylisting, a full
            // mailbox) and a refused sender (a configuration matter an admin fixes) are retried.
            Drop();
            bool permanent = (int)e.StatusCode >= 500 && e.ErrorCode is SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted;
            throw new MailSendException($"{(int)e.StatusCode} {e.Message}", permanent, serviceDown: e.ErrorCode == SmtpErrorCode.SenderNotAccepted, e);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The session is in an unknown state: start the next mail on a new one.
            Drop();
            bool connectionLost = e is ServiceNotConnectedException or IOException or SocketException or ProtocolException or TimeoutException or OperationCanceledException;
            throw new MailSendException($"sending through {options.Host}:{options.Port} failed: {e.Message}", permanent: false, serviceDown: connectionLost, e);
        }
    }

    public async Task EndBatchAsync(CancellationToken ct)
    {
        if (_client is { IsConnected: true } client)
        {
            try
            {
                await client.DisconnectAsync(quit: true, ct);
            }
            catch (Exception e) when (e is IOException or SocketException or ProtocolException or SmtpCommandException or TimeoutException)
            {
                // The mails are accepted already; only the goodbye failed.
                LogQuitFailed(logger, e.Message);
            }
        }
        Drop();
    }

    private async Task<SmtpClient> ConnectedAsync(CancellationToken ct)
    {
        if (_client is { IsConnected: true } connected)
        {
            return connected;
        }
        Drop();
        var client = new SmtpClient { Timeout = (int)options.Timeout.TotalMilliseconds };
        _client = client;
        var tls = options.StartTls.ToLowerInvariant() switch
        {
            "none" => SecureSocketOptions.None,
            "required" => SecureSocketOptions.StartTls,
            _ => SecureSocketOptions.StartTlsWhenAvailable,
        };
        await client.ConnectAsync(_host, options.Port, tls, ct);
        if (!string.IsNullOrEmpty(options.User))
        {
            await client.AuthenticateAsync(options.User, options.Password ?? "", ct);
        }
        return client;
    }

    private void Drop()
    {
        _client?.Dispose();
        _client = null;
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(EventId = 9102, Level = LogLevel.Debug, Message = "SMTP QUIT failed after a batch: {Message}")]
    private static partial void LogQuitFailed(ILogger logger, string message);
}
