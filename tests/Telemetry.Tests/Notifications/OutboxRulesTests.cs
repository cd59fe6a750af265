using Microsoft.Extensions.Logging;
using MimeKit;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Notifications;

namespace Telemetry.Tests.Notifications;

/// <summary>Backoff timing, the defaults, what a mail may contain, and the headers a mail carries.</summary>
public sealed class OutboxRulesTests
{
    [Fact]
    public void Backoff_doubles_from_the_base_up_to_the_cap()
    {
        var schedule = new RetrySchedule(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1), maxAttempts: 8);

        var delays = Enumerable.Range(1, 8).Select(schedule.DelayAfter).ToList();

        Assert.Equal(new[] { 1, 2, 4, 8, 16, 32, 60, 60 }.Select(m => TimeSpan.FromMinutes(m)), delays);
        Assert.Equal(TimeSpan.FromHours(1), schedule.DelayAfter(1000)); // no overflow far past the cap
        Assert.False(schedule.IsExhausted(7));
        Assert.True(schedule.IsExhausted(8));
    }

    [Fact]
    public void Defaults_try_a_mail_for_about_two_hours_before_it_fails()
    {
        // The documented defaults (README, docs/notifications.md): 8 attempts, 1 min doubling to 1 h,
        // so 7 waits of 1+2+4+8+16+32+60 minutes; the tests use far shorter values.
        var smtp = new SmtpOptions();
        var notifications = new NotificationOptions();
        var schedule = new RetrySchedule(smtp.RetryBase, smtp.RetryMax, smtp.MaxAttempts);

        var waited = Enumerable.Range(1, smtp.MaxAttempts - 1).Aggregate(TimeSpan.Zero, (t, n) => t + schedule.DelayAfter(n));

        Assert.Equal(TimeSpan.FromMinutes(123), waited);
        Assert.Equal(20, notifications.MaxPerRecipientPerHour);
        Assert.Equal(587, smtp.Port);
        Assert.Equal("auto", smtp.StartTls);
        Assert.Equal(NotificationMode.Console, notifications.EffectiveMode(smtp));
        Assert.Equal(NotificationMode.Smtp, notifications.EffectiveMode(new SmtpOptions { Host = "email-smtp.eu-west-1.amazonaws.com" }));
        Assert.True(notifications.ClaimDuration >= 2 * smtp.Timeout);
    }

    [Theory]
    [InlineData("", "nobody@example.org", "regression", "subject")]
    [InlineData("regression:1", "not-an-address", "regression", "subject")]
    [InlineData("regression:1", "two@at@example.org", "regression", "subject")]
    [InlineData("regression:1", "a@example.org, b@example.org", "regression", "subject")]
    [InlineData("regression:1", "a@example.org", "Regression Alert", "subject")]
    [InlineData("regression:1", "a@example.org", "regression", "two\r\nBcc: everyone@example.org")]
    [InlineData("regression:1", "a@example.org", "regression", "")]
    public void A_mail_that_could_never_be_sent_is_refused_at_enqueue(string alertKey, string recipient, string kind, string subject)
    {
        Assert.ThrowsAny<ArgumentException>(() => new OutboxMail(alertKey, recipient, kind, subject, "body").Normalized());
    }

    [Fact]
    public void An_unsubscribe_link_must_be_an_absolute_web_address()
    {
        Assert.ThrowsAny<ArgumentException>(() => new OutboxMail("k", "a@example.org", "regression", "s", "b", UnsubscribeUrl: "/unsubscribe?token=x").Normalized());
        Assert.ThrowsAny<ArgumentException>(() => new OutboxMail("k", "a@example.org", "regression", "s", "b", UnsubscribeUrl: "javascript:alert(1)").Normalized());
        var ok = new OutboxMail("k", " A@Example.ORG ", "Regression", "s", "b", UnsubscribeUrl: "https://telemetry.example.org/unsubscribe?token=x").Normalized();
        Assert.Equal("a@example.org", ok.Recipient);
        Assert.Equal("regression", ok.Kind);
    }

    [Fact]
    public void A_mail_carries_one_click_unsubscribe_headers_a_stable_message_id_and_both_bodies()
    {
        var row = Row(unsubscribe: "https://telemetry.example.org/unsubscribe?token=abc", html: "<p>Hello</p>");
        var from = MailboxAddress.Parse("Telemetry alerts <alerts@telemetry.example.org>");

        var message = MailComposer.Compose(row, from);
        var again = MailComposer.Compose(row, from);

        Assert.Equal("<https://telemetry.example.org/unsubscribe?token=abc>", message.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", message.Headers["List-Unsubscribe-Post"]);
        Assert.Equal("auto-generated", message.Headers["Auto-Submitted"]);
        Assert.Equal(again.MessageId, message.MessageId);
        Assert.EndsWith("@telemetry.example.org", message.MessageId, StringComparison.Ordinal);
        Assert.Equal("GC_MS regressed", message.Subject);
        Assert.Equal("carol@example.org", message.To.Mailboxes.Single().Address);
        Assert.Equal("Hello in text", message.TextBody?.TrimEnd());
        Assert.Equal("<p>Hello</p>", message.HtmlBody?.TrimEnd());
    }

    [Fact]
    public void A_mail_without_a_subscription_has_no_unsubscribe_headers()
    {
        var message = MailComposer.Compose(Row(unsubscribe: null, html: null), MailboxAddress.Parse("alerts@telemetry.example.org"));

        Assert.False(message.Headers.Contains("List-Unsubscribe"));
        Assert.False(message.Headers.Contains("List-Unsubscribe-Post"));
        Assert.Null(message.HtmlBody);
    }

    [Fact]
    public async Task Console_mode_logs_each_mail_once_as_one_structured_information_message()
    {
        var logger = new ListLogger<ConsoleMailSender>();
        var sender = new ConsoleMailSender(logger);

        await sender.SendAsync(Row(unsubscribe: "https://telemetry.example.org/unsubscribe?token=abc", html: null), default);

        var (level, eventId, text, state) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, level);
        Assert.Equal(9101, eventId);
        Assert.Contains("carol@example.org", text, StringComparison.Ordinal);
        Assert.Contains("GC_MS regressed", text, StringComparison.Ordinal);
        Assert.Contains("Hello in text", text, StringComparison.Ordinal);
        Assert.Contains("https://telemetry.example.org/unsubscribe?token=abc", text, StringComparison.Ordinal);
        Assert.Equal("regression:42", state["AlertKey"]);
        Assert.Equal(42L, state["OutboxId"]);
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, int EventId, string Text, Dictionary<string, object?> State)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : [];
            Entries.Add((logLevel, eventId.Id, formatter(state, exception), fields));
        }
    }

    private static OutboxRow Row(string? unsubscribe, string? html) => new()
    {
        Id = 42,
        AlertKey = "regression:42",
        Recipient = "carol@example.org",
        Kind = MailKinds.Regression,
        Subject = "GC_MS regressed",
        TextBody = "Hello in text",
        HtmlBody = html,
        UnsubscribeUrl = unsubscribe,
        State = OutboxState.Sending,
        NextAttemptAt = DateTimeOffset.UnixEpoch,
        CreatedAt = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero),
    };
}
