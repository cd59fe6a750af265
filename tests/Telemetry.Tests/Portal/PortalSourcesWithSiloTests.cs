using System.Net;
using System.Text;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Services;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal;

/// <summary>
/// The admin pages' and overview tiles' sources against a real silo: what the portal reads from each admin
/// route is what the silo answered (the pages' own tests use fakes of these sources).
/// </summary>
public sealed class PortalSourcesWithSiloTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Admin_source_reads_and_changes_everything_the_admin_pages_show()
    {
        await using var silo = await SiloHost.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var admin = new SiloAdminSource(new SiloApi(http));
        const string token = SiloHost.AdminToken;
        var ct = CancellationToken.None;

        // Probes: upload, then point a channel at it.
        var upload = await admin.UploadHistogramsAsync(token, "portal-rev-1",
            Encoding.UTF8.GetBytes("""{"GOOD_ONE": {"kind": "linear", "high": 100, "n_buckets": 10, "description": "d"}, "BROKEN_ONE": {"kind": "nonsense", "description": "x"}}"""), ct);
        Assert.Equal(1, upload.Loaded);
        Assert.Equal("BROKEN_ONE", Assert.Single(upload.Errors).Name);
        await admin.MapChannelAsync(token, "aurora", "portal-rev-1", ct);
        var revision = (await admin.GetRevisionsAsync(token, ct)).Single(r => r.Revision == "portal-rev-1");
        Assert.Equal(1, revision.Histograms);
        Assert.Equal(["aurora"], revision.Channels);
        Assert.Equal("BROKEN_ONE", Assert.Single(revision.Errors).Name);
        var unknown = await Assert.ThrowsAsync<SiloApiException>(() => admin.MapChannelAsync(token, "aurora", "no-such-revision", ct));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);

        // Release calendar: read the file's, store an edit.
        var calendar = await admin.GetCalendarAsync(token, ct);
        Assert.Equal("file", calendar.Source);
        Assert.NotEmpty(calendar.Versions);
        var stored = await admin.PutCalendarAsync(token,
            [new CalendarTrain("90", new DateOnly(2026, 1, 1), new DateOnly(2026, 2, 1)), new CalendarTrain("91", new DateOnly(2026, 1, 29), new DateOnly(2026, 3, 1))],
            "from the portal test", ct);
        Assert.Equal("upload", stored.Source);
        Assert.Equal(["90", "91"], stored.Versions.Select(v => v.Version).ToList());
        Assert.Equal(new DateOnly(2026, 3, 1), (await admin.GetCalendarAsync(token, ct)).Versions[1].Release);

        // Rejects: a bad ping through the real endpoint.
        Assert.Equal(HttpStatusCode.BadRequest, (await silo.SubmitAsync("portal-bad/main/Firefox/57.0/release/20171101000000", "nope"u8.ToArray())).StatusCode);
        IngestRejectsView rejects = new(0, []);
        Assert.True(await TestPaths.EventuallyAsync(async () => (rejects = await admin.GetRejectsAsync(token, ct)).Total == 1, Wait));
        var reason = Assert.Single(rejects.Reasons);
        Assert.Equal("bad_json", reason.Reason);
        Assert.Equal("portal-bad/main/Firefox/57.0/release/20171101000000", Assert.Single(reason.Samples).Path);

        // Sentry dead letters.
        var deadBefore = await admin.GetDeadLettersAsync(token, 10, ct);
        Assert.Empty(deadBefore.DeadLetters);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/sentry/events", new StringContent("{not json", Encoding.UTF8, "application/json"))).StatusCode);
        var dead = await admin.GetDeadLettersAsync(token, 10, ct);
        var letter = Assert.Single(dead.DeadLetters);
        Assert.Equal("{not json", letter.Body);
        Assert.Equal(1, dead.Counts[letter.Reason]);

        // Outbox: nothing mailed yet; retrying an unknown row is the silo's 404.
        Assert.Empty((await admin.GetOutboxAsync(token, "failed", 50, ct)).Items);
        var retry = await Assert.ThrowsAsync<SiloApiException>(() => admin.RetryOutboxAsync(token, 424242, ct));
        Assert.Equal(HttpStatusCode.NotFound, retry.Status);

        // Reprocess: start, then follow the job to its end.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string id = await admin.StartReprocessAsync(token, today, today, ct);
        AdminJob? job = null;
        Assert.True(await TestPaths.EventuallyAsync(async () => (job = await admin.GetJobAsync(token, id, ct)) is { Running: false }, Wait), "the job did not end");
        Assert.Equal("succeeded", job!.State);
        Assert.Equal(1.0, job.Progress);
        Assert.Null(await admin.GetJobAsync(token, "no-such-job", ct));

        // A session that is not an admin's is refused with a readable reason.
        var refused = await Assert.ThrowsAsync<SiloApiException>(() => admin.GetRejectsAsync("not-a-token", ct));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
    }

    [Fact]
    public async Task Overview_tiles_read_every_figure_from_the_silo()
    {
        await using var silo = await SiloHost.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(silo.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var tiles = new OverviewTilesService(new SiloApi(http), TimeProvider.System);
        var sentry = Telemetry.Tests.Sentry.SentryMailTests.EventJson("0123456789abcdef0123456789abcdef", "boom:1", "TypeError: boom", DateTimeOffset.UtcNow, user: "u1", project: "web");
        var posted = await http.PostAsync("/api/sentry/events", new StringContent(sentry, Encoding.UTF8, "application/json"));

        var asAdmin = await tiles.GetAsync(new PortalUser("ada@example.org", SiloHost.AdminToken, IsAdmin: true), CancellationToken.None);
        var anonymous = await tiles.GetAsync(null, CancellationToken.None);

        Assert.Null(asAdmin.OpenRegressions.Problem);
        Assert.Equal(0, asAdmin.OpenRegressions.Value);
        Assert.Null(asAdmin.ExpiringSoon.Problem);
        Assert.Null(asAdmin.CrashRates.Problem);
        Assert.Empty(asAdmin.CrashRates.Value!);
        Assert.Null(asAdmin.TopErrors.Problem);
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var top = Assert.Single(asAdmin.TopErrors.Value!);
        Assert.Equal("TypeError: boom", top.Message);
        Assert.Equal(1, top.Events);
        Assert.Equal(new OutboxCounts(0, 0, false), asAdmin.Outbox!.Value);
        Assert.Null(anonymous.Outbox);
        // Everything but the outbox is public, as the overview is.
        Assert.Null(anonymous.OpenRegressions.Problem);
        Assert.Null(anonymous.ExpiringSoon.Problem);
        Assert.Null(anonymous.CrashRates.Problem);
        Assert.Equal("TypeError: boom", Assert.Single(anonymous.TopErrors.Value!).Message);
    }
}
