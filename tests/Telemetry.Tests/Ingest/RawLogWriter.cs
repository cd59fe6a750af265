using System.Buffers.Binary;
using System.Text;
using Telemetry.Grains.Ingest;

namespace Telemetry.Tests.Ingest;

/// <summary>Writes raw-log records the way the seed's <c>http/server.js</c> did (test files of any size).</summary>
internal static class RawLogWriter
{
    /// <summary>One record: preamble (separator, [ip length,] path length, body length, arrival ms), [ip,] path, body.</summary>
    public static byte[] Record(RawLogFormat format, RawLogRecord record)
    {
        var ip = format == RawLogFormat.V2 ? Encoding.ASCII.GetBytes(record.ClientIp ?? "") : [];
        var path = Encoding.ASCII.GetBytes(record.Path);
        var preamble = new byte[format == RawLogFormat.V2 ? 16 : 15];
        var at = 0;
        preamble[at++] = RawLogReader.RecordSeparator;
        if (format == RawLogFormat.V2)
        {
            preamble[at++] = checked((byte)ip.Length);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(preamble.AsSpan(at), checked((ushort)path.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(preamble.AsSpan(at + 2), (uint)record.Body.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(preamble.AsSpan(at + 6), (ulong)record.ArrivalTime.ToUnixTimeMilliseconds());
        return [.. preamble, .. ip, .. path, .. record.Body.Span];
    }

    /// <summary>Writes <paramref name="records"/> to a file, one after the other.</summary>
    public static void WriteFile(string file, RawLogFormat format, IEnumerable<RawLogRecord> records)
    {
        using var output = File.Create(file);
        foreach (var record in records)
        {
            output.Write(Record(format, record));
        }
    }
}
