using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging.Abstractions;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Notifications;

namespace Telemetry.Tests.Notifications;

/// <summary>A sender whose behaviour a test sets; it records every mail it was asked to send.</summary>
public sealed class FakeMailSender : IMailSender
{
    private readonly Lock _lock = new();
    private readonly List<OutboxRow> _attempted = [];

    /// <summary>Runs for each mail; throw to fail it. Default: accept.</summary>
    public Func<OutboxRow, Task> OnSend { get; set; } = _ => Task.CompletedTask;

    public IReadOnlyList<OutboxRow> Attempted
    {
        get
        {
            lock (_lock)
            {
                return [.. _attempted];
            }
        }
    }

    public int Batches { get; private set; }

    public async Task SendAsync(OutboxRow mail, CancellationToken ct)
    {
        lock (_lock)
        {
            _attempted.Add(mail);
        }
        await OnSend(mail);
    }

    public Task EndBatchAsync(CancellationToken ct)
    {
        Batches++;
        return Task.CompletedTask;
    }
}

public static class OutboxTestKit
{
    public static OutboxMail Mail(string alertKey, string recipient = "alice@example.org", string kind = MailKinds.Regression, string? unsubscribe = null) =>
        new(alertKey, recipient, kind, $"Alert {alertKey} for {recipient}", $"Body of {alertKey}.\nSee the portal.", null, unsubscribe);

    public static OutboxDispatcher Dispatcher(
        IOutboxStore store,
        IMailSender? sender,
        TimeProvider time,
        NotificationOptions? options = null,
        SmtpOptions? smtp = null,
        string claimer = "test-dispatcher") =>
        new(store, sender, options ?? new NotificationOptions { Mode = sender is null ? "off" : "console" }, smtp ?? new SmtpOptions(),
            new OutboxMetrics(new Meter("test." + Guid.NewGuid().ToString("N"))), time, NullLogger<OutboxDispatcher>.Instance, claimer);

    /// <summary>Options for dispatchers that run for real in a test: short polls and backoffs.</summary>
    public static (NotificationOptions Options, SmtpOptions Smtp) Fast(string host, int port, int maxAttempts = 50, int batchSize = 10, int maxPerHour = 20)
    {
        var smtp = new SmtpOptions
        {
            Host = host,
            Port = port,
            From = "Telemetry alerts <alerts@telemetry.test>",
            StartTls = "none",
            MaxAttempts = maxAttempts,
            RetryBase = TimeSpan.FromMilliseconds(100),
            RetryMax = TimeSpan.FromMilliseconds(400),
            Timeout = TimeSpan.FromSeconds(5),
        };
        var options = new NotificationOptions
        {
            Mode = "smtp",
            BatchSize = batchSize,
            MaxPerRecipientPerHour = maxPerHour,
            PollInterval = TimeSpan.FromMilliseconds(50),
            ClaimDuration = TimeSpan.FromSeconds(30),
        };
        return (options, smtp);
    }
}
