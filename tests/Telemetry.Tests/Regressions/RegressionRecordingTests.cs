using System.Collections.Immutable;
using System.Text.Json;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Probes;
using Telemetry.Grains.Regressions;

using Telemetry.Tests.Alerts;

namespace Telemetry.Tests.Regressions;

/// <summary>
/// Findings become alerts once each (docs/regressions.md, "Publishing findings"), with the key, owners, text and
/// details the regression record needs.
/// </summary>
public sealed class RegressionRecordingTests
{
    private static readonly DateOnly BuildDate = new(2026, 3, 9);

    private static RegressionFinding Finding(string detector = "default", RegressionDirection direction = RegressionDirection.Higher) => new()
    {
        Detector = detector,
        BuildDate = BuildDate,
        ConfirmedBy = BuildDate.AddDays(1),
        Score = 0.23456,
        PValue = 1e-9,
        Direction = direction,
        BucketLowerBounds = [0, 1, 2, 5],
        Candidate = [0.1, 0.2, 0.3, 0.4],
        Reference = [0.4, 0.3, 0.2, 0.1],
        ReferenceDates = [BuildDate.AddDays(-3), BuildDate.AddDays(-2), BuildDate.AddDays(-1)],
    };

    private static readonly RegressionProbeInfo Owned = new("Time spent in GC", ["gc-owner@example.org", "js@example.org"], ImmutableArray<string>.Empty);

