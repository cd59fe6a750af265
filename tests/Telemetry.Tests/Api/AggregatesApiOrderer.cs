using Xunit.Abstractions;
using Xunit.Sdk;

namespace Telemetry.Tests.Api;

/// <summary>
/// Orders the aggregates API tests that share one silo: the tests that add pings first (so that the
/// partitions have time to checkpoint them), the read-only contract tests next, the restart and the test that may break the catalog last.
/// </summary>
public sealed class AggregatesApiOrderer : ITestCaseOrderer
{
    public const string TypeName = "Telemetry.Tests.Api.AggregatesApiOrderer";
    public const string AssemblyName = "Telemetry.Tests";

    private static readonly string[] First =
    [
        nameof(AggregatesApiTests.ETag_honours_If_None_Match_and_changes_when_a_ping_arrives),
        nameof(AggregatesApiTests.A_newly_accepted_ping_is_visible_within_10_seconds),
    ];

    private static readonly string[] Last =
    [
        nameof(AggregatesApiTests.Aggregates_survive_a_restart_on_the_same_database),
        nameof(AggregatesApiTests.A_ping_with_a_control_character_in_a_dimension_does_not_break_the_listings),
    ];

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases
            .OrderBy(tc => Priority(tc.TestMethod.Method.Name))
            .ThenBy(tc => tc.TestMethod.Method.Name, StringComparer.Ordinal)
            .ThenBy(tc => tc.DisplayName, StringComparer.Ordinal);

    private static int Priority(string method)
    {
        int first = Array.IndexOf(First, method);
        if (first >= 0)
        {
            return first;
        }
        int last = Array.IndexOf(Last, method);
        return last >= 0 ? 100 + last : 50;
    }
}
