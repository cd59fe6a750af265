using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Telemetry.Portal.Auth;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Admin;

/// <summary>
/// What every admin page shares: the signed-in administrator (nothing is read for anyone else), the admin
/// source, and turning a failure into a sentence a person can act on.
/// </summary>
public abstract partial class AdminPageBase : ComponentBase, IDisposable
{
    [CascadingParameter]
    private Task<AuthenticationState>? AuthState { get; set; }

    [Inject]
    protected IAdminSource Admin { get; set; } = default!;

    [Inject]
    private ILogger<AdminPageBase> Logger { get; set; } = default!;

    protected CancellationTokenSource Closing { get; } = new();

    protected PortalUser? Viewer { get; private set; }

    protected bool IsAdmin => Viewer?.IsAdmin == true;

    /// <summary>The administrator's silo session.</summary>
    protected string Bearer => Viewer?.Token ?? "";

    /// <summary>True until the first load has ended.</summary>
    protected bool Loading { get; set; } = true;

    /// <summary>Why the last load or action failed, readable as is; null when it did not.</summary>
    protected string? Problem { get; set; }

    protected override async Task OnInitializedAsync()
    {
        Viewer = PortalUser.From(AuthState is null ? null : (await AuthState).User);
        if (IsAdmin)
        {
            await RunAsync(LoadAsync);
        }
        Loading = false;
    }

    /// <summary>Reads what the page shows.</summary>
    protected abstract Task LoadAsync();

    /// <summary>Runs a read or an action, leaving <see cref="Problem"/> set when it failed.</summary>
    protected async Task<bool> RunAsync(Func<Task> work)
    {
        try
        {
            await work();
            Problem = null;
            return true;
        }
        catch (OperationCanceledException) when (Closing.IsCancellationRequested)
        {
            return false;
        }
        catch (SiloApiException e)
        {
            Problem = Sentence(e.Message);
            return false;
        }
        catch (Exception e)
        {
            LogFailed(Logger, GetType().Name, e);
            Problem = "Something went wrong on this page; the details are in the portal's log.";
            return false;
        }
    }

    private static string Sentence(string message) =>
        message.Length == 0 ? "The silo refused the request." : char.ToUpperInvariant(message[0]) + message[1..].TrimEnd('.') + ".";

    [LoggerMessage(EventId = 8301, Level = LogLevel.Error, Message = "Admin page {Page} failed")]
    private static partial void LogFailed(ILogger logger, string page, Exception exception);

    public virtual void Dispose()
    {
        Closing.Cancel();
        Closing.Dispose();
        GC.SuppressFinalize(this);
    }
}
