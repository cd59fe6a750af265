using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Portal.Components.Pages.Expiring;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal.Data;

public sealed class ExpiringPageTests : PortalPageContext
{
    private readonly FakeExpiring _source = new();

    public ExpiringPageTests() => Services.AddSingleton<IExpiringSource>(_source);

    [Fact]
    public void Lists_expired_and_expiring_probes_with_version_date_days_left_and_owners()
    {
        SignedOut();
        var page = Open<ExpiringPage>("/expiring");

        Assert.Equal((42, null), _source.Last);
        Assert.Equal(["OLD_PROBE", "GC_MS", "TAB_COUNT"], page.FindAll("[data-testid=probe-name]").Select(e => e.TextContent).ToList());
        var rows = page.FindAll("[data-testid=expiring-table] tbody tr").Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList()).ToList();
        Assert.Equal(["OLD_PROBE", "140", "2026-11-10", "expired 21 d ago", "none listed"], rows[0]);
        Assert.Equal(["GC_MS", "147", "2026-12-08", "7", "gc@example.org, js@example.org"], rows[1]);
        Assert.Equal(["TAB_COUNT", "148", "2027-01-05 (projected)", "35", "ana@example.org"], rows[2]);
        Assert.Contains("As of 2026-12-01", Text(page, "as-of"));
    }

    [Fact]
    public void The_days_come_from_the_url_and_a_change_is_written_back()
    {
        SignedOut();
        var page = Open<ExpiringPage>("/expiring?days=90");
        Assert.Equal((90, null), _source.Last);

        Type(page, "filter-days", "14");

        Assert.Equal("/expiring?days=14", CurrentUrl);
        Assert.Equal((14, null), _source.Last);
    }

    [Fact]
    public void Mine_asks_for_the_signed_in_persons_probes()
    {
        SignIn("ana@example.org", "session-ana");
        var page = Open<ExpiringPage>("/expiring?mine=true");

        Assert.Equal((42, "ana@example.org"), _source.Last);
        Assert.Equal(["TAB_COUNT"], page.FindAll("[data-testid=probe-name]").Select(e => e.TextContent).ToList());
    }

    [Fact]
    public void Mine_without_a_session_asks_to_sign_in_instead_of_listing_everyone()
    {
        SignedOut();
        var page = Open<ExpiringPage>("/expiring?mine=true");

        Assert.Contains("Sign in to see your probes", Text(page, "sign-in-needed"));
        Assert.Null(_source.Last);
    }

    [Fact]
    public void Shows_the_empty_state_and_the_silos_error()
    {
        SignedOut();
        _source.Probes = [];
        var empty = Open<ExpiringPage>("/expiring?days=7");
        Assert.Contains("No probe expires soon", Text(empty, "empty"));

        _source.Failure = new SiloApiException(HttpStatusCode.BadRequest, "within_days must be between 0 and 3650");
        var failed = Open<ExpiringPage>("/expiring?days=8");
        Assert.Contains("The silo answered: within_days must be between 0 and 3650.", Text(failed, "load-error-message"));
    }

    private sealed class FakeExpiring : IExpiringSource
    {
        public List<ExpiringProbe> Probes { get; set; } =
        [
            new("OLD_PROBE", "140", "2026-11-10", -21, true, false, []),
            new("GC_MS", "147", "2026-12-08", 7, false, false, ["gc@example.org", "js@example.org"]),
            new("TAB_COUNT", "148", "2027-01-05", 35, false, true, ["ana@example.org"]),
        ];

        public Exception? Failure { get; set; }
        public (int Days, string? Owner)? Last { get; private set; }

        public Task<ExpiringList> GetAsync(int withinDays, string? owner, CancellationToken cancellationToken)
        {
            Last = (withinDays, owner);
            if (Failure is not null)
            {
                return Task.FromException<ExpiringList>(Failure);
            }
            var probes = Probes.Where(p => owner is null || p.Owners.Contains(owner, StringComparer.OrdinalIgnoreCase));
            return Task.FromResult(new ExpiringList("2026-12-01", withinDays, [.. probes]));
        }
    }
}
