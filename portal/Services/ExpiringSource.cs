using System.Collections.Immutable;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>A probe expiring soon or expired recently (<c>GET /api/expiring</c>, docs/expiry.md).</summary>
public sealed record ExpiringProbe(
    string Name, string ExpiresInVersion, string ExpiryDate, int DaysLeft, bool Expired, bool Projected, ImmutableArray<string> Owners);

/// <summary>The list as of a day.</summary>
public sealed record ExpiringList(string AsOf, int WithinDays, ImmutableArray<ExpiringProbe> Probes);

/// <summary>Where the expiring-probes page reads.</summary>
public interface IExpiringSource
{
    /// <summary>Probes expiring within the days and those expired within as many days; only the owner's when given.</summary>
    Task<ExpiringList> GetAsync(int withinDays, string? owner, CancellationToken cancellationToken);
}

/// <summary><see cref="IExpiringSource"/> over the silo's <c>/api/expiring</c>.</summary>
public sealed class ExpiringSource(SiloApi api) : IExpiringSource
{
    public async Task<ExpiringList> GetAsync(int withinDays, string? owner, CancellationToken cancellationToken)
    {
        string path = $"/api/expiring?within_days={withinDays}" + (string.IsNullOrWhiteSpace(owner) ? "" : "&owner=" + Uri.EscapeDataString(owner));
        var json = await api.GetAsync(path, bearer: null, cancellationToken)
            ?? throw new SiloApiException(System.Net.HttpStatusCode.NotFound, "the silo has no expiring-probes route");
        return new ExpiringList(
            SiloJson.Text(json, "as_of") ?? "",
            json.TryGetProperty("within_days", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt32() : withinDays,
            [.. SiloJson.Array(json, "probes").Select(p => new ExpiringProbe(
                SiloJson.Text(p, "name") ?? "",
                SiloJson.Text(p, "expires_in_version") ?? "",
                SiloJson.Text(p, "expiry_date") ?? "",
                p.TryGetProperty("days_left", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : 0,
                p.TryGetProperty("expired", out var e) && e.ValueKind == JsonValueKind.True,
                p.TryGetProperty("projected", out var pr) && pr.ValueKind == JsonValueKind.True,
                [.. SiloJson.Array(p, "owners").Select(o => o.GetString() ?? "")]))]);
    }
}
