using System.Net;
using System.Text;
using Telemetry.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Telemetry.Tests.Ingest;

public sealed class ZzExploreTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Explore()
    {
        await using var silo = await SiloHost.StartAsync();
        var json = await File.ReadAllBytesAsync(TestPaths.SharedData("pings", "firefox-23.0.1-idle-daily.json"));
        async Task Show(string label, string path, byte[] body, string? enc = null, string method = "POST")
        {
            var r = await silo.SubmitAsync(path, body, enc, method);
            var text = await r.Content.ReadAsStringAsync();
            output.WriteLine($"{label}: {(int)r.StatusCode} {r.Content.Headers.ContentType} [{text.Length}] {text[..Math.Min(300, text.Length)]}");
        }
        string p = "ex-{0}/idle-daily/Firefox/23.0.1/release/20130814063812";
        var gz = SiloHost.Gzip(json);
        await Show("trunc8", string.Format(p, 1), gz[..^8]);
        await Show("trunc4", string.Format(p, 2), gz[..^4]);
        await Show("trunc1", string.Format(p, 3), gz[..^1]);
        await Show("trunc20", string.Format(p, 4), gz[..^20]);
        await Show("trunc10", string.Format(p, 5), gz[..10]);
        var flipped = (byte[])gz.Clone(); flipped[^6] ^= 0xFF;
        await Show("crc flipped", string.Format(p, 6), flipped);
        var bad = new List<byte>(Encoding.UTF8.GetBytes("{\"ver\":1,\"info\":{\"adapterDescription\":\"WIN"));
        bad.AddRange(new byte[] { 0xC3, 0x28, 0xFF });
        bad.AddRange(Encoding.UTF8.GetBytes("\"}}"));
        await Show("utf8 skipped", string.Format(p, 7), bad.ToArray());
        await Show("big", string.Format(p, 8), new byte[1024*1024+1]);
        var req = new HttpRequestMessage(HttpMethod.Post, "/submit/telemetry/" + string.Format(p, 9)) { Content = new StreamContent(new MemoryStream(new byte[1100000])) };
        req.Headers.TransferEncodingChunked = true;
        var rr = await silo.Http.SendAsync(req);
        output.WriteLine("chunked " + (int)rr.StatusCode + " " + await rr.Content.ReadAsStringAsync());
        await Show("longpath", string.Format(p, new string('y', 11000)), json);
        await Show("emptyseg", "a//c/d/e/f", json);
        var padded = new byte[1024*1024]; Array.Fill(padded, (byte)' '); json.CopyTo(padded, 0);
        await Show("exact1MiB", string.Format(p, 10), padded);
        var m = await silo.Http.GetStringAsync("/metrics");
        foreach (var line in m.Split('\n').Where(l => l.Contains("telemetry"))) output.WriteLine(line);
    }
}
