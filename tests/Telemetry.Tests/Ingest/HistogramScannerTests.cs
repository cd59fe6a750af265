using System.Globalization;
using System.Text;
using Telemetry.Grains.Ingest;
using Xunit;

namespace Telemetry.Tests.Ingest;

/// <summary>
/// The histogram scanner against the general reader: for every document, reading with the scanner
/// must give exactly what reading without it gives, or the same refusal. Real pings, hand-written
/// edge cases, and seeded random edits of the real ping.
/// </summary>
public class HistogramScannerTests
{
    [Fact]
    public void RealPingsAreReadByTheScannerIntoTheSameValues()
    {
        foreach (var json in new[] { IngestTestData.RealPing, IngestTestData.UnifiedPing })
        {
            var scanned = Dump(PingReader.Read(json, new RawPing(), scanHistograms: true));
            var general = Dump(PingReader.Read(json, new RawPing(), scanHistograms: false));
            Assert.Equal(general, scanned);
            Assert.Contains("hist ", scanned);
        }
    }

    [Fact]
    public void TheScannerTakesTheShapeFirefoxWrites()
    {
        // The real Firefox 23 ping's histograms object is read entirely by the scanner, not handed back.
        var json = IngestTestData.RealPing;
        int open = IndexOfObjectAfter(json, "\"histograms\"");
        var ping = new RawPing();
        Assert.True(HistogramScanner.TryRead(json, open, ping, ProcessKind.Parent, keyed: false, out int end));
        Assert.Equal((byte)'}', json[end - 1]);
        Assert.True(ping.Histograms.Count > 300);
        Assert.All(ping.Histograms, h => Assert.True(h.ValuesValid));

        // So are the unified ping's plain and keyed histograms.
        var unified = IngestTestData.UnifiedPing;
        var keyedPing = new RawPing();
        int keyedOpen = IndexOfObjectAfter(unified, "\"keyedHistograms\"");
        Assert.True(HistogramScanner.TryRead(unified, keyedOpen, keyedPing, ProcessKind.Parent, keyed: true, out _));
        Assert.Contains(keyedPing.Histograms, h => h.Label.Length > 0);
    }

