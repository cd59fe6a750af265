using System.Text.Json;
using System.Text.Json.Nodes;

namespace Telemetry.Grains.Alerts;

/// <summary>
/// The <c>params</c> of a subscription as JSON (the API's shape, also how PostgreSQL stores them):
/// parsing validates every field and names the one that is wrong.
/// </summary>
public static class SubscriptionJson
{
    public static readonly string[] Kinds = [AlertKinds.Regression, AlertKinds.Expiry, AlertKinds.CrashRate, AlertKinds.Sentry];
    public static readonly string[] SentryRules = ["new-issue", "top-issue", "spike", "regressed"];
    public const int MaxFilters = 10;

    /// <summary>The parameters, or the error naming the field (<c>params.metric</c>, ...).</summary>
    public static (SubscriptionParams? Params, string? Error) Parse(string kind, JsonElement p)
    {
        if (p.ValueKind != JsonValueKind.Object)
        {
            return (null, "params must be an object");
        }
        try
        {
            return kind switch
            {
                AlertKinds.Regression => (ParseRegression(p), null),
                AlertKinds.Expiry => (ParseExpiry(p), null),
                AlertKinds.CrashRate => (ParseCrashRate(p), null),
                AlertKinds.Sentry => (ParseSentry(p), null),
                _ => (null, $"kind must be one of {string.Join(", ", Kinds)}"),
            };
        }
        catch (ParamException e)
        {
            return (null, e.Message);
        }
    }

