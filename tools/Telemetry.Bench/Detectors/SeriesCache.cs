using System.Collections.Immutable;
using System.Globalization;
using Telemetry.Grains.Regressions;

namespace Telemetry.Bench.Detectors;

/// <summary>
/// Generated series kept in a file (<c>--cache DIR</c>), so that repeated runs on the same seed,
/// variant, date count and series count only run the detectors: generating the pings is almost
/// all of a run's time. The file is named after those four values; a missing or unreadable file
/// is generated again. The series are the generator's, byte for byte.
/// </summary>
public static class SeriesCache
{
    private const int Version = 1;

    public static string PathOf(string directory, int seed, string variant, int dates, int count) =>
        Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"detectors-s{seed}-{variant}-d{dates}-n{count}.bin"));

    public static LabelledSeries[]? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadInt32() != Version)
            {
                return null;
            }
            var series = new LabelledSeries[reader.ReadInt32()];
            for (int i = 0; i < series.Length; i++)
            {
                series[i] = ReadOne(reader);
            }
            return series;
        }
        catch (IOException)
        {
            return null; // EndOfStreamException included: a file cut short is generated again
        }
    }

    public static void Write(string path, LabelledSeries[] series)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temporary = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary)))
        {
            writer.Write(Version);
            writer.Write(series.Length);
            foreach (var s in series)
            {
                WriteOne(writer, s);
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    private static void WriteOne(BinaryWriter writer, LabelledSeries s)
    {
        writer.Write(SyntheticSeriesGenerator.Scenarios.IndexOf(s.Scenario));
        writer.Write(s.BasePings);
        writer.Write(s.EventIndex);
        writer.Write(s.Changes.Length);
        foreach (var c in s.Changes)
        {
            writer.Write(c.Start);
            writer.Write(c.WindowEnd);
            writer.Write((int)c.Direction);
            writer.Write(c.TrueEffect);
        }
        writer.Write(s.Series.Channel);
        writer.Write(s.Series.Metric);
        writer.Write(s.Series.Count);
        foreach (var d in s.Series.Dates)
        {
            writer.Write(d.BuildDate.DayNumber);
            writer.Write(d.Pings);
            writer.Write(d.LowerBounds.Length);
            foreach (var b in d.LowerBounds)
            {
                writer.Write(b);
            }
            foreach (var c in d.Counts)
            {
                writer.Write(c);
            }
        }
    }

    private static LabelledSeries ReadOne(BinaryReader reader)
    {
        var scenario = SyntheticSeriesGenerator.Scenarios[reader.ReadInt32()];
        double basePings = reader.ReadDouble();
        int eventIndex = reader.ReadInt32();
        var changes = ImmutableArray.CreateBuilder<LabelledChange>();
        for (int n = reader.ReadInt32(); n > 0; n--)
        {
            changes.Add(new LabelledChange(reader.ReadInt32(), reader.ReadInt32(), (RegressionDirection)reader.ReadInt32(), reader.ReadDouble()));
        }
        string channel = reader.ReadString(), metric = reader.ReadString();
        var dates = new List<BuildDateHistogram>();
        for (int n = reader.ReadInt32(); n > 0; n--)
        {
            var day = DateOnly.FromDayNumber(reader.ReadInt32());
            long pings = reader.ReadInt64();
            int buckets = reader.ReadInt32();
            var bounds = ImmutableArray.CreateBuilder<long>(buckets);
            for (int k = 0; k < buckets; k++)
            {
                bounds.Add(reader.ReadInt64());
            }
            var counts = ImmutableArray.CreateBuilder<long>(buckets);
            for (int k = 0; k < buckets; k++)
            {
                counts.Add(reader.ReadInt64());
            }
            dates.Add(new BuildDateHistogram(day, bounds.MoveToImmutable(), counts.MoveToImmutable(), pings));
        }
        return new LabelledSeries(new MetricSeries(channel, metric, dates), scenario, basePings, changes.ToImmutable(), eventIndex);
    }
}
