using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Telemetry.Contracts.Expiry;
using Telemetry.Grains.Expiry;
using Telemetry.Grains.Notifications;
using Telemetry.Silo.Operations;
using Telemetry.Silo.Probes;

namespace Telemetry.Silo.Expiry;

/// <summary>Expiring probes over HTTP (docs/expiry.md, "HTTP"): the release calendar, the notice runs, the expiring list.</summary>
public static class ExpiryApi
{
    public const int MaxCalendarBytes = 1024 * 1024;
    public const int DefaultWithinDays = 90;
    public const int MaxWithinDays = 3650;

    private const string DateFormat = "yyyy-MM-dd";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public sealed record CalendarEntry(string Version, DateOnly NightlyStart, DateOnly Release);

    /// <summary>The calendar in use: <c>source</c> is <c>upload</c> or <c>file</c>; versions are the known ones (projection is not listed).</summary>
    public sealed record CalendarView(string Source, DateTimeOffset? UpdatedAt, int CadenceDays, string? Comment, IReadOnlyList<CalendarEntry> Versions);

    public sealed record RunProbe(string Name, string ExpiresInVersion, DateOnly ExpiryDate);

    public sealed record RunMail(string Stage, IReadOnlyList<string> To, IReadOnlyList<RunProbe> Probes, bool AlreadySent);

    /// <summary><c>from</c>: the first notice day the run covered (earlier than <c>as_of</c> when it caught up).</summary>
    public sealed record RunView(DateOnly AsOf, bool DryRun, DateOnly From, IReadOnlyList<RunMail> Mails);

    public sealed record ExpiringItem(string Name, string ExpiresInVersion, DateOnly ExpiryDate, int DaysLeft, bool Expired, IReadOnlyList<string> Owners, bool Projected);

    public sealed record ExpiringView(DateOnly AsOf, int WithinDays, IReadOnlyList<ExpiringItem> Probes);

