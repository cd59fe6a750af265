using System.Collections.Immutable;
using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Telemetry.Portal.Components.Pages.CrashRates;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal.Data;

public sealed class CrashRatesPageTests : PortalPageContext
{
    private readonly FakeCrashRates _source = new();

    public CrashRatesPageTests() => Services.AddSingleton<ICrashRatesSource>(_source);

    [Fact]
    public void Shows_each_groups_rate_with_the_silos_interval_as_a_table_and_a_banded_chart()
    {
        var page = Open<CrashRatesPage>("/crash-rates?from=2026-11-01&to=2026-11-02");

        var rows = page.FindAll("[data-testid=crash-row]").Select(r => r.QuerySelectorAll("td").Select(td => td.TextContent.Trim()).ToList()).ToList();
        Assert.Equal(["2026-11-01", "nightly 147.0a1", "2,000", "6", "3", "1.1 – 6.53"], rows[0]);
        Assert.Equal(["2026-11-01", "beta 146.0", "500", "0", "0", "0 – 7.38"], rows[1]);
        Assert.Equal(["2026-11-02", "nightly 147.0a1", "1,000", "4", "4", "1.09 – 10.24"], rows[2]);
        // One line and one band per group; the group with most usage first in the legend.
        Assert.Equal(2, page.FindAll("[data-testid=crash-line]").Count);
        Assert.Equal(2, page.FindAll("[data-testid=crash-band]").Count);
        Assert.Equal(["nightly 147.0a1", "beta 146.0"], page.FindAll("[data-testid=crash-legend]").Select(l => l.TextContent.Trim()).ToList());
    }

    [Fact]
    public void Every_dimension_filter_is_read_from_the_url_sent_to_the_silo_and_shown_as_sql()
    {
        var page = Open<CrashRatesPage>("/crash-rates?from=2026-11-01&to=2026-11-07&by=submission&measure=content&group=os_name&channel=nightly&country=O%27Brien&gfx_compositor=d3d11");

        var request = _source.Requests.Single();
        Assert.Equal(("2026-11-01", "2026-11-07", "submission"), (request.From, request.To, request.By));
        Assert.Equal(new[] { "os_name" }, request.GroupBy.ToArray());
        Assert.Equal(new Dictionary<string, string> { ["channel"] = "nightly", ["country"] = "O'Brien", ["gfx_compositor"] = "d3d11" }, request.Filters);

        var sql = Text(page, "crash-sql-text");
        Assert.Equal(CrashRatesSql.Build(request, "content"), sql.Replace("\r\n", "\n"));
        Assert.Contains("dimensions->>'country' = 'O''Brien'", sql);
        Assert.Contains("content_crash_rate", sql);
    }

    [Fact]
    public void Apply_writes_the_form_back_to_the_url_and_reloads()
    {
        var page = Open<CrashRatesPage>("/crash-rates?from=2026-11-01&to=2026-11-02");

        Type(page, "filter-os_name", "Linux");
        Type(page, "filter-channel", "nightly");
        ClickUntil(page, "apply", () => Assert.Equal("/crash-rates?from=2026-11-01&to=2026-11-02&channel=nightly&os_name=Linux", CurrentUrl));
        Assert.Equal(new Dictionary<string, string> { ["channel"] = "nightly", ["os_name"] = "Linux" }, _source.Requests[^1].Filters);
        Assert.Contains("dimensions->>'os_name' = 'Linux'", Text(page, "crash-sql-text"));
    }

    [Fact]
    public void Shows_the_empty_state_and_a_readable_error()
    {
        _source.Rows = [];
        var empty = Open<CrashRatesPage>("/crash-rates?from=2026-11-01&to=2026-11-02");
        Assert.Contains("No crash data for these filters", Text(empty, "empty"));

        _source.Failure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");
        var failed = Open<CrashRatesPage>("/crash-rates?from=2026-11-03&to=2026-11-04");
        Assert.Contains("Silo unreachable", Text(failed, "load-error"));
        Assert.Empty(failed.FindAll("[data-testid=crash-row]"));
    }

    private static CrashRateRow Row(string date, string channel, string version, double hours, long crashes, double? rate, double low, double high) =>
        new(date, ImmutableSortedDictionary<string, string>.Empty.Add("channel", channel).Add("build_version", version), 100, hours, crashes, 0,
            rate, low, high, null, null, null);

    private sealed class FakeCrashRates : ICrashRatesSource
    {
        public ImmutableArray<CrashRateRow> Rows { get; set; } =
        [
            Row("2026-11-01", "nightly", "147.0a1", 2000, 6, 3, 1.1, 6.53),
            Row("2026-11-01", "beta", "146.0", 500, 0, 0, 0, 7.38),
            Row("2026-11-02", "nightly", "147.0a1", 1000, 4, 4, 1.09, 10.24),
        ];

        public Exception? Failure { get; set; }
        public List<CrashRateRequest> Requests { get; } = [];

        public Task<ImmutableArray<CrashRateRow>> GetAsync(CrashRateRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return Failure is null ? Task.FromResult(Rows) : Task.FromException<ImmutableArray<CrashRateRow>>(Failure);
        }
    }
}
