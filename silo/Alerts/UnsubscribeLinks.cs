using System.Globalization;
using Telemetry.Grains.Alerts;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// The signed one-click links every mail carries (docs/alerts.md, "Unsubscribe"), served by the silo at
/// <c>/unsubscribe</c>. They do not expire: an old mail's link still works.
/// </summary>
public sealed class UnsubscribeLinks(SigningKey key, string publicUrl) : IUnsubscribeLinks
{
    private readonly string _base = publicUrl.TrimEnd('/');

    public string ForSubscription(long subscriptionId) =>
        Link(string.Create(CultureInfo.InvariantCulture, $"s|{subscriptionId}"));

    public string ForOwner(string email, string probe) =>
        Link($"o|{email.Trim().ToLowerInvariant()}|{probe}");

    /// <summary>What a token asks for, or null when it is not a valid unsubscribe token.</summary>
    public static UnsubscribeRequest? Read(TokenSigner signer, string? token)
    {
        var payload = signer.Verify(TokenSigner.Unsubscribe, token);
        if (payload is null)
        {
            return null;
        }
        var parts = payload.Split('|');
        if (parts is ["s", var id] && long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out long sid))
        {
            return new UnsubscribeRequest(sid, null, null);
        }
        if (parts is ["o", var email, var probe] && email.Length > 0 && probe.Length > 0)
        {
            return new UnsubscribeRequest(null, email, probe);
        }
        return null;
    }

    private string Link(string payload) => $"{_base}/unsubscribe?token={Uri.EscapeDataString(key.Signer.Sign(TokenSigner.Unsubscribe, payload))}";
}

/// <summary>A subscription to pause, or a probe owner's opt-out.</summary>
public sealed record UnsubscribeRequest(long? SubscriptionId, string? OwnerEmail, string? Probe);