    /// <summary>Maps the endpoints (through <c>ExpiryHosting.MapExpiryApi</c>).</summary>
    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/release-calendar", GetCalendar).WithTags("Expiry")
            .WithSummary("The release calendar in use (uploaded, else the ReleaseCalendar:Path file)");
        app.MapPut("/api/release-calendar", PutCalendar).WithTags("Expiry").RequireAdmin()
            .WithSummary("Replace the release calendar for every silo: {\"versions\":[{\"version\",\"nightly_start\",\"release\"}]}; 400 names the malformed entry");
        app.MapPost("/api/expiry/run", Run).WithTags("Expiry").RequireAdmin()
            .WithSummary("Evaluate the expiry notices for ?as_of=YYYY-MM-DD (default today, UTC); &dry_run=true reports without sending or recording");
        app.MapGet("/api/expiring", Expiring).WithTags("Expiry")
            .WithSummary("Probes expiring within ?within_days= (default 90) after as_of (default today) and those expired within as many days before; &owner=EMAIL");
        return app;
    }

    internal static async Task<JsonHttpResult<CalendarView>> GetCalendar(ReleaseCalendarProvider calendars) =>
        TypedResults.Json(View(await calendars.CurrentAsync()), Json);

    internal static async Task<Results<JsonHttpResult<CalendarView>, ProblemHttpResult>> PutCalendar(
        HttpRequest request, IGrainFactory grains, ReleaseCalendarProvider calendars, CancellationToken ct)
    {
        var text = await ReadTextAsync(request, ct);
        if (text is null)
        {
            return TypedResults.Problem(statusCode: 413, title: "release calendar too large", detail: $"at most {MaxCalendarBytes} bytes");
        }
        try
        {
            // Validated here for the 400 (the message names the entry); the grain checks again before storing.
            _ = ReleaseCalendar.Parse(text, calendars.CadenceDays);
        }
        catch (ReleaseCalendarFormatException e)
        {
            return TypedResults.Problem(statusCode: 400, title: "malformed release calendar", detail: e.Message);
        }
        await grains.GetGrain<IReleaseCalendarGrain>(0).Put(text);
        return TypedResults.Json(View(await calendars.CurrentAsync()), Json);
    }

    internal static async Task<Results<JsonHttpResult<RunView>, ProblemHttpResult>> Run(
        HttpRequest request, IGrainFactory grains, ProbeSnapshotCache probes, TimeProvider time)
    {
        var query = request.Query;
        var failures = new List<string>();
        var today = Today(time);
        var asOf = ParseDate(query["as_of"], "as_of", failures) ?? today;
        var dryRun = ParseBool(query["dry_run"], "dry_run", failures);
        // A real run records the day as evaluated: a future one would mark days as done before the
        // definitions and calendar of those days are known.
        if (failures.Count == 0 && !dryRun && asOf > today)
        {
            failures.Add($"as_of {asOf.ToString(DateFormat, CultureInfo.InvariantCulture)} is after today ({today.ToString(DateFormat, CultureInfo.InvariantCulture)}, UTC): only a dry run can look ahead");
        }
        if (failures.Count > 0)
        {
            return BadRequest(failures);
        }
        await probes.RefreshAsync();
        var report = await grains.GetGrain<IExpiryGrain>(0).Run(asOf, dryRun);
        return TypedResults.Json(new RunView(report.AsOf, report.DryRun, report.From,
            [.. report.Mails.Select(m => new RunMail(m.Stage, m.To, [.. m.Probes.Select(p => new RunProbe(p.Name, p.ExpiresInVersion, p.ExpiryDate))], m.AlreadySent))]), Json);
    }

    internal static async Task<Results<JsonHttpResult<ExpiringView>, ProblemHttpResult>> Expiring(
        HttpRequest request, ExpiryScheduleSource schedules, ProbeSnapshotCache probes, TimeProvider time)
    {
        var query = request.Query;
        var failures = new List<string>();
        var asOf = ParseDate(query["as_of"], "as_of", failures) ?? Today(time);
        int withinDays = DefaultWithinDays;
        if (query["within_days"] is { Count: > 0 } within)
        {
            if (within.Count > 1 || !int.TryParse(within[0], NumberStyles.None, CultureInfo.InvariantCulture, out withinDays) || withinDays > MaxWithinDays)
            {
                failures.Add($"within_days must be a whole number of days from 0 to {MaxWithinDays}, not '{within}'");
            }
        }
        string? owner = null;
        if (query["owner"] is { Count: > 0 } owners)
        {
            try
            {
                owner = owners.Count == 1 ? OutboxMail.NormalizeAddress(owners[0]) : throw new ArgumentException("several owners");
            }
            catch (ArgumentException)
            {
                failures.Add($"owner must be one email address, not '{owners}'");
            }
        }
        if (failures.Count > 0)
        {
            return BadRequest(failures);
        }
        await probes.RefreshAsync();
        var schedule = await schedules.CurrentAsync();
        var items = schedule.Expiring(asOf, withinDays, owner)
            .Select(p => new ExpiringItem(p.Name, p.ExpiresInVersion, p.ExpiryDate, p.DaysLeft, p.Expired, p.Owners, p.Projected))
            .ToList();
        return TypedResults.Json(new ExpiringView(asOf, withinDays, items), Json);
    }

    private static CalendarView View(CurrentReleaseCalendar current) => new(
        current.Source == ReleaseCalendarSource.Upload ? "upload" : "file",
        current.UpdatedAt,
        current.Calendar.CadenceDays,
        current.Calendar.Comment,
        [.. current.Calendar.Trains.Select(t => new CalendarEntry(t.Version, t.NightlyStart, t.Release))]);

    private static ProblemHttpResult BadRequest(List<string> failures) =>
        TypedResults.Problem(statusCode: 400, title: "bad parameters", detail: string.Join("; ", failures));

    private static DateOnly Today(TimeProvider time) => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    private static DateOnly? ParseDate(Microsoft.Extensions.Primitives.StringValues value, string name, List<string> failures)
    {
        if (value.Count == 0)
        {
            return null;
        }
        if (value.Count == 1 && DateOnly.TryParseExact(value[0], DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }
        failures.Add($"{name} must be one date YYYY-MM-DD, not '{value}'");
        return null;
    }

    private static bool ParseBool(Microsoft.Extensions.Primitives.StringValues value, string name, List<string> failures)
    {
        if (value.Count == 0)
        {
            return false;
        }
        if (value.Count == 1 && bool.TryParse(value[0], out var flag))
        {
            return flag;
        }
        failures.Add($"{name} must be true or false, not '{value}'");
        return false;
    }

    private static async Task<string?> ReadTextAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxCalendarBytes)
        {
            return null;
        }
        using var ms = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > MaxCalendarBytes)
            {
                return null;
            }
        }
        return Encoding.UTF8.GetString(ms.GetBuffer(), 0, (int)ms.Length);
    }
}
