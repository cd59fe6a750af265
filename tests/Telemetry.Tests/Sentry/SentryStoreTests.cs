using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using Telemetry.Grains.Sentry;
using Telemetry.Silo.Storage;
using Telemetry.Tests.Infrastructure;
using static Telemetry.Tests.Sentry.SentryIssueTests;

namespace Telemetry.Tests.Sentry;

/// <summary>
/// The Sentry stores, memory and PostgreSQL alike: an issue comes back as it was saved (days, sketches,
/// header), lists rank by events, change markers name every save once, dead letters keep body and reason.
/// </summary>
[Collection("postgres")]
public sealed class SentryStoreTests(PostgresFixture fixture)
{
    private static readonly Serializer Serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = SentryIssue.Today(Now);

    private async Task<ISentryStore> OpenAsync(bool postgres)
    {
        if (!postgres)
        {
            return new MemorySentryStore(Serializer);
        }
        var cs = await fixture.Server.CreateDatabaseAsync();
        await SchemaMigrator.MigrateAsync(cs, NullLogger.Instance);
        return new PostgresSentryStore(cs, Serializer);
    }

    private static async Task SaveAsync(ISentryStore store, string fingerprint, int events, int daysBack = 0, int users = 0, string project = "default")
    {
        var issue = SentryIssue.FromStored(await store.LoadAsync(project, fingerprint, default), project, fingerprint, 1000, 91);
        int start = issue.Header.RecentIds.Count;
        for (int i = 0; i < events; i++)
        {
            issue.Record(Event($"{fingerprint}-{start + i}", Now.AddDays(-daysBack), user: users > 0 ? $"u{i % users}" : null, fingerprint: fingerprint, project: project), Now);
        }
        await store.SaveAsync(issue.Header, issue.DirtyDays, issue.DroppedDays, default);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_issue_comes_back_as_saved_with_its_days_and_sketches(bool postgres)
    {
        var store = await OpenAsync(postgres);
        await SaveAsync(store, "a:b", 1500, users: 1200);   // beyond the exact limit: sketches
        await SaveAsync(store, "a:b", 3, daysBack: 1, users: 2);
        var stored = await store.LoadAsync("default", "a:b", default);
        Assert.NotNull(stored);
        var issue = new SentryIssue(stored.Header, stored.Days, 1000, 91);
        Assert.InRange(issue.EventsBetween(Today, Today), 1470, 1530);
        Assert.InRange(issue.UsersBetween(Today, Today), 1176, 1224);
        Assert.Equal(3, issue.EventsBetween(Today.AddDays(-1), Today.AddDays(-1)));
        Assert.Equal("TypeError: x is undefined", issue.Header.Message);
        // The last ids are kept: a redelivery after a reload is still recognised.
        Assert.False(issue.Record(Event("a:b-1502", Now.AddDays(-1), fingerprint: "a:b"), Now));
        Assert.Null(await store.LoadAsync("default", "unknown", default));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Issues_list_by_events_users_or_last_seen_within_the_range_and_project(bool postgres)
    {
        var store = await OpenAsync(postgres);
        await SaveAsync(store, "ten", 10, users: 1);
        await SaveAsync(store, "twenty", 20, users: 2);
        await SaveAsync(store, "five", 5, users: 5);
        await SaveAsync(store, "old", 50, daysBack: 10);
        await SaveAsync(store, "elsewhere", 99, project: "other");
        var byEvents = await store.ListAsync("default", Today.AddDays(-6), Today, SentrySorts.Events, 10, default);
        Assert.Equal([("twenty", 20L), ("ten", 10L), ("five", 5L)], byEvents.Select(r => (r.Fingerprint, r.Events)));
        var byUsers = await store.ListAsync("default", Today.AddDays(-6), Today, SentrySorts.Users, 2, default);
        Assert.Equal(["five", "twenty"], byUsers.Select(r => r.Fingerprint));
        var all = await store.ListAsync(null, Today.AddDays(-30), Today, SentrySorts.Events, 10, default);
        Assert.Equal(["elsewhere", "old", "twenty", "ten", "five"], all.Select(r => r.Fingerprint));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Change_markers_name_each_changed_issue_once_between_stable_markers(bool postgres)
    {
        var store = await OpenAsync(postgres);
        long m0 = await store.StableMarkerAsync(default);
        await SaveAsync(store, "a", 1);
        await SaveAsync(store, "b", 1);
        long m1 = await store.StableMarkerAsync(default);
        Assert.Equal(["a", "b"], (await store.ChangedAsync(m0, m1, 1000, default)).Select(c => c.Fingerprint));
        await SaveAsync(store, "a", 1);
        long m2 = await store.StableMarkerAsync(default);
        Assert.Equal(["a"], (await store.ChangedAsync(m1, m2, 1000, default)).Select(c => c.Fingerprint));
        Assert.Empty(await store.ChangedAsync(m2, m2, 1000, default));

        // Many saves at once: every one lands below the next stable marker.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => SaveAsync(store, $"c{i}", 1)));
        long m3 = await store.StableMarkerAsync(default);
        Assert.Equal(20, (await store.ChangedAsync(m2, m3, 1000, default)).Count);
        // A limited read takes the oldest changes first: the next read continues after the last one.
        var firstFive = await store.ChangedAsync(m2, m3, 5, default);
        Assert.Equal(15, (await store.ChangedAsync(firstFive[^1].Marker, m3, 1000, default)).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Dead_letters_keep_body_reason_and_source_newest_first_with_counts_by_reason(bool postgres)
    {
        var store = await OpenAsync(postgres);
        await store.AddDeadLetterAsync("sqs", "not_json", "{oops", Now, default);
        await store.AddDeadLetterAsync("http", "bad_fingerprints", "{\"fingerprints\":\"x\"}", Now.AddSeconds(1), default);
        await store.AddDeadLetterAsync("sqs", "not_json", "<xml/>", Now.AddSeconds(2), default);
        var letters = await store.ListDeadLettersAsync(2, default);
        Assert.Equal([("sqs", "not_json", "<xml/>"), ("http", "bad_fingerprints", "{\"fingerprints\":\"x\"}")], letters.Select(l => (l.Source, l.Reason, l.Body)));
        var counts = await store.DeadLetterCountsAsync(default);
        Assert.Equal(2, counts["not_json"]);
        Assert.Equal(1, counts["bad_fingerprints"]);
    }
}
