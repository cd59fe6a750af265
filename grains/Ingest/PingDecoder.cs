using System.Collections.Frozen;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Ingest;

/// <summary>Settings that change what is aggregated (README, "Configuration": Aggregates:ExcludedMetrics).</summary>
public sealed class DecodeSettings
{
    public static readonly string[] DefaultExcludedMetrics =
    [
        "SEARCH_COUNTS",
        "MESSAGE_MANAGER_MESSAGE_SIZE",
        "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
        "SCALARS_TELEMETRY.EVENT_COUNTS",
        "SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS",
    ];

    public static readonly DecodeSettings Default = new(DefaultExcludedMetrics);

    public DecodeSettings(IEnumerable<string> excludedMetrics)
    {
        ExcludedMetrics = excludedMetrics.ToFrozenSet(StringComparer.Ordinal);
    }

    public FrozenSet<string> ExcludedMetrics { get; }
}

/// <summary>
/// Turns a <see cref="RawPing"/> into dimensions and histogram contributions using the probe
/// definitions of the ping's revision.
/// </summary>
public static class PingDecoder
{
    /// <summary>Checks the ping has what its version needs and decodes it; throws <see cref="PingFormatException"/> (bad_payload).</summary>
    /// <param name="borrowStorage">Decode into this thread's spare working storage (the caller releases it: <see cref="SubmissionDecoder.DecodeForLanding"/>).</param>
    public static DecodedPing Decode(RawPing raw, SubmissionPath path, DateOnly submissionDate, ProbeSnapshot probes, DecodeSettings settings, bool borrowStorage = false)
    {
        RequireFields(raw);
        int mismatches = 0;
        string channel = Pick(raw.Channel, path.Channel, ref mismatches);
        string app = Pick(raw.AppName, path.AppName, ref mismatches);
        string version = Pick(raw.AppVersion, path.AppVersion, ref mismatches);
        string buildId = Pick(raw.BuildId, path.BuildId, ref mismatches);

        string major = MajorVersion(version);
        if (major.Length == 0)
        {
            throw new PingFormatException(PingRejection.BadPayload, "application version is missing or does not start with a major version");
        }
        if (buildId.Length < 8 || buildId.AsSpan(0, 8).ContainsAnyExceptInRange('0', '9'))
        {
            throw new PingFormatException(PingRejection.BadPayload, "build id must start with a yyyyMMdd date");
        }
        string os = Clean(raw.OsName ?? "");
        var dims = new PingDimensions
        {
            DocType = raw.Type ?? raw.Reason ?? path.DocType,
            Channel = channel,
            Application = app,
            AppVersion = version,
            MajorVersion = major,
            BuildId = buildId,
            BuildDate = buildId[..8],
            Architecture = Clean(raw.Architecture ?? raw.EnvArchitecture ?? ""),
            Os = os,
            OsVersion = Clean(NormalizeOsVersion(os, raw.OsVersion ?? "")),
            SubmissionDate = submissionDate.ToString("yyyyMMdd"),
        };
        var ping = new DecodedPing { Dimensions = dims, DimensionMismatches = mismatches, SubmissionDate = submissionDate };
        if (borrowStorage)
        {
            ping.Borrow();
        }
        int observations = raw.Scalars.Count + raw.SimpleMeasures.Count;
        ping.Reserve(raw.Histograms.Count + observations, raw.ValuesUsed + raw.Histograms.Count + observations);

        string? revision = raw.IsClassic ? RevisionHash(raw.Revision) : raw.Revision;
        var definitions = probes.Resolve(revision, channel);
        foreach (ref readonly var h in System.Runtime.InteropServices.CollectionsMarshal.AsSpan(raw.Histograms))
        {
            AddHistogram(ping, raw, in h, definitions, settings);
        }
        foreach (var s in raw.Scalars)
        {
            if (s.Name.StartsWith("browser.engagement.navigation", StringComparison.Ordinal))
            {
                continue;
            }
            string metric = MetricNames.Of("SCALARS_", s.Name, "");
            if (settings.ExcludedMetrics.Contains(metric))
            {
                continue;
            }
            AddObservation(ping, metric, MetricNames.Upper(s.Label), s.Process, BucketLayout.Scalars, s.Value);
        }
        foreach (var m in raw.SimpleMeasures)
        {
            string metric = MetricNames.Of("SIMPLE_MEASURES_", m.Name, m.Label);
            if (settings.ExcludedMetrics.Contains(metric))
            {
                continue;
            }
            AddObservation(ping, metric, "", m.Process, BucketLayout.SimpleMeasures, m.Value);
        }
        return ping;
    }

