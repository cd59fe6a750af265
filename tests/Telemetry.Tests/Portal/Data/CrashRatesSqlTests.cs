using System.Collections.Immutable;
using Npgsql;
using Telemetry.Portal.Components.Pages.CrashRates;
using Telemetry.Portal.Services;
using Telemetry.Tests.Infrastructure;

namespace Telemetry.Tests.Portal.Data;

[Collection("postgres")]
public sealed class CrashRatesSqlTests(PostgresFixture postgres)
{
    [Fact]
    public void Writes_the_rate_per_channel_and_version_by_activity_date_with_the_filters()
    {
        var request = new CrashRateRequest("2016-03-01", "2016-03-14", "activity", ["channel", "build_version"],
            ImmutableSortedDictionary<string, string>.Empty.Add("os_name", "Windows_NT").Add("channel", "nightly"));

        string sql = CrashRatesSql.Build(request, "main");

        Assert.Equal("""
            SELECT activity_date AS date,
                   dimensions->>'channel' AS channel,
                   dimensions->>'build_version' AS build_version,
                   sum((stats->>'usage_hours')::float) AS usage_hours,
                   sum((stats->>'main_crashes')::float) AS main_crashes,
                   1000 * sum((stats->>'main_crashes')::float) / nullif(sum((stats->>'usage_hours')::float), 0) AS main_crash_rate
            FROM crash_aggregates
            WHERE submission_date BETWEEN DATE '2016-03-01' AND DATE '2016-03-21'
              AND activity_date BETWEEN DATE '2016-03-01' AND DATE '2016-03-14'
              AND dimensions->>'channel' = 'nightly'
              AND dimensions->>'os_name' = 'Windows_NT'
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3;
            """.Replace("\r\n", "\n"), sql);
    }

    [Fact]
    public void By_submission_date_without_grouping_counts_content_crashes()
    {
        var request = new CrashRateRequest("2016-03-05", "2016-03-06", "submission", [], ImmutableSortedDictionary<string, string>.Empty);

        string sql = CrashRatesSql.Build(request, "content");

        Assert.StartsWith("SELECT submission_date AS date,\n       sum((stats->>'usage_hours')::float)", sql);
        Assert.Contains("AS content_crash_rate", sql);
        Assert.Contains("WHERE submission_date BETWEEN DATE '2016-03-05' AND DATE '2016-03-06'\nGROUP BY 1\nORDER BY 1;", sql);
        Assert.DoesNotContain("activity_date BETWEEN", sql);
    }

    [Theory]
    [InlineData("O'Brien", "'O''Brien'")]
    [InlineData("x'; DROP TABLE crash_aggregates; --", "'x''; DROP TABLE crash_aggregates; --'")]
    [InlineData(@"back\slash", @"'back\slash'")]
    public void Quotes_values_by_doubling_single_quotes(string value, string literal)
    {
        Assert.Equal(literal, CrashRatesSql.Literal(value));
    }

    [Fact]
    public void Refuses_what_cannot_be_written_safely()
    {
        var nul = new CrashRateRequest("2016-03-01", "2016-03-02", "activity", [], ImmutableSortedDictionary<string, string>.Empty.Add("country", "a\0b"));
        Assert.Throws<ArgumentException>(() => CrashRatesSql.Build(nul, "main"));
        var unknown = new CrashRateRequest("2016-03-01", "2016-03-02", "activity", ["channel; DROP TABLE x"], ImmutableSortedDictionary<string, string>.Empty);
        Assert.Throws<ArgumentException>(() => CrashRatesSql.Build(unknown, "main"));
        var badDate = new CrashRateRequest("2016-03-01' OR '1'='1", "2016-03-02", "activity", [], ImmutableSortedDictionary<string, string>.Empty);
        Assert.Throws<ArgumentException>(() => CrashRatesSql.Build(badDate, "main"));
    }

    [Fact]
    public async Task Runs_on_PostgreSQL_and_a_hostile_value_only_filters()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await Execute(connection, """
            CREATE TABLE crash_aggregates(submission_date date, activity_date date, dimensions jsonb, stats jsonb);
            INSERT INTO crash_aggregates VALUES
              ('2016-03-05', '2016-03-04', '{"channel":"nightly","build_version":"48.0a1","country":"O''Brien"}', '{"usage_hours":200,"main_crashes":3}'),
              ('2016-03-06', '2016-03-04', '{"channel":"nightly","build_version":"48.0a1","country":"O''Brien"}', '{"usage_hours":300,"main_crashes":2}'),
              ('2016-03-05', '2016-03-05', '{"channel":"nightly","build_version":"48.0a1","country":"DE"}', '{"usage_hours":1000,"main_crashes":1}'),
              ('2016-03-20', '2016-03-04', '{"channel":"nightly","build_version":"48.0a1","country":"O''Brien"}', '{"usage_hours":999,"main_crashes":999}');
            """);

        var request = new CrashRateRequest("2016-03-04", "2016-03-05", "activity", ["build_version"],
            ImmutableSortedDictionary<string, string>.Empty.Add("country", "O'Brien"));
        var rows = await Query(connection, CrashRatesSql.Build(request, "main"));

        // Activity date 2016-03-04 of O'Brien: submitted 03-05 and 03-06 (the 03-20 row was submitted more than 7 days later).
        var row = Assert.Single(rows);
        Assert.Equal(new DateOnly(2016, 3, 4), row[0] is DateOnly day ? day : DateOnly.FromDateTime((DateTime)row[0]));
        Assert.Equal("48.0a1", row[1]);
        Assert.Equal(500.0, row[2]);
        Assert.Equal(5.0, row[3]);
        Assert.Equal(1000 * 5.0 / 500, (double)row[4], 9);

        var hostile = request with { Filters = ImmutableSortedDictionary<string, string>.Empty.Add("country", "x'; DROP TABLE crash_aggregates; --") };
        Assert.Empty(await Query(connection, CrashRatesSql.Build(hostile, "main")));
        Assert.Equal(4L, (long)(await Query(connection, "SELECT count(*) FROM crash_aggregates"))[0][0]);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<object[]>> Query(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object[]>();
        while (await reader.ReadAsync())
        {
            var values = new object[reader.FieldCount];
            reader.GetValues(values);
            rows.Add(values);
        }
        return rows;
    }
}
