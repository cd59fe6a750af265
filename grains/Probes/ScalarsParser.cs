using System.Collections.Immutable;
using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Telemetry.Grains.Probes;

/// <summary>One scalar of Scalars.yaml; <see cref="Name"/> is <c>category.probe_name</c>.</summary>
public sealed record ScalarDefinition(
    string Name,
    string Kind,
    bool Keyed,
    string Description,
    string? Expires,
    ImmutableArray<string> NotificationEmails)
{
    public const string KindUint = "uint";
    public const string KindString = "string";
    public const string KindBoolean = "boolean";

    /// <summary>Numeric scalars (<c>uint</c>) are aggregated as histograms (docs/probes.md).</summary>
    public bool IsNumeric => Kind == KindUint;
}

/// <summary>The scalars of a Scalars.yaml document and the ones that could not be understood.</summary>
public sealed record ScalarsParseResult(
    ImmutableDictionary<string, ScalarDefinition> Definitions,
    ImmutableArray<DefinitionError> Errors);

/// <summary>
/// Parses Scalars.yaml — <c>category: { probe_name: { kind, keyed, description, expires,
/// notification_emails, ... } }</c> — given as YAML or as JSON of the same shape. Unknown keys
/// are ignored; top-level keys starting with <c>$</c> (schema markers) are skipped; a scalar
/// that cannot be understood is reported by name while the rest loads. A document whose top
/// level is not a mapping, or that is not valid YAML/JSON, throws <see cref="FormatException"/>.
/// </summary>
public static class ScalarsParser
{
    public const int MaxDefinitions = 20_000;

    public static ImmutableDictionary<string, ScalarDefinition> Parse(string yamlOrJson) =>
        ParseWithErrors(yamlOrJson).Definitions;

    public static ScalarsParseResult ParseWithErrors(string yamlOrJson)
    {
        ArgumentNullException.ThrowIfNull(yamlOrJson);
        var text = yamlOrJson.TrimStart('\uFEFF');
        var root = LooksLikeJson(text) ? ReadJsonOrYaml(text) : ReadYaml(text);
        return Interpret(root);
    }

    // ------------------------------------------------------------ neutral tree
    // Both inputs become: string (scalar), null, List<object?> (sequence) or
    // List<KeyValuePair<string, object?>> (mapping, in document order).

    private const int MaxTreeDepth = 5; // root → category → scalar → field → list item

    /// <summary>Bound on converted nodes, so YAML aliases cannot expand a small document into a huge tree.</summary>
    private const int MaxTreeNodes = 2_000_000;

