namespace Telemetry.Grains.Alerts;

/// <summary>
/// Signed one-click unsubscribe links (no login; docs/alerts.md, "Unsubscribe"): every mail carries one
/// in its text and in its <c>List-Unsubscribe</c> header.
/// </summary>
public interface IUnsubscribeLinks
{
    /// <summary>Pauses the subscription when followed.</summary>
    string ForSubscription(long subscriptionId);

    /// <summary>Opts a probe owner out of mail about one probe when followed.</summary>
    string ForOwner(string email, string probe);
}
