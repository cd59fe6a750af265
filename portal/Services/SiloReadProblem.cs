using System.Net;

namespace Telemetry.Portal.Services;

/// <summary>A failure as a page shows it (<c>ProblemCard</c>): a title, a sentence, and whether the silo could not be reached at all.</summary>
public interface IPageProblem
{
    string Title { get; }
    string Message { get; }
    bool Unreachable { get; }
}

/// <summary>What a page says when a read from the silo failed: a title and a sentence a person can act on.</summary>
public sealed record SiloReadProblem(string Title, string Message, bool Unreachable) : IPageProblem
{
    /// <summary>
    /// Turns a failure into words: the silo's own reason for an error answer, a plain "cannot be reached"
    /// when it is down, and a generic sentence (details in the log) for anything unexpected.
    /// </summary>
    /// <param name="exception">What the read threw.</param>
    /// <param name="what">What the page was reading, e.g. "crash rates".</param>
    /// <param name="forbiddenHint">What to do about a 403 on this page.</param>
    public static SiloReadProblem From(Exception exception, string what, string forbiddenHint = "sign in, or ask an administrator") => exception switch
    {
        SiloApiException { Status: HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout } e =>
            new SiloReadProblem("Silo unreachable", $"The {what} could not be loaded: {e.Message}.", Unreachable: true),
        SiloApiException { Status: HttpStatusCode.Forbidden } =>
            new SiloReadProblem("Not allowed", $"The silo refused to show the {what}: {forbiddenHint}.", Unreachable: false),
        SiloApiException e =>
            new SiloReadProblem($"The {what} could not be loaded", $"The silo answered: {e.Message}.", Unreachable: false),
        _ => new SiloReadProblem($"The {what} could not be loaded", "Something unexpected went wrong. The details are in the portal's log.", Unreachable: false),
    };
}