    public static JsonObject ToJson(string kind, SubscriptionParams p) => kind switch
    {
        AlertKinds.Regression when p.Regression is { } r => new JsonObject
        {
            ["channel"] = r.Channel,
            ["metric"] = r.Metric,
            ["min_score"] = r.MinScore,
        },
        AlertKinds.Expiry when p.Expiry is { } e => e.Mine ? new JsonObject { ["mine"] = true } : new JsonObject { ["metric"] = e.Metric },
        AlertKinds.CrashRate when p.CrashRate is { } c => new JsonObject
        {
            ["channel"] = c.Channel,
            ["version"] = c.Version,
            ["filters"] = new JsonObject(c.Filters.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => KeyValuePair.Create(f.Key, (JsonNode?)JsonValue.Create(f.Value)))),
            ["threshold"] = c.Threshold,
            ["relative_increase_pct"] = c.RelativeIncreasePct,
            ["days"] = c.Days,
            ["min_usage_hours"] = c.MinUsageHours,
            ["measure"] = c.Content ? "content" : "main",
        },
        AlertKinds.Sentry when p.SentryJson is { } s => JsonNode.Parse(s)!.AsObject(),
        _ => throw new ArgumentException($"parameters do not match kind '{kind}'"),
    };

    public static SubscriptionParams FromStored(string kind, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var (p, error) = Parse(kind, doc.RootElement);
        return p ?? throw new FormatException($"stored {kind} subscription parameters no longer parse: {error}");
    }

    private static SubscriptionParams ParseRegression(JsonElement p)
    {
        Only(p, "channel", "metric", "min_score");
        string channel = Name(p, "channel");
        string metric = GlobField(p, "metric");
        double min = OptionalNumber(p, "min_score") ?? 0;
        if (min < 0)
        {
            throw new ParamException("params.min_score must be 0 or more");
        }
        return new SubscriptionParams { Regression = new RegressionParams(channel, metric, min) };
    }

    private static SubscriptionParams ParseExpiry(JsonElement p)
    {
        Only(p, "metric", "mine");
        bool mine = p.TryGetProperty("mine", out var m) && m.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False or JsonValueKind.Null => false,
            _ => throw new ParamException("params.mine must be true or false"),
        };
        bool hasMetric = p.TryGetProperty("metric", out var metric) && metric.ValueKind != JsonValueKind.Null;
        if (mine == hasMetric)
        {
            throw new ParamException("params needs exactly one of metric (a glob) or mine: true");
        }
        return new SubscriptionParams { Expiry = new ExpiryParams(mine ? null : GlobField(p, "metric"), mine) };
    }

    private static SubscriptionParams ParseCrashRate(JsonElement p)
    {
        Only(p, "channel", "version", "filters", "threshold", "relative_increase_pct", "days", "min_usage_hours", "measure");
        string channel = Name(p, "channel");
        string? version = p.TryGetProperty("version", out var v) && v.ValueKind != JsonValueKind.Null
            ? v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 and <= 40 } s && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-')
                ? s : throw new ParamException("params.version must be a version like 128.0 or null")
            : null;
        var filters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (p.TryGetProperty("filters", out var f) && f.ValueKind != JsonValueKind.Null)
        {
            if (f.ValueKind != JsonValueKind.Object)
            {
                throw new ParamException("params.filters must be an object of dimension: value");
            }
            foreach (var prop in f.EnumerateObject())
            {
                if (!Crash.CrashDimensions.Names.Contains(prop.Name) || prop.Name == Crash.CrashDimensions.Channel)
                {
                    throw new ParamException($"params.filters.{prop.Name} is not a crash dimension (known: {string.Join(", ", Crash.CrashDimensions.Names.Where(n => n != Crash.CrashDimensions.Channel))})");
                }
                if (prop.Value.ValueKind != JsonValueKind.String || prop.Value.GetString()!.Length is 0 or > 100)
                {
                    throw new ParamException($"params.filters.{prop.Name} must be a non-empty string");
                }
                filters[prop.Name] = prop.Value.GetString()!;
            }
            if (filters.Count > MaxFilters)
            {
                throw new ParamException($"params.filters has more than {MaxFilters} dimensions");
            }
        }
        double? threshold = OptionalNumber(p, "threshold");
        double? relative = OptionalNumber(p, "relative_increase_pct");
        if ((threshold is null) == (relative is null))
        {
            throw new ParamException("params needs exactly one of threshold (crashes per 1,000 usage hours) or relative_increase_pct");
        }
        if (threshold is <= 0)
        {
            throw new ParamException("params.threshold must be above 0");
        }
        if (relative is <= 0)
        {
            throw new ParamException("params.relative_increase_pct must be above 0");
        }
        double days = OptionalNumber(p, "days") ?? 3;
        if (days != Math.Floor(days) || days is < 1 or > 90)
        {
            throw new ParamException("params.days must be a whole number from 1 to 90");
        }
        double minHours = OptionalNumber(p, "min_usage_hours") ?? 1000;
        if (minHours < 0)
        {
            throw new ParamException("params.min_usage_hours must be 0 or more");
        }
        bool content = false;
        if (p.TryGetProperty("measure", out var measure) && measure.ValueKind != JsonValueKind.Null)
        {
            content = measure.ValueKind == JsonValueKind.String ? measure.GetString() switch
            {
                "main" => false,
                "content" => true,
                _ => throw new ParamException("params.measure must be main (main-process crashes) or content (content-process crashes)"),
            } : throw new ParamException("params.measure must be main (main-process crashes) or content (content-process crashes)");
        }
        return new SubscriptionParams { CrashRate = new CrashRateParams(channel, version, filters, threshold, relative, (int)days, minHours, content) };
    }

    private static SubscriptionParams ParseSentry(JsonElement p)
    {
        // The Sentry feature owns the rule thresholds; here: a project and known rule names.
        if (!p.TryGetProperty("project", out var pr) || pr.ValueKind != JsonValueKind.String || !Glob.IsValid(pr.GetString()))
        {
            throw new ParamException("params.project is required: a project name, or * for every project");
        }
        if (Sentry.SentryThresholds.FromParams(p).Error is { } thresholdError)
        {
            throw new ParamException(thresholdError);
        }
        if (p.TryGetProperty("rules", out var rules) && rules.ValueKind != JsonValueKind.Null)
        {
            if (rules.ValueKind != JsonValueKind.Array)
            {
                throw new ParamException("params.rules must be an array");
            }
            int i = 0;
            foreach (var r in rules.EnumerateArray())
            {
                string? name = r.ValueKind == JsonValueKind.String ? r.GetString()
                    : r.ValueKind == JsonValueKind.Object && r.TryGetProperty("rule", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
                if (name is null || Array.IndexOf(SentryRules, name) < 0)
                {
                    throw new ParamException($"params.rules[{i}] must be one of {string.Join(", ", SentryRules)}");
                }
                i++;
            }
        }
        return new SubscriptionParams { SentryJson = p.GetRawText() };
    }

    private static void Only(JsonElement p, params string[] names)
    {
        foreach (var prop in p.EnumerateObject())
        {
            if (Array.IndexOf(names, prop.Name) < 0)
            {
                throw new ParamException($"params.{prop.Name} is not a parameter of this kind (known: {string.Join(", ", names)})");
            }
        }
    }

    private static string Name(JsonElement p, string field)
    {
        if (!p.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.String || v.GetString() is not { Length: > 0 and <= 100 } s || s.Trim() != s || s.Any(char.IsControl))
        {
            throw new ParamException($"params.{field} is required: a name of 1-100 characters");
        }
        return s;
    }

    private static string GlobField(JsonElement p, string field)
    {
        if (!p.TryGetProperty(field, out var v) || v.ValueKind != JsonValueKind.String || !Glob.IsValid(v.GetString()))
        {
            throw new ParamException($"params.{field} is required: a name or glob (GC_*) of at most {Glob.MaxLength} characters");
        }
        return v.GetString()!;
    }

    private static double? OptionalNumber(JsonElement p, string field)
    {
        if (!p.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d))
        {
            throw new ParamException($"params.{field} must be a number");
        }
        return d;
    }

    private sealed class ParamException(string message) : Exception(message);
}
