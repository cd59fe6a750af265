using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Components.Pages.Errors;
using Telemetry.Portal.Components.Shared;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Subscriptions;

/// <summary>The signed-in person's subscriptions (create, edit, pause, resume, delete) and their recent mail.</summary>
public sealed partial class SubscriptionsPage : ComponentBase, IDisposable
{
    public const int SentShown = 50;

    private readonly CancellationTokenSource _closing = new();
    private IReadOnlyList<PersonSubscription>? _subscriptions;
    private IReadOnlyList<SentMessage>? _sent;
    private PageProblem? _problem;
    private PageProblem? _sentProblem;
    private PortalUser? _user;
    private SubscriptionForm? _form;
    private string? _formError;
    private string? _message;
    private bool _messageIsError;
    private long? _confirmDelete;
    private bool _busy;

    [Inject] private ISubscriptionsSource Source { get; set; } = default!;
    [Inject] private ILogger<SubscriptionsPage> Logger { get; set; } = default!;

    [CascadingParameter] private Task<AuthenticationState>? AuthState { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _user = AuthState is null ? null : PortalUser.From((await AuthState).User);
        if (_user is null)
        {
            _problem = new PageProblem("Sign in required", "Sign in to see and change your subscriptions.", Unreachable: false);
            return;
        }
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_user is null)
        {
            return;
        }
        _problem = null;
        _sentProblem = null;
        try
        {
            _subscriptions = await Source.ListAsync(_user.Token, _closing.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ErrorsLog.LoadFailed(Logger, "subscriptions", e);
            _problem = PageProblem.From(e, "your subscriptions");
        }
        try
        {
            _sent = await Source.SentAsync(SentShown, _user.Token, _closing.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ErrorsLog.LoadFailed(Logger, "sent mail", e);
            _sentProblem = PageProblem.From(e, "your recent mail");
        }
    }

    private void StartCreate()
    {
        _form = new SubscriptionForm();
        _formError = null;
        _message = null;
    }

    private void StartEdit(PersonSubscription s)
    {
        _form = SubscriptionForm.From(s);
        _formError = null;
        _message = null;
    }

    private void CancelForm()
    {
        _form = null;
        _formError = null;
    }

    private void ToggleRule(string rule, bool on)
    {
        if (on)
        {
            _form?.Rules.Add(rule);
        }
        else
        {
            _form?.Rules.Remove(rule);
        }
    }

    private async Task SaveAsync()
    {
        if (_form is not { } form || _user is null)
        {
            return;
        }
        var (body, error) = form.ToBody();
        if (body is null)
        {
            _formError = error;
            return;
        }
        string? failed = await PageAction.RunAsync(Logger, "subscription save", busy => _busy = busy, async () =>
        {
            var saved = form.Id is { } id
                ? await Source.UpdateAsync(id, body, _user.Token, _closing.Token)
                : await Source.CreateAsync(body, _user.Token, _closing.Token);
            _form = null;
            _formError = null;
            Say($"Subscription #{saved.Id} {(form.Id is null ? "created" : "saved")}.", error: false);
            await LoadAsync();
        });
        if (failed is not null)
        {
            _formError = failed;
        }
    }

    private async Task SetPausedAsync(PersonSubscription s, bool paused)
    {
        if (_user is null)
        {
            return;
        }
        string? failed = await PageAction.RunAsync(Logger, "subscription pause", busy => _busy = busy, async () =>
        {
            await Source.UpdateAsync(s.Id, SubscriptionBody.Of(s) with { Paused = paused }, _user.Token, _closing.Token);
            Say($"Subscription #{s.Id} {(paused ? "paused: it sends you nothing until you resume it" : "resumed")}.", error: false);
            await LoadAsync();
        });
        if (failed is not null)
        {
            Say(failed, error: true);
        }
    }

    private async Task DeleteAsync(PersonSubscription s)
    {
        if (_user is null)
        {
            return;
        }
        string? failed = await PageAction.RunAsync(Logger, "subscription delete", busy => _busy = busy, async () =>
        {
            await Source.DeleteAsync(s.Id, _user.Token, _closing.Token);
            _confirmDelete = null;
            Say($"Subscription #{s.Id} deleted.", error: false);
            await LoadAsync();
        });
        if (failed is not null)
        {
            Say(failed, error: true);
        }
    }

    private void Say(string message, bool error)
    {
        _message = message;
        _messageIsError = error;
    }

    private static Color SentColor(string state) => state switch
    {
        "sent" => Color.Success,
        "failed" => Color.Error,
        "pending" or "sending" => Color.Info,
        _ => Color.Default,
    };

    private static string SentStateText(string state) => state switch
    {
        "folded" => "waiting for digest",
        "digested" => "in a digest",
        "discarded" => "not sent (mail off)",
        _ => state,
    };

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }
}
