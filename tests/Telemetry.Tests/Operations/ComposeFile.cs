using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Telemetry.Tests.Operations;

/// <summary>A port a service publishes: <c>[ip:]host:container</c>.</summary>
public sealed record PublishedPort(string? HostIp, int? Host, int Container);

/// <summary>One service of a compose file, with its environment interpolated the way Compose does it.</summary>
public sealed class ComposeService
{
    public required string Name { get; init; }
    public string? Image { get; init; }
    public string? BuildTarget { get; init; }

    /// <summary>Environment after <c>${VAR:-default}</c> interpolation with no variable set (the placeholders).</summary>
    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    /// <summary>Environment as written, before interpolation.</summary>
    public required IReadOnlyDictionary<string, string> RawEnvironment { get; init; }

    public required IReadOnlyList<PublishedPort> Ports { get; init; }

    /// <summary>Service name → condition (<c>service_started</c> when given as a plain list).</summary>
    public required IReadOnlyDictionary<string, string> DependsOn { get; init; }

    /// <summary>The static address on the default network, if any.</summary>
    public string? Ipv4Address { get; init; }

    /// <summary>The health check's <c>test</c> command, empty when the service declares none.</summary>
    public required IReadOnlyList<string> HealthcheckTest { get; init; }

    /// <summary>An environment value (case-insensitive key, as .NET configuration reads it), or null.</summary>
    public string? Env(string key) =>
        Environment.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The environment as .NET configuration keys (<c>A__B</c> → <c>A:B</c>).</summary>
    public IEnumerable<KeyValuePair<string, string>> ConfigurationEntries() =>
        Environment.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), kv.Value));

    /// <summary>The host port that publishes <paramref name="containerPort"/>, or null.</summary>
    public int? HostPortFor(int containerPort) => Ports.FirstOrDefault(p => p.Container == containerPort)?.Host;
}

/// <summary>
/// The parts of a <c>docker-compose.yml</c> the tests check: services, their environment (merge keys and
/// anchors resolved), published ports, dependencies, static addresses and health checks.
/// </summary>
public sealed partial class ComposeFile
{
    public required IReadOnlyDictionary<string, ComposeService> Services { get; init; }

    /// <summary>The default network's subnet, if one is configured.</summary>
    public string? Subnet { get; init; }

    public ComposeService this[string name] => Services.TryGetValue(name, out var s)
        ? s
        : throw new KeyNotFoundException($"docker-compose.yml has no service '{name}' (it has {string.Join(", ", Services.Keys)}).");

    public static ComposeFile Parse(string yaml)
    {
        var stream = new YamlStream();
        // The merging parser resolves `<<: *anchor` (and `<<: [*a, *b]`) as Compose does.
        stream.Load(new MergingParser(new Parser(new StringReader(yaml))));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        foreach (var (key, value) in Map(root, "services"))
        {
            var name = Scalar(key)!;
            var node = (YamlMappingNode)value;
            var raw = Environment(node);
            services[name] = new ComposeService
            {
                Name = name,
                Image = Scalar(Child(node, "image")),
                BuildTarget = Child(node, "build") is YamlMappingNode build ? Scalar(Child(build, "target")) : null,
                RawEnvironment = raw,
                Environment = raw.ToDictionary(kv => kv.Key, kv => Interpolate(kv.Value)),
                Ports = Sequence(Child(node, "ports")).Select(PortOf).ToList(),
                DependsOn = DependsOn(Child(node, "depends_on")),
                Ipv4Address = Child(node, "networks") is YamlMappingNode networks
                    && Child(networks, "default") is YamlMappingNode net ? Scalar(Child(net, "ipv4_address")) : null,
                HealthcheckTest = Child(node, "healthcheck") is YamlMappingNode hc
                    ? Child(hc, "test") switch
                    {
                        YamlSequenceNode seq => seq.Select(n => Scalar(n)!).ToList(),
                        YamlScalarNode s => [s.Value!],
                        _ => [],
                    }
                    : [],
            };
        }

        string? subnet = null;
        if (Child(root, "networks") is YamlMappingNode nets && Child(nets, "default") is YamlMappingNode def
            && Child(def, "ipam") is YamlMappingNode ipam)
        {
            subnet = Sequence(Child(ipam, "config")).OfType<YamlMappingNode>().Select(c => Scalar(Child(c, "subnet"))).FirstOrDefault(s => s is not null);
        }
        return new ComposeFile { Services = services, Subnet = subnet };
    }

    /// <summary>The variables a raw value reads (<c>${NAME}</c>, <c>${NAME:-default}</c>).</summary>
    public static IReadOnlyList<string> VariablesIn(string raw) =>
        Variable().Matches(raw).Select(m => m.Groups["name"].Value).ToList();

    /// <summary>Compose's interpolation with no variable set: <c>${NAME:-default}</c> gives the default, <c>$$</c> a dollar.</summary>
    public static string Interpolate(string raw) =>
        Variable().Replace(raw, m => m.Groups["default"].Value).Replace("$$", "$", StringComparison.Ordinal);

    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::?[-?](?<default>[^}]*))?\}")]
    private static partial Regex Variable();

    private static Dictionary<string, string> Environment(YamlMappingNode service)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (Child(service, "environment"))
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    env[Scalar(k)!] = Scalar(v) ?? "";
                }
                break;
            case YamlSequenceNode list:
                foreach (var item in list)
                {
                    var text = Scalar(item)!;
                    var eq = text.IndexOf('=', StringComparison.Ordinal);
                    env[eq < 0 ? text : text[..eq]] = eq < 0 ? "" : text[(eq + 1)..];
                }
                break;
        }
        return env;
    }

    private static Dictionary<string, string> DependsOn(YamlNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (node)
        {
            case YamlSequenceNode list:
                foreach (var item in list)
                {
                    result[Scalar(item)!] = "service_started";
                }
                break;
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    result[Scalar(k)!] = v is YamlMappingNode m ? Scalar(Child(m, "condition")) ?? "service_started" : "service_started";
                }
                break;
        }
        return result;
    }

    private static PublishedPort PortOf(YamlNode node)
    {
        if (node is YamlMappingNode map)
        {
            return new PublishedPort(
                Scalar(Child(map, "host_ip")),
                Scalar(Child(map, "published")) is { } published ? int.Parse(published, System.Globalization.CultureInfo.InvariantCulture) : null,
                int.Parse(Scalar(Child(map, "target"))!, System.Globalization.CultureInfo.InvariantCulture));
        }
        var text = Scalar(node)!;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var parts = (slash < 0 ? text : text[..slash]).Split(':');
        static int P(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        return parts.Length switch
        {
            1 => new PublishedPort(null, null, P(parts[0])),
            2 => new PublishedPort(null, P(parts[0]), P(parts[1])),
            3 => new PublishedPort(parts[0], P(parts[1]), P(parts[2])),
            _ => throw new FormatException($"port '{text}' is not [ip:]host:container"),
        };
    }

    private static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Map(YamlMappingNode node, string key) =>
        Child(node, key) is YamlMappingNode m ? m.Children : [];

    private static IEnumerable<YamlNode> Sequence(YamlNode? node) => node is YamlSequenceNode s ? s.Children : [];

    private static YamlNode? Child(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string? Scalar(YamlNode? node) => (node as YamlScalarNode)?.Value;
}
