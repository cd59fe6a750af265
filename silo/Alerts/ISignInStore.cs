namespace Telemetry.Silo.Alerts;

/// <summary>The sign-in links handed out (single use, rate limit) and the cluster's generated signing key.</summary>
public interface ISignInStore
{
    Task RecordLinkAsync(string nonce, string email, DateTimeOffset createdAt, DateTimeOffset expiresAt, CancellationToken ct);

    /// <summary>Links handed out for <paramref name="email"/> since <paramref name="since"/>.</summary>
    Task<int> CountLinksSinceAsync(string email, DateTimeOffset since, CancellationToken ct);

    /// <summary>Marks the link used; true only the first time, for a known link that has not expired.</summary>
    Task<bool> UseLinkAsync(string nonce, DateTimeOffset now, CancellationToken ct);

    /// <summary>The cluster's secret <paramref name="name"/>, created from <paramref name="candidate"/> by the first caller.</summary>
    Task<byte[]> GetOrCreateSecretAsync(string name, byte[] candidate, CancellationToken ct);
}