    private static readonly string[] Cases =
    [
        // shapes the scanner reads
        """{"histograms":{}}""",
        """{"histograms":{"A":null,"B":{}}}""",
        "{ \"histograms\" :\n {\t\"A\" : { \"range\" : [ 1 , 10 ] ,\r\n \"bucket_count\":3, \"histogram_type\":1, \"values\" : { \"0\" : 5 , \"1\":0 } , \"sum\" : 7 } } }",
        """{"histograms":{"A":{"range":[1,10],"values":{},"sum":0,"log_sum":1.5e-3,"note":"x y","flag":true,"other":null,"f":false}}}""",
        """{"histograms":{"A":{"range":[],"values":{"007":1}}}}""",
        """{"histograms":{"A":{"range":[-1,-0,5],"bucket_count":-3,"sum":-4}}}""",
        """{"keyedHistograms":{"K":{"a":{"range":[1,2],"values":{"0":1}},"b":null},"L":null,"M":{}}}""",
        """{"histograms":{"A":{"values":{"0":1}},"A":{"values":{"0":2}}}}""",
        """{"histograms":{"A":{"values":{"0":1},"values":{"1":2},"sum":1,"sum":2}}}""",
        """{"histograms":{"A":{"values":{"0":999999999999999999}}}}""",
        """{"payload":{"processes":{"content":{"histograms":{"A":{"values":{"3":4}}},"keyedHistograms":{"K":{"k":{"values":{"3":4}}}}}}}}""",
        """{"histograms":{"A":{"values":{"0":1}}},"ver":1,"info":{"appName":"Firefox"}}""",
        "{\"histograms\":{\"\u00e9t\u00e9\":{\"values\":{\"0\":1}}}}",
        // shapes the scanner hands back, read or refused by the general reader
        """{"histograms":{"A\u0041":{"values":{"0":1}}}}""",
        """{"histograms":{"A":{"values":{"0":1.5}}}}""",
        """{"histograms":{"A":{"values":{"0":1e2}}}}""",
        """{"histograms":{"A":{"values":{"0":-1}}}}""",
        """{"histograms":{"A":{"values":{"-1":1}}}}""",
        """{"histograms":{"A":{"values":{"+1":1}}}}""",
        """{"histograms":{"A":{"values":{"x":1}}}}""",
        """{"histograms":{"A":{"values":{"0":"1"}}}}""",
        """{"histograms":{"A":{"values":null}}}""",
        """{"histograms":{"A":{"values":[1,2]}}}""",
        """{"histograms":{"A":{"values":{"0":9999999999999999999}}}}""",
        """{"histograms":{"A":{"values":{"0000000000000000001":1}}}}""",
        """{"histograms":{"A":{"sum":1.5}}}""",
        """{"histograms":{"A":{"sum":"1"}}}""",
        """{"histograms":{"A":{"bucket_count":5000000000}}}""",
        """{"histograms":{"A":{"range":[1.5,2]}}}""",
        """{"histograms":{"A":{"range":[1,{"x":2}]}}}""",
        """{"histograms":{"A":{"range":1}}}""",
        """{"histograms":{"A":{"nested":{"x":1}}}}""",
        """{"histograms":{"A":{"list":[1]}}}""",
        """{"histograms":{"A":{"s":"a\"b"}}}""",
        """{"histograms":{"A":1,"B":{"values":{"0":1}}}}""",
        """{"histograms":{"A":[{"values":{"0":1}}]}}""",
        """{"histograms":null}""",
        """{"histograms":[1]}""",
        """{"keyedHistograms":{"K":1}}""",
        """{"keyedHistograms":{"K":{"k":1}}}""",
        // malformed: both refuse
        """{"histograms":{"A":{"values":{"0":01}}}}""",
        """{"histograms":{"A":{"values":{"0":1,}}}}""",
        """{"histograms":{"A":{"values":{"0":1}},}}""",
        """{"histograms":{"A":{"values":{"0" 1}}}}""",
        """{"histograms":{"A":{"values":{"0":1}}}""",
        """{"histograms":{"A":{"values":{"0":1}}}}}""",
        """{"histograms":{"A":{"values":{"0":1}}},}""",
        """{"histograms":{"A":{"sum":1x}}}""",
        """{"histograms":{"A":{"sum":-}}}""",
        """{"histograms":{"A":{"log_sum":1.}}}""",
        """{"histograms":{"A":{"log_sum":1e}}}""",
        """{"histograms":{"A":{"log_sum":.5}}}""",
        """{"histograms":{"A":{"flag":tru}}}""",
        """{"histograms":{"A":{"flag":nulll}}}""",
        "{\"histograms\":{\"A\u0001\":{}}}",
        "{\"histograms\":{\"A\":{\"s\":\"a\u0001\"}}}",
        "{\"histograms\":{\"A\":{\"values\":{\"0\":1}}}\u00a0}",
        """{"histograms":{"A":{"values":{"0":1}}""",
        """{"histograms":{"A""",
    ];

    public static TheoryData<string> EdgeCases() => new(Cases);

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void EdgeCasesReadAsTheGeneralReaderReadsThem(string document)
    {
        var bytes = Encoding.UTF8.GetBytes(document);
        Assert.Equal(Outcome(bytes, scan: false), Outcome(bytes, scan: true));
    }

    [Fact]
    public void ThePingsOfTheEdgeCasesAreNotAllRefused()
    {
        // Guards the theory above: the cases exercise reading, not only refusal.
        int read = Cases.Count(c => !Outcome(Encoding.UTF8.GetBytes(c), scan: true).StartsWith("refused", StringComparison.Ordinal));
        Assert.True(read > 30, $"{read} edge cases read");
    }

