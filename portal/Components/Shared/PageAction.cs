using Telemetry.Portal.Components.Pages.Errors;

namespace Telemetry.Portal.Components.Shared;

/// <summary>
/// One action a signed-in person started on a page (triage, a subscription change, a dry run): the page is busy
/// while it runs; the answer is null when it worked, else the reason in one sentence (logged with its details).
/// The cancellation of a closed page goes through.
/// </summary>
internal static class PageAction
{
    public static async Task<string?> RunAsync(ILogger logger, string action, Action<bool> busy, Func<Task> act)
    {
        busy(true);
        try
        {
            await act();
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ErrorsLog.ActionFailed(logger, action, e);
            return PageProblem.ActionFailed(e);
        }
        finally
        {
            busy(false);
        }
    }
}
