using System.Net;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Telemetry.Portal.Components.Pages.Errors;
using Telemetry.Portal.Services;

namespace Telemetry.Tests.Portal;

public sealed class ErrorsPageTests : PortalPageTestKit
{
    private readonly FakeErrorsSource _source = new();

    public ErrorsPageTests() => Services.AddSingleton<IErrorsSource>(_source);

    internal static ErrorIssue Issue(string fingerprint, long events, string state = "unresolved", string project = "web", long users = 1, params double[] daily) =>
        new(project, fingerprint, $"Error {fingerprint}", events, users, Now.AddDays(-5), Now.AddMinutes(-30), state, null,
            daily.Length > 0 ? daily : [0, 0, 0, 0, 0, 0, events]);

    [Fact]
    public void Lists_issues_in_the_silos_ranking_with_counts_users_state_and_a_sparkline_each()
    {
        _source.Issues = [Issue("checkout:TypeError", 1200, users: 340, daily: [100, 150, 200, 150, 200, 250, 150]), Issue("search:RangeError", 80, "regressed", users: 12), Issue("login:Null", 3, "muted")];

        var page = Render<ErrorsPage>();

        page.WaitForAssertion(() => Assert.Equal(3, page.FindAll("[data-testid=issue-row]").Count), Wait);
        var rows = page.FindAll("[data-testid=issue-row]");
        Assert.Equal(["checkout:TypeError", "search:RangeError", "login:Null"], rows.Select(r => r.GetAttribute("data-fingerprint")));
        Assert.Equal(["1,200", "80", "3"], rows.Select(r => r.QuerySelector("[data-testid=issue-events]")!.TextContent.Trim()));
        Assert.Equal(["340", "12", "1"], rows.Select(r => r.QuerySelector("[data-testid=issue-users]")!.TextContent.Trim()));
        Assert.Equal(["unresolved", "regressed", "muted"], rows.Select(r => r.QuerySelector("[data-testid=issue-state]")!.TextContent.Trim()));
        Assert.All(rows, r => Assert.NotNull(r.QuerySelector("[data-testid=issue-sparkline] svg path")));
        Assert.Equal("peak 250 per day", rows[0].QuerySelector("[data-testid=issue-sparkline-peak]")!.TextContent.Trim());
        Assert.Equal("/errors/web/checkout%3ATypeError", rows[0].QuerySelector("[data-testid=issue-link]")!.GetAttribute("href"));
        Assert.Contains("30 min ago", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Equal([(null, 7)], _source.ListCalls);
        // Only administrators may run the evaluator.
        Assert.Empty(page.FindAll("[data-testid=evaluate-dry-run]"));
    }

    [Fact]
    public void Says_plainly_when_no_error_was_recorded()
    {
        _source.Issues = [];

        var page = Render<ErrorsPage>();

        page.WaitForAssertion(() => Assert.Contains("No errors recorded", page.Find("[data-testid=errors-empty]").TextContent, StringComparison.Ordinal), Wait);
        Assert.Empty(page.FindAll("[data-testid=issue-row]"));
    }

    [Fact]
    public void An_unreachable_silo_is_named_without_a_stack_trace()
    {
        _source.Failure = new SiloApiException(HttpStatusCode.ServiceUnavailable, "the silo at http://127.0.0.1:8080/ cannot be reached (Connection refused)");

        var page = Render<ErrorsPage>();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=errors-error]")), Wait);
        string text = page.Find("[data-testid=errors-error]").TextContent;
        Assert.Contains("Silo unreachable", text, StringComparison.Ordinal);
        Assert.Contains("cannot be reached (Connection refused)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("[data-testid=issue-row]"));
    }

    [Fact]
    public void Filters_come_from_the_query_string_and_go_back_into_it()
    {
        _source.Issues = [Issue("a", 50, "muted"), Issue("b", 40, "unresolved"), Issue("c", 30, "muted")];
        GoTo("/errors?project=web&state=muted");

        var page = Render<ErrorsPage>();

        page.WaitForAssertion(() => Assert.Equal(["a", "c"], page.FindAll("[data-testid=issue-row]").Select(r => r.GetAttribute("data-fingerprint"))), Wait);
        Assert.Equal(("web", 7), _source.ListCalls[0]);

        // Choosing another state writes it into the address, keeping the project, and the list follows.
        var stateSelect = page.FindComponents<MudSelect<string>>()[1];
        page.InvokeAsync(() => stateSelect.Instance.ValueChanged.InvokeAsync("unresolved"));
        Assert.EndsWith("/errors?project=web&state=unresolved", CurrentUri, StringComparison.Ordinal);
        page.WaitForAssertion(() => Assert.Equal(["b"], page.FindAll("[data-testid=issue-row]").Select(r => r.GetAttribute("data-fingerprint"))), Wait);

        // Filtering to a state no issue is in says so, instead of an empty table.
        page.InvokeAsync(() => stateSelect.Instance.ValueChanged.InvokeAsync("resolved"));
        page.WaitForAssertion(() => Assert.Contains("No issue matches these filters", page.Find("[data-testid=errors-empty]").TextContent, StringComparison.Ordinal), Wait);

        // All projects removes the parameter.
        var projectSelect = page.FindComponents<MudSelect<string>>()[0];
        page.InvokeAsync(() => projectSelect.Instance.ValueChanged.InvokeAsync(""));
        Assert.EndsWith("/errors?state=resolved", CurrentUri, StringComparison.Ordinal);
    }

    [Fact]
    public void An_administrator_runs_a_dry_run_and_sees_who_would_be_mailed()
    {
        SignIn(admin: true);
        _source.Issues = [Issue("checkout:TypeError", 1200)];
        _source.Round = new EvaluationRound(true, Now, 4, [new EvaluationAlert("new-issue", "web", "checkout:TypeError", "Error checkout:TypeError", 1200, ["ann@example.org", "bob@example.org"])]);

        var page = Render<ErrorsPage>();
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=issue-row]")), Wait);
        page.Find("[data-testid=evaluate-dry-run]").Click();

        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=dry-run-alert]")), Wait);
        Assert.Equal([Token], _source.EvaluateTokens);
        Assert.Equal("ann@example.org, bob@example.org", page.Find("[data-testid=dry-run-recipients]").TextContent.Trim());
        Assert.Contains("Nothing was recorded or sent", page.Find("[data-testid=dry-run]").TextContent, StringComparison.Ordinal);
    }
}

