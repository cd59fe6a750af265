using System.Globalization;
using System.Text.Json.Nodes;
using Telemetry.Portal.Services;

namespace Telemetry.Portal.Components.Pages.Subscriptions;

/// <summary>
/// The create/edit form of a subscription, one field per parameter of every kind (docs/alerts.md,
/// "Subscriptions"): what the person types, turned into the silo's body. The silo validates every field
/// again and names the wrong one; here only what would otherwise be sent empty is checked.
/// </summary>
public sealed class SubscriptionForm
{
    public const string Regression = "regression";
    public const string Expiry = "expiry";
    public const string CrashRate = "crash_rate";
    public const string Sentry = "sentry";

    public static readonly string[] Kinds = [Regression, Expiry, CrashRate, Sentry];
    public static readonly string[] SentryRules = ["new-issue", "top-issue", "spike", "regressed"];

    /// <summary>The subscription being edited, or null for a new one.</summary>
    public long? Id { get; set; }
    public bool Paused { get; set; }

    public string Kind { get; set; } = Regression;
    public string Delivery { get; set; } = "immediate";
    public int DigestHour { get; set; } = 8;

    // regression, crash_rate
    public string Channel { get; set; } = "";
    // regression, expiry
    public string Metric { get; set; } = "";
    public double MinScore { get; set; }
    // expiry
    public bool Mine { get; set; }
    // crash_rate
    public string Version { get; set; } = "";
    public bool Relative { get; set; }
    public double? Threshold { get; set; }
    public double? RelativeIncreasePct { get; set; }
    public int CrashDays { get; set; } = 3;
    public double MinUsageHours { get; set; } = 1000;
    public string Measure { get; set; } = "main";
    /// <summary>Crash dimension filters as <c>os=Windows_NT, architecture=x86</c>.</summary>
    public string Filters { get; set; } = "";
    // sentry
    public string Project { get; set; } = "*";
    public HashSet<string> Rules { get; set; } = [.. SentryRules];
    public int? TopN { get; set; }
    public int? TopDays { get; set; }
    public long? TopMinEvents { get; set; }
    public double? SpikeFactor { get; set; }
    public long? SpikeFloor { get; set; }

    /// <summary>The body for the silo, or the sentence saying what is missing.</summary>
    public (SubscriptionBody? Body, string? Error) ToBody()
    {
        JsonObject p;
        switch (Kind)
        {
            case Regression:
                if (Channel.Trim().Length == 0 || Metric.Trim().Length == 0)
                {
                    return (null, "A regression subscription needs a channel and a metric (a name or a glob such as GC_*).");
                }
                p = new JsonObject { ["channel"] = Channel.Trim(), ["metric"] = Metric.Trim(), ["min_score"] = MinScore };
                break;
            case Expiry:
                if (!Mine && Metric.Trim().Length == 0)
                {
                    return (null, "An expiry subscription needs a probe name or glob, or \"probes I own\".");
                }
                p = Mine ? new JsonObject { ["mine"] = true } : new JsonObject { ["metric"] = Metric.Trim() };
                break;
            case CrashRate:
                if (Channel.Trim().Length == 0)
                {
                    return (null, "A crash-rate subscription needs a channel.");
                }
                var limit = Relative ? RelativeIncreasePct : Threshold;
                if (limit is not > 0)
                {
                    return (null, Relative ? "Enter the relative increase in percent (above 0)." : "Enter the threshold in crashes per 1,000 usage hours (above 0).");
                }
                var (filters, filterError) = ParseFilters(Filters);
                if (filters is null)
                {
                    return (null, filterError);
                }
                p = new JsonObject
                {
                    ["channel"] = Channel.Trim(),
                    ["version"] = Version.Trim().Length == 0 ? null : Version.Trim(),
                    ["filters"] = filters,
                    [Relative ? "relative_increase_pct" : "threshold"] = limit,
                    ["days"] = CrashDays,
                    ["min_usage_hours"] = MinUsageHours,
                    ["measure"] = Measure,
                };
                break;
            case Sentry:
                if (Project.Trim().Length == 0)
                {
                    return (null, "A Sentry subscription needs a project (or * for every project).");
                }
                if (Rules.Count == 0)
                {
                    return (null, "Choose at least one Sentry rule.");
                }
                p = new JsonObject
                {
                    ["project"] = Project.Trim(),
                    ["rules"] = new JsonArray(SentryRules.Where(Rules.Contains).Select(r => (JsonNode?)r).ToArray()),
                };
                AddIfSet(p, "top_n", TopN);
                AddIfSet(p, "top_days", TopDays);
                AddIfSet(p, "top_min_events", TopMinEvents);
                AddIfSet(p, "spike_factor", SpikeFactor);
                AddIfSet(p, "spike_floor", SpikeFloor);
                break;
            default:
                return (null, $"Unknown kind {Kind}.");
        }
        return (new SubscriptionBody(Kind, p, Delivery, DigestHour, Paused), null);
    }

