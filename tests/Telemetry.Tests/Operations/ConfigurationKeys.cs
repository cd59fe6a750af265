using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace Telemetry.Tests.Operations;

/// <summary>
/// The configuration keys a program reads: every property path of its options classes (each class with a
/// <c>public const string Section</c>, the convention of this codebase's <c>BindConfiguration(T.Section)</c>),
/// plus keys read directly that are allowed by name. Answers whether a key such as
/// <c>Sentry:SqsServiceUrl</c> or <c>Admin:Tokens:0</c> names something the program binds, and whether
/// the value converts to that property's type.
/// </summary>
public sealed class ConfigurationKeys
{
    private readonly IReadOnlyList<(string Section, Type Type)> _sections;
    private readonly HashSet<string> _direct;
    private readonly IReadOnlyList<string> _directPrefixes;

    public ConfigurationKeys(IEnumerable<Assembly> assemblies, IEnumerable<string> directKeys, IEnumerable<string>? directPrefixes = null)
    {
        _sections = OptionSections(assemblies).ToList();
        _direct = new HashSet<string>(directKeys, StringComparer.OrdinalIgnoreCase);
        _directPrefixes = directPrefixes?.ToList() ?? [];
    }

    /// <summary>Every options class found, with its section.</summary>
    public IReadOnlyList<(string Section, Type Type)> Sections => _sections;

    /// <summary>Options classes: a non-abstract class with a <c>public const string Section</c>.</summary>
    public static IEnumerable<(string Section, Type Type)> OptionSections(IEnumerable<Assembly> assemblies) =>
        assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsClass: true, IsAbstract: false })
            .Select(t => (Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly), Type: t))
            .Where(x => x.Field is { IsLiteral: true } f && f.FieldType == typeof(string))
            .Select(x => ((string)x.Field!.GetRawConstantValue()!, x.Type));

    /// <summary>Null when the program reads <paramref name="key"/> and <paramref name="value"/> converts; else why not.</summary>
    public string? Problem(string key, string value)
    {
        if (_direct.Contains(key) || _directPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var segments = key.Split(':');
        foreach (var (section, type) in _sections)
        {
            var sectionSegments = section.Split(':');
            if (segments.Length <= sectionSegments.Length
                || !segments.Take(sectionSegments.Length).SequenceEqual(sectionSegments, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }
            if (Leaf(type, segments.AsSpan(sectionSegments.Length)) is { } leaf)
            {
                return Converts(leaf, value) ? null : $"{key}: '{value}' is not a valid {leaf.Name}";
            }
        }
        return $"{key}: no options class binds it (sections: {string.Join(", ", _sections.Select(s => s.Section).Distinct().Order())})";
    }

    /// <summary>The property type at the end of <paramref name="path"/> under <paramref name="type"/>, or null.</summary>
    private static Type? Leaf(Type type, ReadOnlySpan<string> path)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type))
        {
            return path.IsEmpty ? type : null;
        }
        if (path.IsEmpty)
        {
            // A value on a list or an object: the binder ignores it, so the setting would do nothing.
            return null;
        }
        if (DictionaryValueType(type) is { } valueType)
        {
            return Leaf(valueType, path[1..]);
        }
        if (ElementType(type) is { } element)
        {
            return int.TryParse(path[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) ? Leaf(element, path[1..]) : null;
        }
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is { CanRead: true } && (property.SetMethod?.IsPublic == true || !IsScalar(property.PropertyType))
            ? Leaf(property.PropertyType, path[1..])
            : null;
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);

    private static Type? DictionaryValueType(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>) && i.GetGenericArguments()[0] == typeof(string))
            ?.GetGenericArguments()[1];

    private static Type? ElementType(Type type) =>
        type.IsArray
            ? type.GetElementType()
            : typeof(IEnumerable).IsAssignableFrom(type)
                ? type.GetInterfaces().Append(type)
                    .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
                    ?.GetGenericArguments()[0]
                : null;

    private static bool Converts(Type type, string value)
    {
        if (type == typeof(string))
        {
            return true;
        }
        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or OverflowException
            || e.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }
}
