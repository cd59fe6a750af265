using System.Collections.Immutable;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Aggregates;

/// <summary>
/// The explorer's selection as it appears in its URL (<c>/aggregates?channel=&amp;version=&amp;metric=&amp;kind=&amp;dates=&amp;…</c>):
/// dates comma-separated <c>YYYYMMDD</c>, <c>compare</c> two of them, the dimension filters by name.
/// </summary>
public sealed record AggregateFilters(
    string Kind, string? Channel, string? Version, string? Metric, ImmutableArray<string> Dates,
    string? Application, string? Architecture, string? Os, string? Process, string? Label, string? CompareA, string? CompareB)
{
    public const int DefaultDateCount = 14;

    public static AggregateFilters FromQuery(string? kind, string? channel, string? version, string? metric, string? dates,
        string? application, string? architecture, string? os, string? process, string? label, string? compare)
    {
        var compared = (compare ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new AggregateFilters(
            AggregateKinds.IsValid(kind) ? kind! : AggregateKinds.BuildId,
            Clean(channel), Clean(version), Clean(metric),
            [.. (dates ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct()],
            Clean(application), Clean(architecture), Clean(os), Clean(process), Clean(label),
            compared.Length == 2 ? compared[0] : null, compared.Length == 2 ? compared[1] : null);
    }

    public IReadOnlyDictionary<string, object?> ToQuery() => new Dictionary<string, object?>
    {
        ["kind"] = Kind == AggregateKinds.BuildId ? null : Kind,
        ["channel"] = Channel,
        ["version"] = Version,
        ["metric"] = Metric,
        ["dates"] = Dates.IsEmpty ? null : string.Join(',', Dates),
        ["application"] = Application,
        ["architecture"] = Architecture,
        ["os"] = Os,
        ["process"] = Process,
        ["label"] = Label,
        ["compare"] = CompareA is not null && CompareB is not null ? CompareA + "," + CompareB : null,
    };

    public string Key => string.Join('&', ToQuery().Select(kv => kv.Key + "=" + kv.Value));

    public AggregateQuery ToQuery(string channel, string version, string metric, ImmutableArray<string> dates) =>
        new(Kind, channel, version, metric, dates, Application, Architecture, Os, Process, Label);

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
