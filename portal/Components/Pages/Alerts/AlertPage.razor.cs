using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Pages.Errors;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Alerts;

/// <summary>
/// Every alert's permanent page, where the link in its mail points (docs/alerts.md, "Mail"): what fired,
/// when, the detector's data, the state, and the lifecycle actions of signed-in people with who and when.
/// </summary>
public sealed partial class AlertPage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _closing = new();
    private AlertDetail? _alert;
    private PageProblem? _problem;
    private bool _loading = true;
    private PortalUser? _user;
    private DateTimeOffset _now;
    private string? _comment;
    private string? _bug;
    private TimeSpan _snoozeFor = SnoozeChoices.Default;
    private bool _acting;
    private string? _actionMessage;
    private bool _actionFailed;
    private long? _loadedId;

    [Inject] private IAlertsSource Source { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private ILogger<AlertPage> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    [Parameter] public long Id { get; set; }

    private string SignInHref => "/signin?return=" + Uri.EscapeDataString("/" + Navigation.ToBaseRelativePath(Navigation.Uri));

    protected override async Task OnInitializedAsync()
    {
        _user = AuthState is null ? null : PortalUser.From((await AuthState).User);
    }

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedId != Id)
        {
            await LoadAsync();
        }
    }

    private async Task LoadAsync()
    {
        _loadedId = Id;
        _loading = true;
        _problem = null;
        try
        {
            _alert = await Source.GetAsync(Id, _closing.Token);
            _now = Clock.GetUtcNow();
        }
        catch (OperationCanceledException) when (_closing.IsCancellationRequested)
        {
            // The page was closed.
        }
        catch (Exception e)
        {
            ErrorsLog.LoadFailed(Logger, "alert", e);
            _problem = PageProblem.From(e, "this alert");
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task ActAsync(string action)
    {
        if (_user is null || _alert is null)
        {
            return;
        }
        string? comment = string.IsNullOrWhiteSpace(_comment) ? null : _comment.Trim();
        string? bug = string.IsNullOrWhiteSpace(_bug) ? null : _bug.Trim();
        DateTimeOffset? until = action == "snooze" ? Clock.GetUtcNow() + _snoozeFor : null;
        string? failed = await PageAction.RunAsync(Logger, action, busy => _acting = busy, async () =>
        {
            _alert = await Source.ActAsync(Id, new AlertAction(action, comment, bug, until), _user.Token, _closing.Token);
            _now = Clock.GetUtcNow();
            _comment = null;
            _bug = null;
            _actionMessage = action switch
            {
                "comment" => "Comment added.",
                "snooze" => $"Snoozed until {Timestamps.Utc(until)}: no mail about it until then.",
                _ => $"Done: {action}. The alert is now {_alert.State}.",
            };
        });
        _actionFailed = failed is not null;
        _actionMessage = failed ?? _actionMessage;
    }

    /// <summary>The matching attributes of the alert that it has, labelled for people.</summary>
    private static IEnumerable<(string Label, string Value)> Facts(AlertDetail a)
    {
        if (a.Channel is not null)
        {
            yield return ("Channel", a.Channel);
        }
        if (a.Subject is not null)
        {
            yield return (a.Kind switch { "sentry" => "Project", "expiry" => "Probe", "regression" => "Metric", _ => "Subject" }, a.Subject);
        }
        if (a.Detector is not null)
        {
            yield return (a.Kind is "sentry" or "crash_rate" ? "Rule" : "Detector", a.Detector);
        }
        if (a.OccurredOn is not null)
        {
            yield return (a.Kind switch { "regression" => "Build date", "expiry" => "Expires", _ => "Date" }, a.OccurredOn);
        }
        if (a.Score is { } score)
        {
            yield return ("Score", score.ToString("0.###", CultureInfo.InvariantCulture));
        }
        if (a.SubscriptionId is { } sub)
        {
            yield return ("Subscription", $"#{sub}");
        }
        if (a.Owners.Count > 0)
        {
            yield return ("Owners", string.Join(", ", a.Owners));
        }
        yield return ("Key", a.Key);
    }

    /// <summary>For a Sentry alert whose data names the issue, the issue's page.</summary>
    private static string? ErrorLink(AlertDetail a)
    {
        if (a.Kind != "sentry")
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(a.DetailsJson);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("project", out var p) && p.ValueKind == JsonValueKind.String
                && doc.RootElement.TryGetProperty("fingerprint", out var f) && f.ValueKind == JsonValueKind.String
                ? ErrorsFilter.IssueHref(p.GetString()!, f.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The detector's data laid out one field per line (Blazor escapes it as text).</summary>
    private static string Indented(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(doc.RootElement, IndentedJson);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    private static bool IsWebLink(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    private static string KindTitle(string kind) => kind switch
    {
        "regression" => "Histogram regression",
        "expiry" => "Probe expiry",
        "crash_rate" => "Crash rate",
        "sentry" => "Sentry errors",
        _ => kind,
    };

    private static Color StateColor(string state) => state switch
    {
        "new" => Color.Warning,
        "regressed" => Color.Error,
        "acknowledged" => Color.Info,
        "resolved" => Color.Success,
        _ => Color.Default,
    };

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }
}