    [Fact]
    public void RandomEditsOfTheRealPingReadAsTheGeneralReaderReadsThem()
    {
        var original = IngestTestData.RealPing;
        int histogramsStart = IndexOfObjectAfter(original, "\"histograms\"");
        byte[] interesting = "\"\\,:{}[]-+.eE0123456789 \n\tnulltruex\u0001"u8.ToArray();
        var random = new Random(20261201);
        int refused = 0, read = 0;
        for (int i = 0; i < 600; i++)
        {
            var bytes = new List<byte>(original);
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++)
            {
                int at = histogramsStart + random.Next(bytes.Count - histogramsStart - 1);
                switch (random.Next(4))
                {
                    case 0: bytes[at] = interesting[random.Next(interesting.Length)]; break;
                    case 1: bytes.Insert(at, interesting[random.Next(interesting.Length)]); break;
                    case 2: bytes.RemoveAt(at); break;
                    default:
                        int length = 1 + random.Next(40);
                        int from = histogramsStart + random.Next(bytes.Count - histogramsStart - length);
                        bytes.InsertRange(at, bytes.GetRange(from, length));
                        break;
                }
            }
            var doc = bytes.ToArray();
            string general = Outcome(doc, scan: false);
            Assert.Equal(general, Outcome(doc, scan: true));
            if (general.StartsWith("refused", StringComparison.Ordinal)) refused++; else read++;
        }
        // Both kinds of outcome were compared, many times each.
        Assert.True(refused > 100 && read > 100, $"{refused} refused, {read} read");
    }

    private static string Outcome(byte[] json, bool scan)
    {
        try
        {
            return Dump(PingReader.Read(json, new RawPing(), scan));
        }
        catch (PingFormatException e)
        {
            return "refused " + e.Reason;
        }
    }

    private static int IndexOfObjectAfter(byte[] json, string property)
    {
        int at = json.AsSpan().IndexOf(Encoding.UTF8.GetBytes(property));
        Assert.True(at >= 0);
        return at + json.AsSpan(at).IndexOf((byte)'{');
    }

    // Everything a read yields, as text.
    private static string Dump(RawPing p)
    {
        var s = new StringBuilder();
        s.Append(CultureInfo.InvariantCulture, $"{p.IsClassic} {p.IsUnified} {p.FormatVersion} {p.Type} {p.Reason} {p.AppName} {p.AppVersion} {p.Channel} {p.BuildId} {p.Revision} {p.Architecture} {p.OsName} {p.OsVersion} {p.HasInfo} {p.HasApplication} {p.HasPayload} {p.HasHistograms}\n");
        s.Append(CultureInfo.InvariantCulture, $"{p.BuildVersion} {p.EnvBuildId} {p.EnvArchitecture} {p.ExperimentId} {p.ExperimentBranch} {p.E10sEnabled} {p.E10sCohort} {p.GfxCompositor} {p.SubsessionLength} {p.SubsessionLengthPresent} {p.SubsessionStartDate} {p.CrashDate} {p.ProcessType}\n");
        foreach (var h in p.Histograms)
        {
            s.Append(CultureInfo.InvariantCulture, $"hist {h.Name}|{h.Label}|{h.Process}|{h.TypeCode}|{h.RangeLow}|{h.RangeHigh}|{h.BucketCount}|{h.Sum:R}|{h.SumIsInteger}|{h.ValuesValid}|");
            var bounds = p.BoundsOf(h);
            var counts = p.CountsOf(h);
            for (int i = 0; i < bounds.Length; i++)
            {
                s.Append(CultureInfo.InvariantCulture, $"{bounds[i]}:{counts[i]:R},");
            }
            s.Append('\n');
        }
        foreach (var v in p.Scalars) s.Append(CultureInfo.InvariantCulture, $"scalar {v}\n");
        foreach (var v in p.SimpleMeasures) s.Append(CultureInfo.InvariantCulture, $"simple {v}\n");
        return s.ToString();
    }
}
