using System.Globalization;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Crash;
using Telemetry.Grains.Ingest;
using Telemetry.Silo.Aggregates;
using Telemetry.Silo.Ingest;
using Telemetry.Silo.Operations;
using Telemetry.Silo.Probes;

namespace Telemetry.Silo.Extensions;

/// <summary>Section <c>Ingest</c>: the declared ranges, and the rules between settings.</summary>
public sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        const string s = IngestOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        // A plain (not gzip) body is its own inflated form: a lower inflation limit would reject
        // bodies the size limit lets through.
        if (options.MaxInflatedBytes < options.MaxBodyBytes)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:MaxInflatedBytes ({options.MaxInflatedBytes}) must be at least {s}:MaxBodyBytes ({options.MaxBodyBytes})."));
        }
        // A batch is pushed up to one push interval after it lands; a grace shorter than two intervals
        // makes partitions read from the log most batches whose push is on its way (0 does it for all,
        // on purpose: tests and diagnosis).
        if (options.PushGraceMs != 0 && options.PushGraceMs < 2 * options.PushIntervalMs)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:PushGraceMs ({options.PushGraceMs}) must be 0 (always read batches from the log) or at least twice {s}:PushIntervalMs ({2 * options.PushIntervalMs})."));
        }
        // In normal operation a checkpoint trails by up to one persist interval plus a checkpoint round
        // or two (docs/exactly-once.md); a lower limit would report Degraded all the time.
        int normalAge = options.PersistSeconds + 2 * options.CheckpointSeconds;
        if (options.CheckpointAgeLimitSeconds <= normalAge)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:CheckpointAgeLimitSeconds ({options.CheckpointAgeLimitSeconds}) must be more than {s}:PersistSeconds + 2 x {s}:CheckpointSeconds ({normalAge}), the age checkpoints reach in normal operation."));
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Aggregates</c>: read tokens and the API's limits (after <see cref="AggregatesOptions.ApplyDefaults"/>).</summary>
public sealed class AggregatesOptionsValidator : IValidateOptions<AggregatesOptions>
{
    public ValidateOptionsResult Validate(string? name, AggregatesOptions options)
    {
        const string s = AggregatesOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        OptionRules.Tokens($"{s}:ReadTokens", options.ReadTokens, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Probes</c>: a seed directory that was configured must exist.</summary>
public sealed class ProbeOptionsValidator : IValidateOptions<ProbeOptions>
{
    public ValidateOptionsResult Validate(string? name, ProbeOptions options)
    {
        const string s = ProbeOptions.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, options, failures);
        // The default folder may be missing (a build without seeds starts with an empty registry), and
        // an empty value means "no seeds"; a folder an operator named must be there, or uploads they
        // expected would silently be absent.
        string dir = options.SeedDirectory;
        if (dir.Length > 0 && dir != ProbeOptions.DefaultSeedDirectory && !Directory.Exists(dir))
        {
            failures.Add($"{s}:SeedDirectory '{dir}' does not exist (leave it unset for the silo's own probes folder, or set it empty for no seeds).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Admin</c>: tokens long enough to guess at no cost.</summary>
public sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        OptionRules.Tokens($"{AdminOptions.Section}:Tokens", options.Tokens, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary><c>Crash:CountryHeader</c> must be a header name a request can carry.</summary>
public sealed class CountryOptionsValidator : IValidateOptions<CountryOptions>
{
    public ValidateOptionsResult Validate(string? name, CountryOptions options) =>
        OptionRules.IsHeaderName(options.CountryHeader)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{CountryOptions.Section}:CountryHeader '{options.CountryHeader}' is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only).");
}

/// <summary>Section <c>Crash</c> as the grains read it.</summary>
public sealed class CrashOptionsValidator : IValidateOptions<CrashOptions>
{
    public ValidateOptionsResult Validate(string? name, CrashOptions options)
    {
        var failures = new List<string>();
        OptionRules.Ranges(CrashOptions.Section, options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Section <c>Orleans</c>, read before the host exists (it configures the silo's endpoints).</summary>
public static class ClusterSettingsValidator
{
    public static List<string> Validate(ClusterSettings settings)
    {
        const string s = ClusterSettings.Section;
        var failures = new List<string>();
        OptionRules.Ranges(s, settings, failures);
        if (string.IsNullOrWhiteSpace(settings.ClusterId))
        {
            failures.Add($"{s}:ClusterId must not be empty.");
        }
        if (string.IsNullOrWhiteSpace(settings.ServiceId))
        {
            failures.Add($"{s}:ServiceId must not be empty.");
        }
        if (settings.SiloPort == settings.GatewayPort)
        {
            failures.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:SiloPort and {s}:GatewayPort must differ (both are {settings.SiloPort})."));
        }
        if (!System.Net.IPAddress.TryParse(settings.AdvertisedIp, out _))
        {
            failures.Add($"{s}:AdvertisedIp '{settings.AdvertisedIp}' is not an IP address.");
        }
        return failures;
    }
}
