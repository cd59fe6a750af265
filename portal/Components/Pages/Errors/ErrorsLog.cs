namespace Telemetry.Portal.Components.Pages.Errors;

/// <summary>Log messages of the errors, subscriptions and alert pages: what failed, with the exception for the operator.</summary>
internal static partial class ErrorsLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Loading the {What} from the silo failed")]
    public static partial void LoadFailed(ILogger logger, string what, Exception exception);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "The {What} action was refused or failed")]
    public static partial void ActionFailed(ILogger logger, string what, Exception exception);
}
