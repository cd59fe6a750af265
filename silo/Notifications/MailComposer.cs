using System.Globalization;
using MimeKit;
using Telemetry.Grains.Notifications;

namespace Telemetry.Silo.Notifications;

/// <summary>Builds the MIME message of an outbox row (docs/notifications.md, "What a mail carries").</summary>
public static class MailComposer
{
    public static MimeMessage Compose(OutboxRow row, MailboxAddress from)
    {
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(row.Recipient));
        message.Subject = row.Subject;
        message.Date = row.CreatedAt;
        // The same Message-Id on every attempt: should a crash between "sent" and "recorded" send a row
        // again, mail systems that drop duplicate ids show it once.
        string domain = from.Domain is { Length: > 0 } d ? d : "localhost";
        message.MessageId = string.Create(CultureInfo.InvariantCulture, $"outbox.{row.Id}.{row.CreatedAt.ToUnixTimeMilliseconds()}@{domain}");
        // RFC 3834: no vacation auto-replies to alert mail.
        message.Headers.Add("Auto-Submitted", "auto-generated");
        if (row.UnsubscribeUrl is { } url)
        {
            // RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs to the link.
            message.Headers.Add("List-Unsubscribe", $"<{url}>");
            message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }
        message.Body = new BodyBuilder { TextBody = row.TextBody, HtmlBody = row.HtmlBody }.ToMessageBody();
        return message;
    }
}
