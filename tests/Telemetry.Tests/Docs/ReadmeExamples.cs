using System.Text.RegularExpressions;

namespace Telemetry.Tests.Docs;

/// <summary>One shell block of the README and the output the README shows right after it (if any).</summary>
public sealed record ReadmeExample(string Shell, string? OutputLanguage, string? Output)
{
    /// <summary>Whether running the block twice changes nothing (no submission): it may be retried until its output shows.</summary>
    public bool IsRepeatable => !Shell.Contains("--data", StringComparison.Ordinal) && !Shell.Contains("-X POST", StringComparison.Ordinal);
}

/// <summary>Reads the fenced blocks of one README section: each <c>bash</c> block with the <c>text</c>/<c>json</c> block that follows it.</summary>
public static partial class ReadmeExamples
{
    public static string Section(string readme, string heading)
    {
        int start = readme.IndexOf("\n## " + heading + "\n", StringComparison.Ordinal);
        if (start < 0)
        {
            throw new InvalidOperationException($"the README has no section '## {heading}'");
        }
        int end = readme.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return end < 0 ? readme[start..] : readme[start..end];
    }

    public static IReadOnlyList<ReadmeExample> Parse(string section)
    {
        var fences = Fence().Matches(section).Select(m => (Language: m.Groups["lang"].Value, Body: m.Groups["body"].Value)).ToList();
        var examples = new List<ReadmeExample>();
        for (int i = 0; i < fences.Count; i++)
        {
            if (fences[i].Language != "bash")
            {
                continue;
            }
            bool hasOutput = i + 1 < fences.Count && fences[i + 1].Language is "text" or "json";
            examples.Add(new ReadmeExample(fences[i].Body, hasOutput ? fences[i + 1].Language : null, hasOutput ? fences[i + 1].Body : null));
        }
        return examples;
    }

    [GeneratedRegex(@"^```(?<lang>[a-z]*)\n(?<body>.*?)^```\s*$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fence();
}
