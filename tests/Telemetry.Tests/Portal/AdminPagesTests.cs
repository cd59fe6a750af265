using System.Collections.Immutable;
using System.Security.Claims;
using System.Text;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Pages.Admin;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

// IAsyncLifetime: MudBlazor registers services that only implement IAsyncDisposable (see OverviewPageTests).
public sealed class AdminPagesTests : BunitContext, IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private const string Session = "session-of-ada";

    private readonly FakeAdminSource _admin = new();
    private readonly BunitAuthorizationContext _auth;
    private PortalAdminOptions _options = new() { JobPollInterval = TimeSpan.FromHours(1) };

    public AdminPagesTests()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<IAdminSource>(_admin);
        Services.AddSingleton<IOptions<PortalAdminOptions>>(_ => Options.Create(_options));
        _auth = AddAuthorization();
    }

    public static TheoryData<string> PagesThatRead => ["probes", "calendar", "rejects", "dead-letters", "outbox"];

    public static TheoryData<string> AllPages => ["index", "probes", "calendar", "reprocess", "rejects", "dead-letters", "outbox"];

    [Theory]
    [MemberData(nameof(AllPages))]
    public void A_signed_in_person_who_is_not_an_admin_is_told_so_and_nothing_is_read(string page)
    {
        _auth.SetAuthorized("bob@example.org");
        _auth.SetClaims(new Claim(ClaimTypes.Email, "bob@example.org"), new Claim(PortalUser.TokenClaim, "session-of-bob"));

        var rendered = RenderPage(page);

        Assert.Contains("This page is for administrators", rendered.Markup);
        Assert.Empty(_admin.Bearers);
    }

    [Theory]
    [MemberData(nameof(AllPages))]
    public void Without_signing_in_the_page_sends_to_sign_in_and_back(string page)
    {
        _auth.SetNotAuthorized();
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/admin/somewhere?state=failed");

        var rendered = RenderPage(page);

        Assert.DoesNotContain("This page is for administrators", rendered.Markup);
        Assert.Equal("http://localhost/signin?return=" + Uri.EscapeDataString("/admin/somewhere?state=failed"), navigation.Uri);
        Assert.Empty(_admin.Bearers);
    }

    [Theory]
    [MemberData(nameof(PagesThatRead))]
    public void Says_plainly_when_the_silo_cannot_be_reached(string page)
    {
        SignInAsAdmin();
        _admin.Failure = FakeAdminSource.Unreachable();

        var rendered = RenderPage(page);

        Assert.Equal("The silo at http://127.0.0.1:8080/ cannot be reached (Connection refused).",
            rendered.Find("[data-testid=admin-error]").TextContent.Trim());
        Assert.DoesNotContain("SiloApiException", rendered.Markup);
    }

    [Theory]
    [MemberData(nameof(PagesThatRead))]
    public void Shows_an_explicit_empty_state(string page)
    {
        SignInAsAdmin();

        var rendered = RenderPage(page);

        Assert.NotNull(rendered.Find("[data-testid=admin-empty]"));
        Assert.Empty(rendered.FindAll("[data-testid=admin-error]"));
        Assert.All(_admin.Bearers, b => Assert.Equal(Session, b));
        Assert.NotEmpty(_admin.Bearers);
    }

    [Fact]
    public void An_unexpected_failure_shows_no_exception_details()
    {
        SignInAsAdmin();
        _admin.Failure = new InvalidOperationException("Password=hunter2");

        var rendered = RenderPage("rejects");

        Assert.Contains("the details are in the portal's log", rendered.Find("[data-testid=admin-error]").TextContent);
        Assert.DoesNotContain("hunter2", rendered.Markup);
    }

    [Fact]
    public void Index_links_every_admin_page_and_says_how_to_enable_the_dashboard_link()
    {
        SignInAsAdmin();

        var page = Render<AdminIndexPage>();

        Assert.Equal(
            ["/admin/probes", "/admin/calendar", "/admin/reprocess", "/admin/rejects", "/admin/dead-letters", "/admin/outbox"],
            page.FindAll("[data-testid=admin-link]").Select(a => a.GetAttribute("href")).ToList());
        Assert.Empty(page.FindAll("[data-testid=dashboard-link]"));
        Assert.Contains("Portal:Admin:DashboardUrl", page.Find("[data-testid=dashboard-howto]").TextContent);
    }

    [Fact]
    public void Index_links_the_configured_dashboard()
    {
        SignInAsAdmin();
        _options = new PortalAdminOptions { DashboardUrl = "http://silo.example:8080/dashboard/" };

        var page = Render<AdminIndexPage>();

        Assert.Equal("http://silo.example:8080/dashboard/", page.Find("[data-testid=dashboard-link]").GetAttribute("href"));
        Assert.Empty(page.FindAll("[data-testid=dashboard-howto]"));
    }

    [Fact]
    public void Probes_lists_revisions_with_their_channels()
    {
        SignInAsAdmin();
        _admin.Revisions.Add(new ProbeRevision("rev-b", 1234, 56, new DateTimeOffset(2026, 11, 30, 8, 15, 0, TimeSpan.Zero), ["beta", "nightly"],
            [new ProbeDefinitionError("A_BAD_ONE", "unknown kind")]));
        _admin.Revisions.Add(new ProbeRevision("rev-a", 1200, 50, new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), ["release"], []));

        var page = Render<ProbesAdminPage>();

        var rows = page.FindAll("[data-testid=revision]");
        Assert.Equal(["rev-b", "rev-a"], rows.Select(r => r.GetAttribute("data-revision")).ToList());
        Assert.Equal("1,234", rows[0].QuerySelector("[data-testid=revision-histograms]")!.TextContent.Trim());
        Assert.Equal(["beta", "nightly"], rows[0].QuerySelectorAll("[data-testid=revision-channel]").Select(c => c.TextContent.Trim()).ToList());
        Assert.Contains("2026-11-30 08:15 UTC", rows[0].TextContent);
        Assert.Empty(page.FindAll("[data-testid=admin-empty]"));
    }

    [Fact]
    public void Upload_posts_the_chosen_file_under_the_typed_revision_and_shows_what_was_not_understood()
    {
        SignInAsAdmin();
        _admin.UploadAnswer = new ProbeUploadOutcome(2, [new ProbeDefinitionError("WEIRD", "no kind")]);
        const string document = """{"GC_MS":{"kind":"exponential","high":10000,"n_buckets":50,"expires_in_version":"never"}}""";
        var page = Render<ProbesAdminPage>();

        page.FindComponents<MudTextField<string>>()[0].Find("input").Change("rev-42");
        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(document, "Histograms.json"));
        page.WaitForAssertion(() => Assert.Contains("Histograms.json", page.Find("[data-testid=upload-picked]").TextContent), Wait);
        page.Find("button[data-testid=upload]").Click();

        page.WaitForAssertion(() => Assert.Single(_admin.Uploads), Wait);
        Assert.Equal("rev-42", _admin.Uploads[0].Revision);
        Assert.Equal(document, Encoding.UTF8.GetString(_admin.Uploads[0].Document));
        var result = page.Find("[data-testid=upload-result]").TextContent;
        Assert.Contains("Revision rev-42: 2 definitions loaded, 1 could not be understood", result);
        Assert.Contains("WEIRD: no kind", result);
        Assert.All(_admin.Bearers, b => Assert.Equal(Session, b));
    }

    [Fact]
    public void Channel_mapping_sends_the_channel_and_revision()
    {
        SignInAsAdmin();
        var page = Render<ProbesAdminPage>();

        var fields = page.FindComponents<MudTextField<string>>();
        fields[1].Find("input").Change("nightly");
        fields[2].Find("input").Change("rev-42");
        page.Find("button[data-testid=map]").Click();

        page.WaitForAssertion(() => Assert.Equal([("nightly", "rev-42")], _admin.Mappings), Wait);
        Assert.Equal("nightly now uses revision rev-42.", page.Find("[data-testid=map-result]").TextContent.Trim());
    }

    [Fact]
    public void Calendar_shows_the_trains_and_saves_an_edit()
    {
        SignInAsAdmin();
        _admin.Calendar = new ReleaseCalendarView("file", null, 28, "official dates",
        [
            new CalendarTrain("57", new DateOnly(2017, 6, 12), new DateOnly(2017, 11, 14)),
            new CalendarTrain("58", new DateOnly(2017, 8, 2), new DateOnly(2018, 1, 23)),
        ]);
        var page = Render<CalendarAdminPage>();

        Assert.Equal(["57", "58"], page.FindAll("[data-testid=train]").Select(r => r.GetAttribute("data-version")).ToList());
        Assert.Contains("2018-01-23", page.FindAll("[data-testid=train]")[1].TextContent);

        page.Find("button[data-testid=calendar-edit]").Click();
        page.Find("button[data-testid=draft-add]").Click();
        var rows = page.FindAll("[data-testid=draft-row]");
        Assert.Equal(3, rows.Count);
        // The new row starts one cadence after the last train.
        Assert.Equal("59", page.FindComponents<MudTextField<string>>()[6].Find("input").GetAttribute("value"));
        page.FindComponents<MudTextField<string>>()[8].Find("input").Change("2018-03-13");
        page.Find("button[data-testid=calendar-save]").Click();

        page.WaitForAssertion(() => Assert.Single(_admin.CalendarPuts), Wait);
        Assert.Equal(
            [new CalendarTrain("57", new DateOnly(2017, 6, 12), new DateOnly(2017, 11, 14)),
             new CalendarTrain("58", new DateOnly(2017, 8, 2), new DateOnly(2018, 1, 23)),
             new CalendarTrain("59", new DateOnly(2017, 8, 30), new DateOnly(2018, 3, 13))],
            _admin.CalendarPuts[0]);
        Assert.NotNull(page.Find("[data-testid=calendar-saved]"));
        Assert.Equal(3, page.FindAll("[data-testid=train]").Count);
    }

    [Fact]
    public void Calendar_names_a_bad_row_and_sends_nothing()
    {
        SignInAsAdmin();
        _admin.Calendar = new ReleaseCalendarView("upload", DateTimeOffset.UtcNow, 28, null,
            [new CalendarTrain("58", new DateOnly(2017, 8, 2), new DateOnly(2018, 1, 23))]);
        var page = Render<CalendarAdminPage>();

        page.Find("button[data-testid=calendar-edit]").Click();
        page.FindComponents<MudTextField<string>>()[2].Find("input").Change("23/01/2018");
        page.Find("button[data-testid=calendar-save]").Click();

        Assert.Contains("Row 1 (version 58): the release '23/01/2018' is not a date (yyyy-MM-dd).", page.Find("[data-testid=calendar-problems]").TextContent);
        Assert.Empty(_admin.CalendarPuts);
    }

    [Fact]
    public void Reprocess_starts_the_range_from_the_url_and_the_progress_bar_follows_the_job()
    {
        SignInAsAdmin();
        _options = new PortalAdminOptions { JobPollInterval = TimeSpan.FromMilliseconds(30) };
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/admin/reprocess?from=2026-11-01&to=2026-11-03");
        _admin.JobAnswers.Enqueue(FakeAdminSource.Job("running", 0.0));
        _admin.JobAnswers.Enqueue(FakeAdminSource.Job("running", 0.25, "2026-11-01"));
        _admin.JobAnswers.Enqueue(FakeAdminSource.Job("running", 0.6, "2026-11-02"));
        _admin.JobAnswers.Enqueue(FakeAdminSource.Job("succeeded", 1.0, "done"));

        var page = Render<ReprocessAdminPage>();
        Assert.Empty(page.FindAll("[data-testid=job]"));
        page.Find("button[data-testid=reprocess-start]").Click();

        Assert.Equal([(new DateOnly(2026, 11, 1), new DateOnly(2026, 11, 3))], _admin.Reprocesses);
        Assert.Contains("job=job-1", navigation.Uri);
        Assert.Contains("from=2026-11-01", navigation.Uri);
        var seen = new HashSet<string>();
        page.WaitForAssertion(() =>
        {
            seen.Add(page.Find("[data-testid=job-progress]").GetAttribute("data-value")!);
            Assert.Equal("succeeded", page.Find("[data-testid=job-state]").TextContent.Trim());
        }, Wait);
        Assert.Equal("100", page.Find("[data-testid=job-progress]").GetAttribute("data-value"));
        Assert.Equal("100 % · done", page.Find("[data-testid=job-percent]").TextContent.Trim());
        Assert.Contains("rows: 1,000", page.Find("[data-testid=job-count]").TextContent);
        // The bar moved through the job's intermediate progress, not straight to the end.
        Assert.True(seen.Count >= 2, "the bar showed only " + string.Join(",", seen));
    }

    [Fact]
    public void Reprocess_shows_a_failed_job_and_refuses_a_backwards_range()
    {
        SignInAsAdmin();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/admin/reprocess?job=job-1&from=2026-11-05&to=2026-11-01");
        _admin.JobAnswers.Enqueue(FakeAdminSource.Job("failed", 0.4, error: "partition 3's pause lapsed; run it again"));

        var page = Render<ReprocessAdminPage>();

        Assert.Equal("40", page.Find("[data-testid=job-progress]").GetAttribute("data-value"));
        Assert.Equal("partition 3's pause lapsed; run it again", page.Find("[data-testid=job-error]").TextContent.Trim());
        page.Find("button[data-testid=reprocess-start]").Click();
        Assert.Equal("The range ends before it starts.", page.Find("[data-testid=reprocess-input-problem]").TextContent.Trim());
        Assert.Empty(_admin.Reprocesses);
    }

    [Fact]
    public void Rejects_shows_counts_by_reason_with_their_samples()
    {
        SignInAsAdmin();
        var at = new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
        _admin.Rejects = new IngestRejectsView(15,
        [
            new RejectReason("bad_json", 12, [new RejectSampleItem(at, "doc-1/main/Firefox/57.0/release/20171101000000", "bad_json: not JSON", 15, "not json at all")]),
            new RejectReason("empty", 3, []),
        ]);

        var page = Render<RejectsAdminPage>();

        var reasons = page.FindAll("[data-testid=reject-reason]");
        Assert.Equal([("bad_json", "12"), ("empty", "3")],
            reasons.Select(r => (r.GetAttribute("data-reason"), r.QuerySelector("[data-testid=reject-count]")!.TextContent.Trim())).ToList());
        Assert.Contains("80.0 %", reasons[0].TextContent);
        Assert.Equal("doc-1/main/Firefox/57.0/release/20171101000000", page.Find("[data-testid=reject-sample-path]").TextContent.Trim());
        Assert.Contains("not json at all", page.Find("[data-testid=reject-sample]").TextContent);
        Assert.Contains("No recent sample.", reasons[1].TextContent);
        Assert.Contains("15 rejected", page.Find("[data-testid=rejects-total]").TextContent);
    }

    [Fact]
    public void Dead_letters_shows_counts_and_the_letters()
    {
        SignInAsAdmin();
        _admin.DeadLetters = new DeadLetterListing(
            [new DeadLetter(31, new DateTimeOffset(2026, 12, 1, 9, 30, 0, TimeSpan.Zero), "http", "bad_json", "{not an event")],
            new Dictionary<string, long> { ["bad_json"] = 4, ["no_fingerprint"] = 9 });

        var page = Render<DeadLettersAdminPage>();

        Assert.Equal(["no_fingerprint: 9", "bad_json: 4"], page.FindAll("[data-testid=dead-letter-count]").Select(c => c.TextContent.Trim()).ToList());
        var letter = page.Find("[data-testid=dead-letter]");
        Assert.Equal("31", letter.GetAttribute("data-id"));
        Assert.Contains("{not an event", letter.TextContent);
        Assert.Contains("2026-12-01 09:30:00", letter.TextContent);
    }

    [Fact]
    public void Outbox_lists_failed_mails_by_default_and_retry_posts_that_row()
    {
        SignInAsAdmin();
        _admin.Outbox.Add(Mail(9, "failed", "smtp: 550 mailbox unavailable"));
        _admin.Outbox.Add(Mail(8, "pending", null));
        _admin.Outbox.Add(Mail(7, "failed", "smtp: timeout"));

        var page = Render<OutboxAdminPage>();

        Assert.Equal("failed", _admin.OutboxStatesAsked[0]);
        Assert.Equal(["9", "7"], page.FindAll("[data-testid=outbox-row]").Select(r => r.GetAttribute("data-id")).ToList());
        Assert.Contains("550 mailbox unavailable", page.FindAll("[data-testid=outbox-row]")[0].TextContent);

        page.Find("button[data-testid=retry-7]").Click();

        page.WaitForAssertion(() => Assert.Equal([7L], _admin.Retried), Wait);
        Assert.Contains("Mail 7 is pending again", page.Find("[data-testid=outbox-retried]").TextContent);
        // Reloaded: 7 is no longer failed, so only 9 is left in this view.
        Assert.Equal(["9"], page.FindAll("[data-testid=outbox-row]").Select(r => r.GetAttribute("data-id")).ToList());
        Assert.All(_admin.Bearers, b => Assert.Equal(Session, b));
    }

    [Fact]
    public void Outbox_filter_comes_from_the_url_and_its_links_keep_the_page()
    {
        SignInAsAdmin();
        Services.GetRequiredService<NavigationManager>().NavigateTo("/admin/outbox?state=pending");
        _admin.Outbox.Add(Mail(8, "pending", null));

        var page = Render<OutboxAdminPage>();

        Assert.Equal("pending", _admin.OutboxStatesAsked[0]);
        Assert.Equal(["8"], page.FindAll("[data-testid=outbox-row]").Select(r => r.GetAttribute("data-id")).ToList());
        Assert.Empty(page.FindAll("button[data-testid^=retry-]"));
        var links = page.FindAll("[data-testid=outbox-filter]").ToDictionary(a => a.GetAttribute("data-state")!, a => a.GetAttribute("href"));
        Assert.Equal("http://localhost/admin/outbox?state=failed", links["failed"]);
        Assert.Equal("http://localhost/admin/outbox?state=", links[""]);
    }

    Task IAsyncLifetime.InitializeAsync() => Task.CompletedTask;

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    private void SignInAsAdmin()
    {
        _auth.SetAuthorized("ada@example.org");
        _auth.SetRoles(PortalAuth.AdminRole);
        _auth.SetPolicies(PortalAuth.AdminPolicy);
        _auth.SetClaims(new Claim(ClaimTypes.Email, "ada@example.org"), new Claim(PortalUser.TokenClaim, Session));
    }

    private IRenderedComponent<Bunit.Rendering.ContainerFragment> RenderPage(string page)
    {
        var type = page switch
        {
            "index" => typeof(AdminIndexPage),
            "probes" => typeof(ProbesAdminPage),
            "calendar" => typeof(CalendarAdminPage),
            "reprocess" => typeof(ReprocessAdminPage),
            "rejects" => typeof(RejectsAdminPage),
            "dead-letters" => typeof(DeadLettersAdminPage),
            "outbox" => typeof(OutboxAdminPage),
            _ => throw new ArgumentOutOfRangeException(nameof(page)),
        };
        return Render(builder =>
        {
            builder.OpenComponent(0, type);
            builder.CloseComponent();
        });
    }

    private static OutboxEntry Mail(long id, string state, string? error) => new(
        id, $"alert-{id}", "owner@example.org", "alert", $"Regression {id}", state, state == "failed" ? 8 : 0,
        DateTimeOffset.UtcNow, error, new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero), null);
}
