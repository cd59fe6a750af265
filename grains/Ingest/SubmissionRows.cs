using Telemetry.Grains.Registry;

namespace Telemetry.Grains.Ingest;

/// <summary>Decoding of rows read back from the landing log.</summary>
public static class SubmissionRows
{
    /// <summary>
    /// Decodes a stored row. A row was validated when it landed, so a failure here only happens when
    /// probe definitions changed meanwhile; such a row is skipped, never retried forever.
    /// </summary>
    public static bool TryDecode(LandedRow row, ProbeSnapshot probes, DecodeSettings settings, long maxInflated, out DecodedPing ping) =>
        TryDecode(row, probes, settings, maxInflated, out ping, out _);

    /// <summary>Decodes a stored row; false with the reason when it no longer decodes.</summary>
    public static bool TryDecode(LandedRow row, ProbeSnapshot probes, DecodeSettings settings, long maxInflated, out DecodedPing ping, out string? error)
    {
        try
        {
            var path = SubmissionPath.Parse(row.Path);
            ping = SubmissionDecoder.Decode(row.Body, false, maxInflated, path, row.SubmissionDate, probes, settings, row.Country);
            error = null;
            return true;
        }
        catch (PingFormatException e)
        {
            ping = null!;
            error = $"{PingRejections.Name(e.Reason)}: {e.Message}";
            return false;
        }
    }
}
