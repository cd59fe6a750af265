namespace Telemetry.Grains.Alerts;

/// <summary>
/// Name globs of subscriptions (<c>GC_*</c>): <c>*</c> matches any run of characters, <c>?</c> one
/// character, everything else itself, ignoring case (probe names are upper case by convention, people
/// type them either way).
/// </summary>
public static class Glob
{
    public const int MaxLength = 200;

    public static bool IsValid(string? pattern) =>
        !string.IsNullOrWhiteSpace(pattern) && pattern.Length <= MaxLength && !pattern.Any(char.IsControl) && pattern.Trim() == pattern;

    public static bool Matches(string pattern, string name)
    {
        // Iterative matching with backtracking to the last star: linear in practice, no regex.
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToUpperInvariant(pattern[p]) == char.ToUpperInvariant(name[n])))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }
        return p == pattern.Length;
    }
}
