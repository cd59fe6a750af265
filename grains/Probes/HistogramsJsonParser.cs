using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Telemetry.Grains.Probes;

/// <summary>
/// Parses Histograms.json (old and modern formats) leniently (docs/probes.md): unknown keys are ignored,
/// numbers may be strings or simple arithmetic (<c>"80 + 1"</c>), C++ constants leave the layout
/// to the ping, and a definition that cannot be understood is reported by name while the rest of
/// the document loads. A document that is not a JSON object throws <see cref="FormatException"/>.
/// </summary>
public static class HistogramsJsonParser
{
    public const int MaxDefinitions = 20_000;
    public const int MaxNameLength = 1_024;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = true,
        CommentHandling = JsonCommentHandling.Skip,
        MaxDepth = 64,
    };

    public static HistogramsParseResult Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    public static HistogramsParseResult Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (utf8Json.StartsWith("\uFEFF"u8))
        {
            utf8Json = utf8Json[3..];
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"The histograms document is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    private static HistogramsParseResult Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException(
                $"The histograms document must be a JSON object mapping histogram names to definitions, but it is {Describe(root.ValueKind)}.");
        }

        var count = 0;
        foreach (var _ in root.EnumerateObject())
        {
            if (++count > MaxDefinitions)
            {
                throw new FormatException($"The histograms document has more than {MaxDefinitions} definitions.");
            }
        }

        // Last occurrence of a name wins (as with Python's json module).
        var results = new Dictionary<string, (HistogramDefinition? Definition, string? Error)>(count, StringComparer.Ordinal);
        var order = new List<string>(count);
        foreach (var property in root.EnumerateObject())
        {
            var name = property.Name;
            if (!results.ContainsKey(name))
            {
                order.Add(name);
            }

            results[name] = ParseDefinition(name, property.Value);
        }

        var definitions = ImmutableDictionary.CreateBuilder<string, HistogramDefinition>(StringComparer.Ordinal);
        var errors = ImmutableArray.CreateBuilder<DefinitionError>();
        foreach (var name in order)
        {
            var (definition, error) = results[name];
            if (definition is not null)
            {
                definitions[name] = definition;
            }
            else
            {
                errors.Add(new DefinitionError(name, error ?? "invalid definition"));
            }
        }

        return new HistogramsParseResult(definitions.ToImmutable(), errors.ToImmutable());
    }

    private static (HistogramDefinition? Definition, string? Error) ParseDefinition(string name, JsonElement element)
    {
        if (name.Length == 0 || name.Length > MaxNameLength)
        {
            return (null, $"the name must have 1 to {MaxNameLength} characters");
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return (null, $"the definition is {Describe(element.ValueKind)}, not an object");
        }

        if (!element.TryGetProperty("kind", out var kindElement))
        {
            return (null, "missing 'kind'");
        }

        if (kindElement.ValueKind != JsonValueKind.String)
        {
            return (null, $"'kind' is {Describe(kindElement.ValueKind)}, not a string");
        }

        var kindName = kindElement.GetString();
        var kind = HistogramKinds.FromName(kindName);
        if (kind is null)
        {
            return (null, $"unknown kind '{Truncate(kindName)}'");
        }

        if (!TryReadStringList(element, "labels", out var labels, out var listError) ||
            !TryReadStringList(element, "alert_emails", out var alertEmails, out listError) ||
            !TryReadStringList(element, "record_in_processes", out var processes, out listError) ||
            !TryReadStringList(element, "products", out var products, out listError))
        {
            return (null, listError);
        }

        var (layout, layoutError) = ComputeLayout(kind.Value, element, labels);
        if (layoutError is not null)
        {
            return (null, layoutError);
        }

        var definition = new HistogramDefinition
        {
            Name = name,
            Kind = kind.Value,
            Description = ReadText(element, "description") ?? "",
            Layout = layout,
            Keyed = ReadBool(element, "keyed"),
            ExpiresInVersion = ReadText(element, "expires_in_version"),
            AlertEmails = alertEmails,
            Labels = labels,
            BugNumbers = ReadIntList(element, "bug_numbers"),
            ReleaseChannelCollection = ReadText(element, "releaseChannelCollection"),
            RecordInProcesses = processes,
            Products = products,
            CppGuard = ReadText(element, "cpp_guard"),
            ExtendedStatisticsOk = ReadBool(element, "extended_statistics_ok"),
        };
        return (definition, null);
    }

    /// <summary>(layout, null) on success, (null, null) when C++ constants defer the layout to the ping, (null, error) otherwise.</summary>
    private static (BucketLayout? Layout, string? Error) ComputeLayout(HistogramKind kind, JsonElement element, ImmutableArray<string> labels)
    {
        switch (kind)
        {
            case HistogramKind.Boolean or HistogramKind.Flag or HistogramKind.Count:
                return (BucketLayout.ForKind(kind, 1, 2, 3), null);

            case HistogramKind.Enumerated:
            {
                var nValues = ReadNumber(element, "n_values");
                return nValues.State switch
                {
                    NumberState.Missing => (null, "enumerated histogram without 'n_values'"),
                    NumberState.Invalid => (null, nValues.Error),
                    NumberState.Constant => (null, null),
                    _ => nValues.Value is < 2 or >= BucketLayout.MaxBucketCount
                        ? (null, $"'n_values' {nValues.Value} is outside 2..{BucketLayout.MaxBucketCount - 1}")
                        : Create(kind, 1, nValues.Value, (int)nValues.Value + 1, default),
                };
            }

            case HistogramKind.Categorical:
            {
                var nValues = ReadNumber(element, "n_values");
                switch (nValues.State)
                {
                    case NumberState.Invalid:
                        return (null, nValues.Error);
                    case NumberState.Constant:
                        return (null, null);
                    case NumberState.Value when nValues.Value < 0 || nValues.Value >= BucketLayout.MaxBucketCount:
                        return (null, $"'n_values' {nValues.Value} is outside 0..{BucketLayout.MaxBucketCount - 1}");
                }

                if (labels.Length >= BucketLayout.MaxBucketCount)
                {
                    return (null, $"{labels.Length} labels are too many");
                }

                int? declared = nValues.State == NumberState.Value ? (int)nValues.Value : null;
                var n = BucketLayout.CategoricalSize(labels.Length, declared);
                return Create(kind, 1, n, n + 1, labels);
            }

            default: // linear, exponential
            {
                var low = ReadNumber(element, "low");
                var high = ReadNumber(element, "high");
                var buckets = ReadNumber(element, "n_buckets");
                foreach (var (field, number) in new[] { ("low", low), ("high", high), ("n_buckets", buckets) })
                {
                    if (number.State == NumberState.Invalid)
                    {
                        return (null, number.Error);
                    }

                    if (number.State == NumberState.Missing && field != "low")
                    {
                        return (null, $"{HistogramKinds.Name(kind)} histogram without '{field}'");
                    }
                }

                if (low.State == NumberState.Constant || high.State == NumberState.Constant || buckets.State == NumberState.Constant)
                {
                    return (null, null);
                }

                if (buckets.Value is < BucketLayout.MinBucketCount or > BucketLayout.MaxBucketCount)
                {
                    return (null, $"'n_buckets' {buckets.Value} is outside {BucketLayout.MinBucketCount}..{BucketLayout.MaxBucketCount}");
                }

                var lowValue = low.State == NumberState.Missing ? 1 : low.Value;
                return Create(kind, lowValue, high.Value, (int)buckets.Value, default);
            }
        }

        static (BucketLayout?, string?) Create(HistogramKind kind, long low, long high, int n, ImmutableArray<string> labels) =>
            BucketLayout.TryCreate(kind, low, high, n, labels, out var layout, out var error)
                ? (layout, null)
                : (null, $"invalid layout: {error}");
    }

    private enum NumberState
    {
        Missing,
        Value,
        Constant,
        Invalid,
    }

    private readonly record struct Number(NumberState State, long Value, string? Error);

    private static Number ReadNumber(JsonElement element, string field)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return new Number(NumberState.Missing, 0, null);
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                if (value.TryGetInt64(out var integer))
                {
                    return new Number(NumberState.Value, integer, null);
                }

                if (value.TryGetDouble(out var d) && Math.Floor(d) == d && Math.Abs(d) < 1e15)
                {
                    return new Number(NumberState.Value, (long)d, null);
                }

                return new Number(NumberState.Invalid, 0, $"'{field}' is not an integer: {Truncate(value.GetRawText())}");

            case JsonValueKind.String:
            {
                var text = value.GetString()!.Trim();
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
                {
                    return new Number(NumberState.Value, parsed, null);
                }

                return ProbeExpression.Evaluate(text, out var evaluated) switch
                {
                    ExpressionOutcome.Value => new Number(NumberState.Value, evaluated, null),
                    ExpressionOutcome.Constant => new Number(NumberState.Constant, 0, null),
                    _ => new Number(NumberState.Invalid, 0, $"'{field}' is not a number or simple expression: '{Truncate(text)}'"),
                };
            }

            default:
                return new Number(NumberState.Invalid, 0, $"'{field}' is {Describe(value.ValueKind)}, not a number");
        }
    }

    private static string? ReadText(JsonElement element, string field)
    {
        if (!element.TryGetProperty(field, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }

    private static bool ReadBool(JsonElement element, string field)
    {
        if (!element.TryGetProperty(field, out var value))
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => bool.TryParse(value.GetString()?.Trim(), out var b) && b,
            JsonValueKind.Number => value.TryGetInt64(out var n) && n != 0,
            _ => false,
        };
    }

    /// <summary>An array of strings (a single string counts as a one-item list); absent → empty.</summary>
    private static bool TryReadStringList(JsonElement element, string field, out ImmutableArray<string> list, out string? error)
    {
        list = ImmutableArray<string>.Empty;
        error = null;
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            list = ImmutableArray.Create(value.GetString()!);
            return true;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            error = $"'{field}' is {Describe(value.ValueKind)}, not a list of strings";
            return false;
        }

        var builder = ImmutableArray.CreateBuilder<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                error = $"'{field}' contains {Describe(item.ValueKind)}, not only strings";
                return false;
            }

            builder.Add(item.GetString()!);
        }

        list = builder.MoveToImmutable();
        return true;
    }

    /// <summary>Bug numbers as integers; items that are not integers are skipped (stored and shown only).</summary>
    private static ImmutableArray<int> ReadIntList(JsonElement element, string field)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return ImmutableArray<int>.Empty;
        }

        var builder = ImmutableArray.CreateBuilder<int>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var n))
            {
                builder.Add(n);
            }
            else if (item.ValueKind == JsonValueKind.String &&
                     int.TryParse(item.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n))
            {
                builder.Add(n);
            }
        }

        return builder.ToImmutable();
    }

    private static string Describe(JsonValueKind kind) => JsonKinds.Describe(kind);

    private static string Truncate(string? text) =>
        text is null ? "" : text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 61), "...");
}