    private static void RequireFields(RawPing raw)
    {
        if (!raw.IsClassic && !raw.IsUnified)
        {
            throw new PingFormatException(PingRejection.BadPayload, "missing 'ver' (classic ping) or 'version' 4 (unified ping)");
        }
        if (raw.IsClassic && !raw.IsUnified)
        {
            if (!raw.HasInfo)
            {
                throw new PingFormatException(PingRejection.BadPayload, "missing 'info'");
            }
            if (raw.HasHistograms && string.IsNullOrEmpty(raw.Revision))
            {
                throw new PingFormatException(PingRejection.BadPayload, "missing 'info.revision' (required with 'histograms')");
            }
            if (raw.HasHistograms && RevisionHash(raw.Revision) is null)
            {
                throw new PingFormatException(PingRejection.BadPayload, "'info.revision' must be an hg URL ending in /rev/<hash>");
            }
            return;
        }
        if (!raw.HasApplication)
        {
            throw new PingFormatException(PingRejection.BadPayload, "missing 'application'");
        }
        if (!raw.HasPayload)
        {
            throw new PingFormatException(PingRejection.BadPayload, "missing 'payload'");
        }
    }

    private static string Pick(string? body, string url, ref int mismatches)
    {
        if (string.IsNullOrEmpty(body))
        {
            return Clean(url);
        }
        if (!string.Equals(body, url, StringComparison.Ordinal))
        {
            mismatches++;
        }
        return Clean(body);
    }

    /// <summary>Control characters become '?': dimension values end up in grain keys, JSON and logs.</summary>
    public static string Clean(string value)
    {
        if (!value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') && !value.Contains('\u007f'))
        {
            return value;
        }
        return string.Create(value.Length, value, static (span, v) =>
        {
            for (int i = 0; i < v.Length; i++)
            {
                span[i] = char.IsControl(v[i]) ? '?' : v[i];
            }
        });
    }

    public static string MajorVersion(string version)
    {
        int dot = version.IndexOf('.');
        return dot < 0 ? version : version[..dot];
    }

    /// <summary>Linux versions keep only major.minor (<c>3.1.12</c> → <c>3.1</c>).</summary>
    public static string NormalizeOsVersion(string os, string version)
    {
        if (!os.Equals("Linux", StringComparison.OrdinalIgnoreCase))
        {
            return version;
        }
        int first = version.IndexOf('.');
        if (first < 0)
        {
            return version;
        }
        int second = version.IndexOf('.', first + 1);
        return second < 0 ? version : version[..second];
    }

    /// <summary>The hash at the end of an hg URL (<c>.../rev/a55c55edf302</c>), or the value itself when it has no slash.</summary>
    public static string? RevisionHash(string? revision)
    {
        if (string.IsNullOrEmpty(revision))
        {
            return null;
        }
        int idx = revision.LastIndexOf("/rev/", StringComparison.Ordinal);
        if (idx >= 0)
        {
            string hash = revision[(idx + 5)..].TrimEnd('/');
            return hash.Length == 0 ? null : hash;
        }
        return revision.Contains('/') ? null : revision;
    }

    private static void AddHistogram(DecodedPing ping, RawPing raw, in RawHistogram h, ProbeRevision? revision, DecodeSettings settings)
    {
        var (excluded, def) = HistogramResolution.Of(h.Name, revision, settings);
        if (excluded)
        {
            return;
        }
        if (!h.ValuesValid || !h.SumIsInteger || h.Sum < 0)
        {
            ping.InvalidHistograms.Add(h.Name);
            return;
        }
        bool isCount = def is not null ? def.Kind == HistogramKind.Count : h.TypeCode == 4;
        if (isCount)
        {
            AddObservation(ping, h.Name, h.Label, h.Process, BucketLayout.CountHistogramObservations, h.Sum, undeclared: def is null);
            return;
        }
        // A registry layout wins; the ping's own declaration is only looked at when there is none.
        BucketLayout? layout = def?.Layout;
        if (layout is null)
        {
            var declared = BucketLayout.FromDeclared(h.TypeCode, h.RangeLow, h.RangeHigh, h.BucketCount);
            layout = def is null ? declared : def.ResolveLayout(declared);
        }
        if (layout is null)
        {
            ping.InvalidHistograms.Add(h.Name);
            return;
        }
        var bounds = raw.BoundsOf(in h);
        var counts = raw.CountsOf(in h);
        int start = ping.Used;
        int index = -1;
        for (int i = 0; i < bounds.Length; i++)
        {
            double c = counts[i];
            index = layout.IndexOfBound(bounds[i], index);
            if (index < 0 || c < 0 || c != Math.Floor(c) || c > long.MaxValue / 2)
            {
                ping.Used = start; // drop what this histogram added so far
                ping.InvalidHistograms.Add(h.Name);
                return;
            }
            if (c > 0)
            {
                ping.Add(index, (long)c);
            }
        }
        ping.Contributions.Add(new Contribution(h.Name, h.Label, h.Process, layout, def is null, (long)h.Sum, start, ping.Used - start));
    }

    private static void AddObservation(DecodedPing ping, string metric, string label, ProcessKind process, BucketLayout layout, double value, bool undeclared = false)
    {
        if (value < 0 || double.IsNaN(value) || double.IsInfinity(value) || value > long.MaxValue / 2)
        {
            return;
        }
        int index = layout.IndexOfValue(value);
        if (index < 0)
        {
            return;
        }
        int start = ping.Used;
        ping.Add(index, 1);
        ping.Contributions.Add(new Contribution(metric, label, process, layout, undeclared, (long)Math.Round(value), start, 1));
    }
}

/// <summary>
/// What a histogram name means under one probe revision and one set of settings (excluded, and its
/// definition, a <c>STARTUP_</c> name falling back to the name without the prefix), remembered per
/// thread. The reader hands out the same string object for a name every time (<see cref="NameTable"/>),
/// so a lookup by reference replaces two hash lookups of the whole name per histogram. A different
/// revision or settings object starts a new table; bounded, since names come from clients.
/// </summary>
internal static class HistogramResolution
{
    private const int MaxEntries = 50_000;
    private const string StartupPrefix = "STARTUP_";