    private static bool LooksLikeJson(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsWhiteSpace(c))
            {
                return c is '{' or '[';
            }
        }

        return false;
    }

    private static object? ReadJsonOrYaml(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions
            {
                AllowTrailingCommas = true,
                CommentHandling = JsonCommentHandling.Skip,
                MaxDepth = 64,
            });
            return FromJson(document.RootElement, 0);
        }
        catch (JsonException jsonError)
        {
            // Perhaps a YAML flow mapping; report the JSON error if it is not YAML either.
            try
            {
                return ReadYaml(text);
            }
            catch (FormatException)
            {
                throw new FormatException($"The scalars document is not valid JSON: {jsonError.Message}", jsonError);
            }
        }
    }

    private static object? FromJson(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= MaxTreeDepth)
                {
                    return null;
                }

                var map = new List<KeyValuePair<string, object?>>();
                foreach (var property in element.EnumerateObject())
                {
                    map.Add(new(property.Name, FromJson(property.Value, depth + 1)));
                }

                return map;
            case JsonValueKind.Array:
                if (depth >= MaxTreeDepth)
                {
                    return null;
                }

                var list = new List<object?>();
                foreach (var item in element.EnumerateArray())
                {
                    list.Add(FromJson(item, depth + 1));
                }

                return list;
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return element.GetRawText();
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            default:
                return null;
        }
    }

    private static object? ReadYaml(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new FormatException($"The scalars document is not valid YAML: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            // e.g. a duplicate key in a mapping
            throw new FormatException($"The scalars document is not valid YAML: {ex.Message}", ex);
        }

        if (stream.Documents.Count == 0)
        {
            return new List<KeyValuePair<string, object?>>(); // empty document: no scalars
        }

        if (stream.Documents.Count > 1)
        {
            throw new FormatException("The scalars document must contain a single YAML document.");
        }

        var budget = MaxTreeNodes;
        return FromYaml(stream.Documents[0].RootNode, 0, ref budget);
    }

    private static object? FromYaml(YamlNode node, int depth, ref int budget)
    {
        if (--budget < 0)
        {
            throw new FormatException("The scalars document expands to too many nodes (YAML aliases?).");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                if (depth >= MaxTreeDepth)
                {
                    return null;
                }

                var map = new List<KeyValuePair<string, object?>>(mapping.Children.Count);
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is YamlScalarNode { Value: { } keyText })
                    {
                        map.Add(new(keyText, FromYaml(value, depth + 1, ref budget)));
                    }
                }

                return map;
            case YamlSequenceNode sequence:
                if (depth >= MaxTreeDepth)
                {
                    return null;
                }

                var list = new List<object?>(sequence.Children.Count);
                foreach (var item in sequence.Children)
                {
                    list.Add(FromYaml(item, depth + 1, ref budget));
                }

                return list;
            case YamlScalarNode scalar:
                // A plain "null" / "~" / empty value is YAML null.
                if (scalar.Style == ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL")
                {
                    return null;
                }

                return scalar.Value;
            default:
                return null;
        }
    }

    // ------------------------------------------------------------ interpretation

    private static ScalarsParseResult Interpret(object? root)
    {
        if (root is not List<KeyValuePair<string, object?>> categories)
        {
            throw new FormatException(
                "The scalars document must be a mapping of categories to mappings of scalar definitions.");
        }

        var definitions = ImmutableDictionary.CreateBuilder<string, ScalarDefinition>(StringComparer.Ordinal);
        var errors = ImmutableArray.CreateBuilder<DefinitionError>();
        var seen = 0;
        foreach (var (category, probes) in categories)
        {
            if (category.StartsWith('$'))
            {
                continue;
            }

            if (probes is not List<KeyValuePair<string, object?>> probeMap)
            {
                errors.Add(new DefinitionError(category, "the category is not a mapping of scalar definitions"));
                continue;
            }

            foreach (var (probe, body) in probeMap)
            {
                if (++seen > MaxDefinitions)
                {
                    throw new FormatException($"The scalars document has more than {MaxDefinitions} definitions.");
                }

                var name = category + "." + probe;
                var (definition, error) = ParseScalar(name, body);
                if (definition is not null)
                {
                    definitions[name] = definition;
                    RemoveError(errors, name);
                }
                else
                {
                    definitions.Remove(name);
                    errors.Add(new DefinitionError(name, error!));
                }
            }
        }

        return new ScalarsParseResult(definitions.ToImmutable(), errors.ToImmutable());
    }

    private static void RemoveError(ImmutableArray<DefinitionError>.Builder errors, string name)
    {
        for (var i = errors.Count - 1; i >= 0; i--)
        {
            if (errors[i].Name == name)
            {
                errors.RemoveAt(i);
            }
        }
    }

    private static (ScalarDefinition? Definition, string? Error) ParseScalar(string name, object? body)
    {
        if (body is not List<KeyValuePair<string, object?>> fields)
        {
            return (null, "the definition is not a mapping");
        }

        string? kind = null;
        var keyed = false;
        string? description = null;
        string? expires = null;
        var emails = ImmutableArray<string>.Empty;
        foreach (var (key, value) in fields)
        {
            switch (key)
            {
                case "kind":
                    kind = value as string;
                    if (kind is null)
                    {
                        return (null, "'kind' is not a string");
                    }

                    break;
                case "keyed":
                    if (value is not string flag || !TryParseBool(flag, out keyed))
                    {
                        return (null, "'keyed' is not a boolean");
                    }

                    break;
                case "description":
                    description = value as string;
                    break;
                case "expires":
                    expires = value as string;
                    break;
                case "notification_emails":
                    emails = value switch
                    {
                        string single => ImmutableArray.Create(single),
                        List<object?> list => list.OfType<string>().ToImmutableArray(),
                        _ => ImmutableArray<string>.Empty,
                    };
                    break;
            }
        }

        if (kind is null)
        {
            return (null, "missing 'kind'");
        }

        var normalized = kind.Trim().ToLowerInvariant();
        if (normalized is not (ScalarDefinition.KindUint or ScalarDefinition.KindString or ScalarDefinition.KindBoolean))
        {
            return (null, $"unknown kind '{(kind.Length <= 64 ? kind : kind[..61] + "...")}' (expected uint, string or boolean)");
        }

        return (new ScalarDefinition(name, normalized, keyed, description?.Trim() ?? "", expires?.Trim(), emails), null);
    }

    private static bool TryParseBool(string text, out bool value)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "on":
                value = true;
                return true;
            case "false" or "no" or "off":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }
}