    /// <summary>The form filled from an existing subscription, for editing.</summary>
    public static SubscriptionForm From(PersonSubscription s)
    {
        var p = s.Params;
        var f = new SubscriptionForm { Id = s.Id, Paused = s.Paused, Kind = s.Kind, Delivery = s.Delivery, DigestHour = s.DigestHour };
        f.Channel = Str(p, "channel") ?? "";
        f.Metric = Str(p, "metric") ?? "";
        f.MinScore = Num(p, "min_score") ?? 0;
        f.Mine = p["mine"] is JsonValue m && m.TryGetValue(out bool mine) && mine;
        f.Version = Str(p, "version") ?? "";
        f.Threshold = Num(p, "threshold");
        f.RelativeIncreasePct = Num(p, "relative_increase_pct");
        f.Relative = f.RelativeIncreasePct is not null;
        f.CrashDays = (int)(Num(p, "days") ?? 3);
        f.MinUsageHours = Num(p, "min_usage_hours") ?? 1000;
        f.Measure = Str(p, "measure") ?? "main";
        f.Filters = p["filters"] is JsonObject filters
            ? string.Join(", ", filters.Select(kv => $"{kv.Key}={kv.Value?.GetValue<string>()}"))
            : "";
        f.Project = Str(p, "project") ?? "*";
        if (p["rules"] is JsonArray rules)
        {
            f.Rules = [.. rules.Select(r => r is JsonObject o ? Str(o, "rule") : r?.GetValue<string>()).OfType<string>()];
        }
        f.TopN = (int?)Num(p, "top_n");
        f.TopDays = (int?)Num(p, "top_days");
        f.TopMinEvents = (long?)Num(p, "top_min_events");
        f.SpikeFactor = Num(p, "spike_factor");
        f.SpikeFloor = (long?)Num(p, "spike_floor");
        return f;
    }

    /// <summary>What a subscription listens for, in one line.</summary>
    public static string Describe(PersonSubscription s)
    {
        var p = s.Params;
        return s.Kind switch
        {
            Regression => $"Regressions of {Str(p, "metric")} on {Str(p, "channel")}" + (Num(p, "min_score") is double min and > 0 ? $" with score ≥ {Number(min)}" : ""),
            Expiry => p["mine"] is JsonValue m && m.TryGetValue(out bool mine) && mine ? "Expiry of probes I own" : $"Expiry of probes {Str(p, "metric")}",
            CrashRate => $"Crash rate ({Str(p, "measure") ?? "main"}) on {Str(p, "channel")} {Str(p, "version") ?? "newest version"}"
                + (p["filters"] is JsonObject { Count: > 0 } fl ? " where " + string.Join(", ", fl.Select(kv => $"{kv.Key}={kv.Value}")) : "")
                + (Num(p, "threshold") is { } t ? $" above {Number(t)} per 1,000 h" : Num(p, "relative_increase_pct") is { } r ? $" up {Number(r)} %" : "")
                + $" over {Number(Num(p, "days") ?? 3)} days",
            Sentry => $"Errors in {(Str(p, "project") is "*" ? "every project" : Str(p, "project"))}: "
                + (p["rules"] is JsonArray { Count: > 0 } rs ? string.Join(", ", rs.Select(x => x is JsonObject o ? Str(o, "rule") : x?.GetValue<string>())) : "every rule"),
            _ => s.Kind,
        };
    }

    public static string DeliveryText(PersonSubscription s) =>
        s.Delivery == "digest" ? string.Create(CultureInfo.InvariantCulture, $"Daily digest at {s.DigestHour:00}:00 UTC") : "Immediately";

    public static string KindTitle(string kind) => kind switch
    {
        Regression => "Histogram regression",
        Expiry => "Probe expiry",
        CrashRate => "Crash rate",
        Sentry => "Sentry errors",
        _ => kind,
    };

    /// <summary><c>os=Windows_NT, architecture=x86</c> as an object, or the reason it cannot be read.</summary>
    public static (JsonObject? Filters, string? Error) ParseFilters(string text)
    {
        var o = new JsonObject();
        foreach (var part in text.Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == part.Length - 1)
            {
                return (null, $"Filter \"{part}\" should read dimension=value.");
            }
            o[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        return (o, null);
    }

    private static void AddIfSet<T>(JsonObject o, string name, T? value) where T : struct
    {
        if (value is { } v)
        {
            o[name] = JsonValue.Create(v);
        }
    }

    private static string? Str(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

    private static double? Num(JsonObject o, string name) =>
        o[name] is JsonValue v && v.TryGetValue(out double d) ? d : null;

    private static string Number(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
}
