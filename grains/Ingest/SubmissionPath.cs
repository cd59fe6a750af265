namespace Telemetry.Grains.Ingest;

/// <summary>The six segments after <c>/submit/telemetry/</c>.</summary>
public sealed record SubmissionPath(string DocId, string DocType, string AppName, string AppVersion, string Channel, string BuildId)
{
    public const string Prefix = "/submit/telemetry/";
    public const int MaxSegmentBytes = 256;
    public const int MaxPathBytes = 10 * 1024;

    private static readonly string[] SegmentNames = ["docId", "docType", "appName", "appVersion", "appUpdateChannel", "appBuildId"];

    /// <summary>Parses the part after the prefix (<c>docId/docType/app/version/channel/buildId</c>).</summary>
    public static SubmissionPath Parse(string rest)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(rest) > MaxPathBytes)
        {
            throw new PingFormatException(PingRejection.BadPath, $"path longer than {MaxPathBytes} bytes");
        }
        var parts = rest.TrimEnd('/').Split('/');
        if (parts.Length == 1 && parts[0].Length == 0)
        {
            parts = [];
        }
        if (parts.Length < 6)
        {
            throw new PingFormatException(PingRejection.BadPath,
                $"expected 6 path segments after {Prefix}, got {parts.Length}; missing: {string.Join(", ", SegmentNames[parts.Length..])}");
        }
        if (parts.Length > 6)
        {
            throw new PingFormatException(PingRejection.BadPath,
                $"expected 6 path segments after {Prefix} (docId/docType/appName/appVersion/appUpdateChannel/appBuildId), got {parts.Length}");
        }
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length == 0)
            {
                throw new PingFormatException(PingRejection.BadPath, $"path segment {SegmentNames[i]} is empty");
            }
            if (parts[i].AsSpan().ContainsAnyInRange('\u0000', '\u001f') || parts[i].Contains('\u007f'))
            {
                throw new PingFormatException(PingRejection.BadPath, $"path segment {SegmentNames[i]} contains a control character");
            }
            if (System.Text.Encoding.UTF8.GetByteCount(parts[i]) > MaxSegmentBytes)
            {
                throw new PingFormatException(PingRejection.BadPath, $"path segment {SegmentNames[i]} is longer than {MaxSegmentBytes} bytes");
            }
        }
        return new SubmissionPath(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]);
    }
}
