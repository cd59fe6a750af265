using System.ComponentModel.DataAnnotations;

namespace Telemetry.Silo.Notifications;

/// <summary>How queued mail leaves the silo (<c>Notifications:Mode</c>; docs/notifications.md, "Modes").</summary>
public enum NotificationMode
{
    /// <summary>Through the SMTP server of section <c>Smtp</c>.</summary>
    Smtp,

    /// <summary>Each mail is written to the log once (Information) and counts as sent: the embedded default.</summary>
    Console,

    /// <summary>Nothing is sent: rows are marked <c>discarded</c>, so switching mail on later does not send a backlog.</summary>
    Off,
}

/// <summary>Section <c>Notifications</c>: the outbox dispatcher.</summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary><c>smtp</c>, <c>console</c> or <c>off</c>; unset: <c>smtp</c> when <c>Smtp:Host</c> is set, else <c>console</c>.</summary>
    public string? Mode { get; set; }

    /// <summary>Alert mails sent to one person in any hour; further ones fold into their next digest.</summary>
    [Range(1, 100_000)] public int MaxPerRecipientPerHour { get; set; } = 20;

    /// <summary>Rows a dispatcher claims at a time.</summary>
    [Range(1, 1000)] public int BatchSize { get; set; } = 10;

    /// <summary>How often a dispatcher looks for due rows when the last batch was not full.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a claim lasts: a row whose dispatcher died is retried after this (at least twice <c>Smtp:Timeout</c>).</summary>
    public TimeSpan ClaimDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The mode in effect: <see cref="Mode"/>, or its default from <paramref name="smtp"/>.</summary>
    public NotificationMode EffectiveMode(SmtpOptions smtp) =>
        string.IsNullOrWhiteSpace(Mode)
            ? string.IsNullOrWhiteSpace(smtp.Host) ? NotificationMode.Console : NotificationMode.Smtp
            : TryParseMode(Mode, out var mode) ? mode : throw new InvalidOperationException($"{Section}:Mode '{Mode}' must be smtp, console or off.");

    /// <summary>Accepts the names only (any case), not numbers.</summary>
    public static bool TryParseMode(string value, out NotificationMode mode)
    {
        foreach (var m in Enum.GetValues<NotificationMode>())
        {
            if (string.Equals(value.Trim(), m.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                mode = m;
                return true;
            }
        }
        mode = default;
        return false;
    }
}

/// <summary>Section <c>Smtp</c>: the mail server (Amazon SES in production, through its SMTP interface) and retries.</summary>
public sealed class SmtpOptions
{
    public const string Section = "Smtp";

    /// <summary>Mail server host; setting it makes <c>smtp</c> the default mode.</summary>
    public string? Host { get; set; }

    [Range(1, 65535)] public int Port { get; set; } = 587;

    /// <summary>User name for AUTH; empty: no authentication.</summary>
    public string? User { get; set; }

    /// <summary>Password for AUTH (never logged).</summary>
    public string? Password { get; set; }

    /// <summary>Sender, <c>alerts@example.org</c> or <c>Telemetry alerts &lt;alerts@example.org&gt;</c>; required in smtp mode.</summary>
    public string? From { get; set; }

    /// <summary><c>none</c> (plain), <c>auto</c> (STARTTLS when offered) or <c>required</c> (STARTTLS or fail).</summary>
    public string StartTls { get; set; } = "auto";

    /// <summary>Attempts before a row is marked failed (each claim counts one).</summary>
    [Range(1, 100)] public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait after the first failed attempt; doubled after each further one.</summary>
    public TimeSpan RetryBase { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait between attempts.</summary>
    public TimeSpan RetryMax { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Limit on each SMTP operation (connect, each command).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public static readonly string[] TlsModes = ["none", "auto", "required"];
}
