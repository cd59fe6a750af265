using System.Security.Cryptography;
using System.Text;

namespace Telemetry.Silo.Alerts;

/// <summary>
/// Signs and checks the tokens of the notification core (docs/alerts.md, "Tokens"): sign-in links,
/// API sessions and unsubscribe links. A token is <c>base64url(payload).base64url(HMAC-SHA256)</c>; the
/// MAC covers a purpose too, so a token of one kind is never accepted as another.
/// </summary>
public sealed class TokenSigner(byte[] key)
{
    public const string SignIn = "signin";
    public const string Session = "session";
    public const string Unsubscribe = "unsubscribe";

    public string Sign(string purpose, string payload)
    {
        byte[] data = Encoding.UTF8.GetBytes(payload);
        return Base64Url(data) + "." + Base64Url(Mac(purpose, data));
    }

    /// <summary>The payload of a well-formed token of <paramref name="purpose"/> with a valid signature, else null.</summary>
    public string? Verify(string purpose, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 4096)
        {
            return null;
        }
        int dot = token.IndexOf('.');
        if (dot <= 0 || dot != token.LastIndexOf('.'))
        {
            return null;
        }
        byte[] data, mac;
        try
        {
            data = FromBase64Url(token[..dot]);
            mac = FromBase64Url(token[(dot + 1)..]);
        }
        catch (FormatException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(purpose, data)))
        {
            return null;
        }
        try
        {
            return new UTF8Encoding(false, true).GetString(data);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private byte[] Mac(string purpose, byte[] data)
    {
        byte[] p = Encoding.UTF8.GetBytes(purpose + "\n");
        byte[] all = new byte[p.Length + data.Length];
        p.CopyTo(all, 0);
        data.CopyTo(all, p.Length);
        return HMACSHA256.HashData(key, all);
    }

    private static string Base64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string s)
    {
        string b = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }
}
