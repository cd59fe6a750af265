namespace Telemetry.Grains.Ingest;

/// <summary>Why a submission was not stored; the names are the reason labels of telemetry_ingest_rejected_total (README, "Ingestion").</summary>
public enum PingRejection
{
    BadPath,
    TooLarge,
    BadGzip,
    BadJson,
    BadPayload,
    Empty,
}

public static class PingRejections
{
    public static string Name(PingRejection r) => r switch
    {
        PingRejection.BadPath => "bad_path",
        PingRejection.TooLarge => "too_large",
        PingRejection.BadGzip => "bad_gzip",
        PingRejection.BadJson => "bad_json",
        PingRejection.BadPayload => "bad_payload",
        PingRejection.Empty => "empty",
        _ => "unknown",
    };

    public static int StatusCode(PingRejection r) => r == PingRejection.TooLarge ? 413 : 400;
}

/// <summary>A submission that cannot be stored, with the reason and a short message for the client.</summary>
public sealed class PingFormatException(PingRejection reason, string message) : Exception(message)
{
    public PingRejection Reason { get; } = reason;
}
