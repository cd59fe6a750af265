using System.Diagnostics;

namespace Telemetry.Tests.Infrastructure;

/// <summary>How tests start the real portal (its built dll, the configuration the tests were built in) against a test silo.</summary>
public static class PortalProcess
{
    /// <summary>
    /// The portal on <paramref name="url"/>, joined to <paramref name="silo"/>'s cluster through its gateway and
    /// calling its HTTP API; output redirected (the caller reads it); <paramref name="extraArgs"/> appended.
    /// </summary>
    public static ProcessStartInfo StartInfo(string url, SiloHost silo, params string[] extraArgs)
    {
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        string dir = Path.Combine(TestPaths.RepoRoot, "portal");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[]
        {
            Path.Combine(dir, "bin", configuration, "net10.0", "Telemetry.Portal.dll"),
            "--urls", url,
            $"--Orleans:GatewayPort={silo.GatewayPort}",
            $"--Orleans:ClusterId={silo.ClusterId}",
            $"--Portal:Silo:Url={silo.BaseUrl}",
        }.Concat(extraArgs))
        {
            psi.ArgumentList.Add(a);
        }
        return psi;
    }
}