/// <summary>The errors pages' data as a test sets it, recording what the page asked for.</summary>
internal sealed class FakeErrorsSource : IErrorsSource
{
    public IReadOnlyList<ErrorIssue> Issues { get; set; } = [];
    public ErrorIssueDetail? Detail { get; set; }
    public Exception? Failure { get; set; }
    public Exception? ActFailure { get; set; }
    public EvaluationRound? Round { get; set; }
    public List<(string? Project, int Days)> ListCalls { get; } = [];
    public List<(string Project, string Fingerprint, int Days)> GetCalls { get; } = [];
    public List<(string Project, string Fingerprint, IssueAction Action, string Bearer)> Actions { get; } = [];
    public List<string> EvaluateTokens { get; } = [];
    public Func<IssueAction, ErrorIssueDetail>? AfterAction { get; set; }

    public Task<IReadOnlyList<ErrorIssue>> ListAsync(string? project, int days, CancellationToken ct)
    {
        ListCalls.Add((project, days));
        return Failure is not null ? Task.FromException<IReadOnlyList<ErrorIssue>>(Failure) : Task.FromResult(Issues);
    }

    public Task<ErrorIssueDetail?> GetAsync(string project, string fingerprint, int days, CancellationToken ct)
    {
        GetCalls.Add((project, fingerprint, days));
        return Failure is not null ? Task.FromException<ErrorIssueDetail?>(Failure) : Task.FromResult(Detail);
    }

    public Task<ErrorIssueDetail> ActAsync(string project, string fingerprint, IssueAction action, string bearer, CancellationToken ct)
    {
        Actions.Add((project, fingerprint, action, bearer));
        if (ActFailure is not null)
        {
            return Task.FromException<ErrorIssueDetail>(ActFailure);
        }
        Detail = AfterAction?.Invoke(action) ?? Detail!;
        return Task.FromResult(Detail);
    }

    public Task<EvaluationRound> EvaluateDryRunAsync(string bearer, CancellationToken ct)
    {
        EvaluateTokens.Add(bearer);
        return Task.FromResult(Round!);
    }
}
