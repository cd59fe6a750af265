namespace Telemetry.Tests.Probes;

/// <summary>
/// Locates the reference data: <c>&lt;repo&gt;/../shared/data</c> (histograms/ and
/// buckets/ subfolders), else the flat copy in <c>&lt;repo&gt;/tests/Telemetry.Tests/TestData/shared</c>.
/// Files are read by path, so the test project needs no content items.
/// </summary>
internal static class ProbeTestData
{
    public static readonly string[] Revisions = ["8d3810543edc", "a55c55edf302", "ad0ae007aa9e"];

    private static readonly Lazy<string> RepoRootLazy = new(FindRepoRoot);

    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>The shared data folder, or null when shared/ is absent.</summary>
    public static string? SharedDataDirectory
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            return Directory.Exists(Path.Combine(dir, "histograms")) && Directory.Exists(Path.Combine(dir, "buckets"))
                ? dir
                : null;
        }
    }

    public static string FallbackDirectory => Path.Combine(RepoRoot, "tests", "Telemetry.Tests", "TestData", "shared");

    /// <summary>Full path of <c>Histograms.&lt;x&gt;.json</c> or <c>buckets.&lt;x&gt;.json</c>.</summary>
    public static string PathOf(string fileName)
    {
        var shared = SharedDataDirectory;
        if (shared is not null)
        {
            var sub = fileName.StartsWith("buckets.", StringComparison.Ordinal) ? "buckets" : "histograms";
            var candidate = Path.Combine(shared, sub, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return Path.Combine(FallbackDirectory, fileName);
    }

    /// <summary>Path in the repository's fallback copy (for checking that it matches shared/).</summary>
    public static string FallbackPathOf(string fileName) => Path.Combine(FallbackDirectory, fileName);

    public static byte[] ReadBytes(string fileName) => File.ReadAllBytes(PathOf(fileName));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Telemetry.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException(
            $"Could not find Telemetry.Orleans.sln above {AppContext.BaseDirectory}.");
    }
}

/// <summary>
/// Sequence equality. <c>Seq.Equal([..], immutableArray)</c> would bind to the
/// <c>ImmutableArray&lt;T&gt;</c> struct equality, which compares array references.
/// </summary>
internal static class Seq
{
    public static void Equal<T>(IEnumerable<T> expected, IEnumerable<T> actual) => Assert.Equal(expected, actual);
}
