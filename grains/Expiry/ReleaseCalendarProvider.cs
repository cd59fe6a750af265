using Microsoft.Extensions.Options;
using Telemetry.Contracts.Expiry;

namespace Telemetry.Grains.Expiry;

/// <summary>Where the calendar in use comes from: an admin's upload, or the <c>ReleaseCalendar:Path</c> file.</summary>
public enum ReleaseCalendarSource
{
    File,
    Upload,
}

/// <summary>The calendar in use, where it comes from, and when it was uploaded (null for the file).</summary>
public sealed record CurrentReleaseCalendar(ReleaseCalendar Calendar, ReleaseCalendarSource Source, DateTimeOffset? UpdatedAt);

/// <summary>
/// The release calendar in use (docs/expiry.md, "Release calendar"): the one uploaded to
/// <see cref="IReleaseCalendarGrain"/> (the same for every silo), else this silo's
/// <c>ReleaseCalendar:Path</c> file, both projected at <c>ReleaseCalendar:CadenceDays</c>.
/// </summary>
public sealed class ReleaseCalendarProvider
{
    private readonly IGrainFactory grains;
    private readonly ReleaseCalendarOptions options;
    private readonly Lazy<ReleaseCalendar> file;
    private CurrentReleaseCalendar? lastUpload;

    public ReleaseCalendarProvider(IGrainFactory grains, IOptions<ReleaseCalendarOptions> options)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(options);
        this.grains = grains;
        this.options = options.Value;
        // The options validator has read this file at start; it does not change while the silo runs.
        file = new Lazy<ReleaseCalendar>(() => ReleaseCalendar.Load(this.options.Path, this.options.CadenceDays));
    }

    public int CadenceDays => options.CadenceDays;

    public async Task<CurrentReleaseCalendar> CurrentAsync()
    {
        var stored = await grains.GetGrain<IReleaseCalendarGrain>(0).Get();
        if (stored is null)
        {
            return new CurrentReleaseCalendar(file.Value, ReleaseCalendarSource.File, null);
        }

        var cached = lastUpload;
        if (cached is not null && cached.UpdatedAt == stored.UpdatedAt)
        {
            return cached;
        }

        var current = new CurrentReleaseCalendar(ReleaseCalendar.Parse(stored.Json, options.CadenceDays), ReleaseCalendarSource.Upload, stored.UpdatedAt);
        lastUpload = current;
        return current;
    }
}

/// <summary>The notice schedule over the registry's current definitions and the calendar in use.</summary>
public sealed class ExpiryScheduleSource(
    Registry.IProbeSnapshotSource probes,
    ReleaseCalendarProvider calendars,
    IOptions<ExpiryOptions> options)
{
    public ExpiryNoticeSettings Settings { get; } = options.Value.ToSettings();

    public int CadenceDays => calendars.CadenceDays;

    public async Task<ExpirySchedule> CurrentAsync()
    {
        var calendar = await calendars.CurrentAsync();
        return new ExpirySchedule(ExpiryDefinitions.From(probes.Current), calendar.Calendar, Settings);
    }
}
