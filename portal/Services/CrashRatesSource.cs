using System.Collections.Immutable;
using System.Text.Json;

namespace Telemetry.Portal.Services;

/// <summary>One (date, group) row of <c>GET /api/crash-rates</c>: rates per 1,000 usage hours with the silo's 95 % intervals.</summary>
public sealed record CrashRateRow(
    string Date, ImmutableSortedDictionary<string, string> Group, long PingCount, double UsageHours,
    long MainCrashes, long ContentCrashes,
    double? MainRate, double? MainLow, double? MainHigh,
    double? ContentRate, double? ContentLow, double? ContentHigh);

/// <summary>A crash-rate request: the date range, how dates are counted, the grouping and the dimension filters.</summary>
public sealed record CrashRateRequest(
    string From, string To, string By, ImmutableArray<string> GroupBy, ImmutableSortedDictionary<string, string> Filters);

/// <summary>Where the crash-rates page reads.</summary>
public interface ICrashRatesSource
{
    Task<ImmutableArray<CrashRateRow>> GetAsync(CrashRateRequest request, CancellationToken cancellationToken);
}

/// <summary><see cref="ICrashRatesSource"/> over the silo's <c>/api/crash-rates</c>.</summary>
public sealed class CrashRatesSource(SiloApi api) : ICrashRatesSource
{
    public async Task<ImmutableArray<CrashRateRow>> GetAsync(CrashRateRequest request, CancellationToken cancellationToken)
    {
        var path = $"/api/crash-rates?from={Uri.EscapeDataString(request.From)}&to={Uri.EscapeDataString(request.To)}&by={Uri.EscapeDataString(request.By)}";
        if (!request.GroupBy.IsEmpty)
        {
            path += "&group_by=" + Uri.EscapeDataString(string.Join(',', request.GroupBy));
        }
        foreach (var (name, value) in request.Filters)
        {
            path += "&" + Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value);
        }
        var json = await api.GetAsync(path, bearer: null, cancellationToken)
            ?? throw new SiloApiException(System.Net.HttpStatusCode.NotFound, "the silo has no crash-rates route");
        return [.. SiloJson.Array(json, "rows").Select(Read)];
    }

    private static CrashRateRow Read(JsonElement r)
    {
        static double? Number(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        static (double?, double?) Interval(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2
                && v[0].ValueKind == JsonValueKind.Number && v[1].ValueKind == JsonValueKind.Number
                ? (v[0].GetDouble(), v[1].GetDouble())
                : (null, null);
        var group = r.TryGetProperty("group", out var g) && g.ValueKind == JsonValueKind.Object
            ? g.EnumerateObject().ToImmutableSortedDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal)
            : ImmutableSortedDictionary<string, string>.Empty;
        var (mainLow, mainHigh) = Interval(r, "main_crash_rate_ci95");
        var (contentLow, contentHigh) = Interval(r, "content_crash_rate_ci95");
        return new CrashRateRow(
            SiloJson.Text(r, "date") ?? "", group,
            (long)(Number(r, "ping_count") ?? 0), Number(r, "usage_hours") ?? 0,
            (long)(Number(r, "main_crashes") ?? 0), (long)(Number(r, "content_crashes") ?? 0),
            Number(r, "main_crash_rate"), mainLow, mainHigh,
            Number(r, "content_crash_rate"), contentLow, contentHigh);
    }
}
