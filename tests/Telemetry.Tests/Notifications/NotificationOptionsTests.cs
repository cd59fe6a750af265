using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Silo.Extensions;
using Telemetry.Silo.Ingest;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Notifications;
using Telemetry.Silo;
using Telemetry.Silo.Notifications;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Notifications;

/// <summary>Mail settings: a bad value stops the silo at start naming the key; the mode follows the documented defaults.</summary>
public sealed class NotificationOptionsTests
{
    [Fact]
    public async Task The_embedded_silo_logs_mail_to_the_console_from_a_memory_outbox()
    {
        await using var app = await SiloApp.BuildAsync([.. Telemetry.Tests.Operations.OptionsValidationTests.BaseArgs()]);

        Assert.Equal(NotificationMode.Console, app.Services.GetRequiredService<OutboxDispatcher>().Mode);
        Assert.IsType<MemoryOutboxStore>(app.Services.GetRequiredService<IOutboxStore>());
    }

    // The rules themselves, on the same registrations (AddOutbox) without building a silo each time.
    [Theory]
    [InlineData("Smtp:From", "--Smtp:Host=127.0.0.1")]
    [InlineData("Smtp:From", "--Smtp:Host=127.0.0.1", "--Smtp:From=not an address")]
    [InlineData("Smtp:StartTls", "--Smtp:StartTls=maybe")]
    [InlineData("Smtp:Port", "--Smtp:Port=0")]
    [InlineData("Smtp:MaxAttempts", "--Smtp:MaxAttempts=0")]
    [InlineData("Smtp:RetryMax", "--Smtp:RetryBase=00:05:00", "--Smtp:RetryMax=00:01:00")]
    [InlineData("Smtp:RetryBase", "--Smtp:RetryBase=00:00:00")]
    [InlineData("Smtp:Timeout", "--Smtp:Timeout=00:00:00")]
    [InlineData("Smtp:Password", "--Smtp:User=ses-user")]
    [InlineData("Notifications:Mode", "--Notifications:Mode=pigeon")]
    [InlineData("Notifications:Mode", "--Notifications:Mode=1")]
    [InlineData("Smtp:Host", "--Notifications:Mode=smtp")]
    [InlineData("Notifications:MaxPerRecipientPerHour", "--Notifications:MaxPerRecipientPerHour=0")]
    [InlineData("Notifications:BatchSize", "--Notifications:BatchSize=0")]
    [InlineData("Notifications:PollInterval", "--Notifications:PollInterval=00:00:00")]
    [InlineData("Notifications:ClaimDuration", "--Notifications:ClaimDuration=00:00:30")]
    [InlineData("Notifications:ClaimDuration", "--Smtp:Timeout=00:06:00")]
    public void A_bad_mail_setting_is_refused_naming_the_key(string key, params string[] args)
    {
        using var services = Services(args);

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<OutboxDispatcher>());
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(NotificationMode.Console)]
    [InlineData(NotificationMode.Smtp, "--Smtp:Host=email-smtp.eu-west-1.amazonaws.com", "--Smtp:From=alerts@telemetry.example.org", "--Smtp:User=AKIAEXAMPLE", "--Smtp:Password=secret", "--Smtp:StartTls=required")]
    [InlineData(NotificationMode.Console, "--Smtp:Host=127.0.0.1", "--Smtp:From=alerts@telemetry.example.org", "--Notifications:Mode=console")]
    [InlineData(NotificationMode.Off, "--Notifications:Mode=OFF")]
    public void The_mode_defaults_to_smtp_when_a_host_is_set_and_to_console_otherwise(NotificationMode expected, params string[] args)
    {
        using var services = Services(args);

        Assert.Equal(expected, services.GetRequiredService<OutboxDispatcher>().Mode);
    }

    private static ServiceProvider Services(string[] args)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddCommandLine(args).Build());
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton<IngestCounters>();
        services.AddOutbox(connectionString: null);
        return services.BuildServiceProvider();
    }
}
