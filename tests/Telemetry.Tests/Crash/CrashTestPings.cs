using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Telemetry.Tests.Crash;

/// <summary>A main or crash ping as the tests think of it; <see cref="ToJson"/> writes it as a client would.</summary>
public sealed record CrashPingModel
{
    public string DocType { get; init; } = "main";
    public bool Classic { get; init; }
    public string? Type { get; init; } = "main"; // the body's "type"; null = absent
    public string? AppName { get; init; } = "Firefox";
    public string? Channel { get; init; } = "nightly";
    public string? AppBuildId { get; init; } = "20160302030405";
    public string? AppArchitecture { get; init; } = "x86";
    public string? BuildVersion { get; init; } = "47.0a1";
    public string? BuildId { get; init; } = "20160302030405";
    public string? Architecture { get; init; } = "x86-64";
    public string? OsName { get; init; } = "Windows_NT";
    public string? OsVersion { get; init; } = "6.1";
    public string? ExperimentId { get; init; }
    public string? ExperimentBranch { get; init; }
    public bool? E10sEnabled { get; init; } = true;
    public string? E10sCohort { get; init; } = "test";
    public string? Compositor { get; init; } = "d3d11";

    /// <summary>A long (integer), double (non-integer), string, or null (absent).</summary>
    public object? SubsessionLength { get; init; } = 3600L;

    /// <summary>payload.info.subsessionStartDate (main) / payload.crashDate (crash); null = absent.</summary>
    public string? DateText { get; init; } = "2016-03-02T00:00:00.0+01:00";

    public string? ProcessType { get; init; }

    /// <summary>SUBPROCESS_CRASHES_WITH_DUMP key → values (bucket lower bound → count) in the parent payload.</summary>
    public Dictionary<string, Dictionary<string, double>> CrashesWithDump { get; init; } = new();

    /// <summary>SUBPROCESS_KILL_HARD key → values.</summary>
    public Dictionary<string, Dictionary<string, double>> KillHard { get; init; } = new();

    /// <summary>Noise: SUBPROCESS_CRASHES_WITH_DUMP/content recorded in a content process (must not count).</summary>
    public double? ContentProcessNoise { get; init; }

