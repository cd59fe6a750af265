using System.Net;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Shared;

/// <summary>A failure as a person reads it: a title, a sentence, and whether the silo could not be reached at all.</summary>
public sealed record PageProblem(string Title, string Message, bool Unreachable) : IPageProblem
{
    /// <summary>The silo's own reason when it answered; "cannot be reached" when it did not; never a stack trace.</summary>
    public static PageProblem From(Exception exception, string what) => exception switch
    {
        SiloApiException { Status: HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } e =>
            new PageProblem("Silo unreachable", $"The silo did not answer, so {what} cannot be shown right now: {e.Message}.", Unreachable: true),
        SiloApiException { Status: HttpStatusCode.Unauthorized } =>
            new PageProblem("Session expired", "Your session has expired. Sign out and sign in again.", Unreachable: false),
        SiloApiException e => new PageProblem($"Could not load {what}", Capitalized(e.Message) + ".", Unreachable: false),
        _ => new PageProblem($"Could not load {what}", "Something unexpected went wrong; the details are in the portal's log.", Unreachable: false),
    };

    /// <summary>The reason an action was refused, in one sentence.</summary>
    public static string ActionFailed(Exception exception) => exception switch
    {
        SiloApiException { Status: HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } e => $"The silo did not answer: {e.Message}.",
        SiloApiException e => Capitalized(e.Message) + ".",
        _ => "Something unexpected went wrong; the details are in the portal's log.",
    };

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].TrimEnd('.');
}