    [Fact]
    public void A_finding_becomes_a_regression_alert_keyed_by_channel_metric_build_date_and_detector()
    {
        var draft = RegressionAlerts.Draft("nightly", "GC_MS", Finding(), Owned, notify: true);

        Assert.Equal(AlertKinds.Regression, draft.Kind);
        Assert.Equal("regression:nightly:GC_MS:20260309:default", draft.Key);
        Assert.Equal(new AlertTarget("nightly", "GC_MS", "default", BuildDate, 0.23456), draft.Target);
        Assert.Equal(["gc-owner@example.org", "js@example.org"], draft.Owners);
        Assert.True(draft.Notify);
        Assert.Contains("GC_MS", draft.Title, StringComparison.Ordinal);
        Assert.Contains("20260309", draft.Title, StringComparison.Ordinal);
        Assert.Contains("0.235", draft.Summary, StringComparison.Ordinal);
        Assert.Contains("Time spent in GC", draft.Summary, StringComparison.Ordinal);

        var details = RegressionDetails.Parse(draft.DetailsJson)!;
        Assert.Equal("higher", details.Direction);
        Assert.Equal([0L, 1, 2, 5], details.Buckets.EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([0.1, 0.2, 0.3, 0.4], details.Candidate);
        Assert.Equal([0.4, 0.3, 0.2, 0.1], details.Reference);
        Assert.Equal(["20260306", "20260307", "20260308"], details.ReferenceDates);
        Assert.Equal("Time spent in GC", details.Description);
        Assert.Equal("20260310", details.ConfirmedBy);
        Assert.Equal(1e-9, details.PValue);
        using var raw = JsonDocument.Parse(draft.DetailsJson);
        Assert.True(raw.RootElement.TryGetProperty("reference_dates", out _), "details are snake_case");
        // Sure of its date: the one suspect is the build date, and the mail names it alone.
        Assert.Equal(("20260309", "20260309"), (details.SuspectFrom, details.SuspectTo));
        Assert.Contains("Suspect builds: those of build date 20260309.", draft.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void An_uncertain_date_sends_the_owner_to_every_suspect_build()
    {
        var finding = Finding() with { SuspectFrom = BuildDate.AddDays(-1), SuspectTo = BuildDate.AddDays(1) };

        var draft = RegressionAlerts.Draft("nightly", "GC_MS", finding, Owned, notify: true);

        // One record per most likely build date still; the range travels with it.
        Assert.Equal("regression:nightly:GC_MS:20260309:default", draft.Key);
        var details = RegressionDetails.Parse(draft.DetailsJson)!;
        Assert.Equal(("20260308", "20260310"), (details.SuspectFrom, details.SuspectTo));
        Assert.Contains("most likely those of build date 20260309; with 95 % probability the change began in a build dated 20260308 to 20260310",
            draft.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_categorical_histogram_shows_its_labels_and_a_metric_without_definition_has_no_owners()
    {
        var definition = new HistogramDefinition
        {
            Name = "TAB_KIND",
            Kind = HistogramKind.Categorical,
            Description = "which tab",
            Labels = ["pinned", "normal"],
            AlertEmails = ["tabs@example.org"],
        };
        var probe = RegressionProbeInfo.From(definition);
        var draft = RegressionAlerts.Draft("nightly", "TAB_KIND", Finding("cerberus", RegressionDirection.Changed), probe, notify: false);

        var details = RegressionDetails.Parse(draft.DetailsJson)!;
        Assert.Equal(["pinned", "normal", "2", "3"], details.Buckets.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("changed", details.Direction);
        Assert.False(draft.Notify);
        Assert.Equal(["tabs@example.org"], draft.Owners);

        Assert.Empty(RegressionProbeInfo.From(null).Owners);
        Assert.Equal("", RegressionProbeInfo.From(null).Description);
    }

    [Fact]
    public async Task A_finding_is_published_once_and_reported_as_new_only_the_first_time()
    {
        var store = new InMemoryAlertCore();
        var recorder = new RegressionRecorder(store, store);
        var known = new Dictionary<string, long>();
        var draft = RegressionAlerts.Draft("nightly", "GC_MS", Finding(), Owned, true);

        var first = await recorder.RecordAsync(draft.Key, () => draft, known, CancellationToken.None);
        var second = await recorder.RecordAsync(draft.Key, () => draft, known, CancellationToken.None);

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(first.AlertId, second.AlertId);
        Assert.Single(store.Published);
        Assert.Equal(1, store.Lookups); // the second time the series' own memory answered
    }

    [Fact]
    public async Task A_resolved_regression_seen_again_by_a_series_that_lost_its_memory_is_not_reopened()
    {
        var store = new InMemoryAlertCore();
        var draft = RegressionAlerts.Draft("nightly", "GC_MS", Finding(), Owned, true);
        await new RegressionRecorder(store, store).RecordAsync(draft.Key, () => draft, new Dictionary<string, long>(), CancellationToken.None);
        store.Resolve(draft.Key);

        var forgetful = new Dictionary<string, long>();
        var again = await new RegressionRecorder(store, store).RecordAsync(draft.Key, () => draft, forgetful, CancellationToken.None);

        Assert.False(again.Created);
        Assert.Single(store.Published);
        Assert.Equal(AlertState.Resolved, store.ByKey(draft.Key).State);
        Assert.Equal(again.AlertId, forgetful[draft.Key]);
    }

    [Fact]
    public async Task A_drift_found_again_while_its_first_alert_is_open_is_recorded_but_mailed_only_once()
    {
        var core = new InMemoryAlertCore();
        var recorder = new RegressionRecorder(core, core);
        async Task<PublishResult> RecordAt(int days, RegressionDirection direction = RegressionDirection.Higher)
        {
            var finding = Finding(direction: direction) with { BuildDate = BuildDate.AddDays(days) };
            var draft = RegressionAlerts.Draft("nightly", "GC_MS", finding, Owned, notify: true);
            await recorder.RecordAsync(draft.Key, () => draft, new Dictionary<string, long>(), CancellationToken.None);
            return new PublishResult(core.ByKey(draft.Key), true, false, 0);
        }
        int Mails() => core.Outbox.ListAsync(null, 100, null, default).GetAwaiter().GetResult().Rows.Count;

        var first = await RecordAt(0);
        Assert.Equal(2, Mails()); // both owners
        var again = await RecordAt(3);
        Assert.False(again.Alert.Notify);
        Assert.Contains($"continues alert {first.Alert.Id}", again.Alert.Summary, StringComparison.Ordinal);
        Assert.Equal(2, Mails());

        await RecordAt(4, RegressionDirection.Lower); // the other way: news
        Assert.Equal(4, Mails());
        await RecordAt(20); // beyond two weeks of the first: news
        Assert.Equal(6, Mails());

        core.Resolve(first.Alert.Id);
        core.Resolve(core.Alerts.Single(a => a.Target.OccurredOn == BuildDate.AddDays(20)).Id);
        await RecordAt(5); // nothing open in that direction any more
        Assert.Equal(8, Mails());
    }
}