    /// <summary>Write non-ASCII as raw UTF-8 (true) or as \u escapes (false).</summary>
    public bool RawUtf8 { get; init; }

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public byte[] ToJson()
    {
        if (Classic)
        {
            var classic = new JsonObject
            {
                ["ver"] = 1,
                ["info"] = new JsonObject { ["reason"] = "saved-session", ["appName"] = AppName, ["appUpdateChannel"] = Channel, ["appBuildID"] = BuildId },
                ["simpleMeasurements"] = new JsonObject(),
            };
            return JsonSerializer.SerializeToUtf8Bytes(classic);
        }
        var build = new JsonObject { ["applicationName"] = AppName };
        Put(build, "version", BuildVersion);
        Put(build, "buildId", BuildId);
        Put(build, "architecture", Architecture);
        var os = new JsonObject { ["locale"] = "en-US" };
        Put(os, "name", OsName);
        Put(os, "version", OsVersion);
        var features = new JsonObject { ["d3d11"] = new JsonObject { ["status"] = "available" } };
        Put(features, "compositor", Compositor);
        var settings = new JsonObject { ["locale"] = "en-US", ["telemetryEnabled"] = true };
        if (E10sEnabled is { } e10s) settings["e10sEnabled"] = e10s;
        Put(settings, "e10sCohort", E10sCohort);
        var experiment = new JsonObject();
        Put(experiment, "id", ExperimentId);
        Put(experiment, "branch", ExperimentBranch);
        var application = new JsonObject { ["vendor"] = "Mozilla", ["platformVersion"] = BuildVersion };
        Put(application, "name", AppName);
        Put(application, "channel", Channel);
        Put(application, "buildId", AppBuildId);
        Put(application, "architecture", AppArchitecture);
        Put(application, "version", BuildVersion);

        var payload = new JsonObject();
        if (DocType == "crash" || Type == "crash")
        {
            payload["sessionId"] = "s";
            Put(payload, "crashDate", DateText);
            Put(payload, "processType", ProcessType);
            payload["metadata"] = new JsonObject { ["ProductName"] = "Firefox", ["StartupTime"] = "1456890000" };
            payload["hasCrashEnvironment"] = true;
        }
        else
        {
            var info = new JsonObject { ["reason"] = "daily", ["sessionId"] = "s", ["subsessionId"] = "ss", ["previousBuildId"] = null };
            switch (SubsessionLength)
            {
                case long l: info["subsessionLength"] = l; break;
                case double d: info["subsessionLength"] = d; break;
                case string s: info["subsessionLength"] = s; break;
            }
            Put(info, "subsessionStartDate", DateText);
            payload["info"] = info;
            payload["simpleMeasurements"] = new JsonObject { ["totalTime"] = 100, ["uptime"] = 2 };
            payload["histograms"] = new JsonObject
            {
                ["GC_MS"] = new JsonObject
                {
                    ["range"] = new JsonArray(1, 10000), ["bucket_count"] = 50, ["histogram_type"] = 0,
                    ["values"] = new JsonObject { ["0"] = 3, ["1"] = 2 }, ["sum"] = 5,
                },
            };
            var keyed = new JsonObject
            {
                ["SUBPROCESS_ABNORMAL_ABORT"] = new JsonObject { ["content"] = Count(new() { ["0"] = 77 }) },
            };
            if (CrashesWithDump.Count > 0) keyed["SUBPROCESS_CRASHES_WITH_DUMP"] = Keyed(CrashesWithDump);
            if (KillHard.Count > 0) keyed["SUBPROCESS_KILL_HARD"] = Keyed(KillHard);
            payload["keyedHistograms"] = keyed;
            if (ContentProcessNoise is { } noise)
            {
                payload["processes"] = new JsonObject
                {
                    ["parent"] = new JsonObject { ["scalars"] = new JsonObject { ["browser.engagement.tab_open_event_count"] = 4 } },
                    ["content"] = new JsonObject
                    {
                        ["keyedHistograms"] = new JsonObject
                        {
                            ["SUBPROCESS_CRASHES_WITH_DUMP"] = new JsonObject { ["content"] = Count(new() { ["0"] = noise }) },
                        },
                    },
                };
            }
        }
        var root = new JsonObject
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["creationDate"] = "2016-03-02T10:00:00.000Z",
            ["version"] = 4,
            ["clientId"] = "c",
            ["application"] = application,
            ["environment"] = new JsonObject
            {
                ["build"] = build,
                ["settings"] = settings,
                ["system"] = new JsonObject { ["memoryMB"] = 4096, ["os"] = os, ["gfx"] = new JsonObject { ["features"] = features, ["adapters"] = new JsonArray() } },
                ["addons"] = new JsonObject { ["activeExperiment"] = experiment, ["activeAddons"] = new JsonObject() },
            },
            ["payload"] = payload,
        };
        if (Type is not null) root["type"] = Type;
        return RawUtf8 ? JsonSerializer.SerializeToUtf8Bytes(root, Relaxed) : JsonSerializer.SerializeToUtf8Bytes(root);
    }

    private static void Put(JsonObject o, string name, string? value)
    {
        if (value is not null) o[name] = value;
    }

    private static JsonObject Keyed(Dictionary<string, Dictionary<string, double>> keys)
    {
        var o = new JsonObject();
        foreach (var (key, values) in keys) o[key] = Count(values);
        return o;
    }

    private static JsonObject Count(Dictionary<string, double> values)
    {
        var v = new JsonObject();
        foreach (var (bound, count) in values) v[bound] = count;
        return new JsonObject
        {
            ["range"] = new JsonArray(1, 2), ["bucket_count"] = 3, ["histogram_type"] = 4,
            ["values"] = v, ["sum"] = values.Values.Sum(),
        };
    }
}