    private sealed class Table
    {
        public ProbeRevision? Revision;
        public DecodeSettings? Settings;
        public readonly Dictionary<string, (bool Excluded, HistogramDefinition? Definition)> Names = new(ReferenceEqualityComparer.Instance);
    }

    [ThreadStatic] private static Table? t_table;

    public static (bool Excluded, HistogramDefinition? Definition) Of(string name, ProbeRevision? revision, DecodeSettings settings)
    {
        if (name.Length > NameTable.MaxLength / 3 && System.Text.Encoding.UTF8.GetByteCount(name) > NameTable.MaxLength)
        {
            // Not interned (a new string every time): remembering it would only hold garbage.
            return Resolve(name, revision, settings);
        }
        var table = t_table ??= new Table();
        if (!ReferenceEquals(table.Revision, revision) || !ReferenceEquals(table.Settings, settings) || table.Names.Count >= MaxEntries)
        {
            table.Names.Clear();
            table.Revision = revision;
            table.Settings = settings;
        }
        if (table.Names.TryGetValue(name, out var known))
        {
            return known;
        }
        var resolved = Resolve(name, revision, settings);
        table.Names[name] = resolved;
        return resolved;
    }

    /// <summary>The same answer without the table.</summary>
    public static (bool Excluded, HistogramDefinition? Definition) Resolve(string name, ProbeRevision? revision, DecodeSettings settings)
    {
        if (settings.ExcludedMetrics.Contains(name))
        {
            return (true, null);
        }
        HistogramDefinition? def = null;
        if (revision is not null && !revision.Lookup.TryGetValue(name, out def)
            && name.StartsWith(StartupPrefix, StringComparison.Ordinal))
        {
            revision.Lookup.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name.AsSpan(StartupPrefix.Length), out def);
        }
        return (false, def);
    }
}

/// <summary>
/// The aggregate metric names of scalars and simple measurements ("SCALARS_" + NAME, …), built once
/// per name instead of twice per ping and value. Per thread (no locks); bounded, since names come
/// from clients.
/// </summary>
internal static class MetricNames
{
    private const int MaxEntries = 50_000;

    [ThreadStatic] private static Dictionary<(string Prefix, string Name, string Label), string>? t_names;
    [ThreadStatic] private static Dictionary<string, string>? t_upper;

    /// <summary><paramref name="prefix"/> + NAME, or + NAME_LABEL when there is a label.</summary>
    public static string Of(string prefix, string name, string label)
    {
        var table = t_names ??= new();
        if (table.TryGetValue((prefix, name, label), out var metric))
        {
            return metric;
        }
        metric = label.Length == 0 ? prefix + name.ToUpperInvariant() : prefix + name.ToUpperInvariant() + "_" + label.ToUpperInvariant();
        if (table.Count >= MaxEntries)
        {
            table.Clear();
        }
        table[(prefix, name, label)] = metric;
        return metric;
    }

    public static string Upper(string value)
    {
        if (value.Length == 0)
        {
            return value;
        }
        var table = t_upper ??= new(StringComparer.Ordinal);
        if (table.TryGetValue(value, out var upper))
        {
            return upper;
        }
        upper = value.ToUpperInvariant();
        if (table.Count >= MaxEntries)
        {
            table.Clear();
        }
        table[value] = upper;
        return upper;
    }
}
