using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Telemetry.Grains.Alerts;
using Telemetry.Grains.Probes;

namespace Telemetry.Grains.Regressions;

/// <summary>What the probe definition adds to a regression alert: who owns the metric and what it measures.</summary>
/// <param name="Description">The definition's description; empty when the metric has no definition.</param>
/// <param name="Owners">The definition's <c>alert_emails</c>.</param>
/// <param name="Labels">Bucket labels of a categorical histogram; empty otherwise.</param>
public sealed record RegressionProbeInfo(string Description, ImmutableArray<string> Owners, ImmutableArray<string> Labels)
{
    public static readonly RegressionProbeInfo None = new("", ImmutableArray<string>.Empty, ImmutableArray<string>.Empty);

    public static RegressionProbeInfo From(HistogramDefinition? definition) => definition is null
        ? None
        : new RegressionProbeInfo(
            definition.Description,
            definition.AlertEmails.IsDefault ? ImmutableArray<string>.Empty : definition.AlertEmails,
            definition.Kind == HistogramKind.Categorical && !definition.Labels.IsDefault ? definition.Labels : ImmutableArray<string>.Empty);
}

/// <summary>
/// A finding as an alert of kind <c>regression</c> (docs/regressions.md, "The regression record"): its natural
/// key, the text of its mail and the details the API shows.
/// </summary>
public static class RegressionAlerts
{
    /// <summary><c>regression:{channel}:{metric}:{YYYYMMDD}:{detector}</c>: one record per (channel, metric, build date, detector).</summary>
    public static string Key(string channel, string metric, DateOnly buildDate, string detector) =>
        $"regression:{channel}:{metric}:{MetricSeries.FormatBuildDate(buildDate)}:{detector}";

    public static AlertDraft Draft(string channel, string metric, RegressionFinding finding, RegressionProbeInfo probe, bool notify)
    {
        string direction = finding.Direction.ToWireName();
        string buildDate = MetricSeries.FormatBuildDate(finding.BuildDate);
        string scoreKind = ScoreKind(finding.Detector);
        var referenceDates = finding.ReferenceDates.Select(MetricSeries.FormatBuildDate).ToArray();
        var details = new RegressionDetails
        {
            Direction = direction,
            Buckets = BucketLabels(finding.BucketLowerBounds, probe.Labels),
            Candidate = [.. finding.Candidate],
            Reference = [.. finding.Reference],
            ReferenceDates = referenceDates,
            Description = probe.Description,
            ConfirmedBy = MetricSeries.FormatBuildDate(finding.ConfirmedBy),
            SuspectFrom = MetricSeries.FormatBuildDate(finding.SuspectFrom),
            SuspectTo = MetricSeries.FormatBuildDate(finding.SuspectTo),
            PValue = finding.PValue,
            ScoreKind = scoreKind,
        };
        string title = string.Create(CultureInfo.InvariantCulture,
            $"Regression in {metric} on {channel}: {Moved(finding.Direction)} from build date {buildDate} ({finding.Detector}, score {finding.Score:0.000})");
        var summary = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"The distribution of {metric} in {channel} builds from {buildDate} on differs from the builds before.").Append('\n')
            .Append(SuspectLine(buildDate, MetricSeries.FormatBuildDate(finding.SuspectFrom), MetricSeries.FormatBuildDate(finding.SuspectTo))).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"Direction: {direction} ({Moved(finding.Direction)}).").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"Score: {finding.Score:0.000} ({scoreKind}, detector {finding.Detector}).").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"Compared with build dates: {string.Join(", ", referenceDates)}.").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"Confirmed by build date: {details.ConfirmedBy}.");
        if (probe.Description.Length > 0)
        {
            summary.Append('\n').Append(CultureInfo.InvariantCulture, $"About {metric}: {probe.Description}");
        }
        return new AlertDraft(
            Kind: AlertKinds.Regression,
            Key: Key(channel, metric, finding.BuildDate, finding.Detector),
            Title: title,
            Summary: summary.ToString(),
            Target: new AlertTarget(Channel: channel, Subject: metric, Detector: finding.Detector, OccurredOn: finding.BuildDate, Score: finding.Score),
            Owners: probe.Owners,
            DetailsJson: details.ToJson(),
            Notify: notify);
    }

    /// <summary>Which builds to look at: the most likely date, and the range that holds the change's start at 95 %.</summary>
    private static string SuspectLine(string buildDate, string from, string to) => from == to
        ? $"Suspect builds: those of build date {buildDate}."
        : $"Suspect builds: most likely those of build date {buildDate}; with 95 % probability the change began in a build dated {from} to {to}.";

    /// <summary>Lower bounds as numbers; a categorical histogram's labels as strings (the bucket index beyond the labels).</summary>
    public static JsonElement BucketLabels(ImmutableArray<long> lowerBounds, ImmutableArray<string> labels)
    {
        if (labels.IsDefaultOrEmpty)
        {
            return JsonSerializer.SerializeToElement(lowerBounds.ToArray());
        }
        var names = new string[lowerBounds.Length];
        for (int k = 0; k < names.Length; k++)
        {
            names[k] = k < labels.Length ? labels[k] : k.ToString(CultureInfo.InvariantCulture);
        }
        return JsonSerializer.SerializeToElement(names);
    }

    private static string ScoreKind(string detector) => detector switch
    {
        CerberusDetector.DetectorName => "Hellinger distance",
        DefaultDetector.DetectorName => "Kolmogorov-Smirnov distance",
        _ => "distance",
    };

    private static string Moved(RegressionDirection direction) => direction switch
    {
        RegressionDirection.Higher => "samples moved to higher buckets",
        RegressionDirection.Lower => "samples moved to lower buckets",
        _ => "the shape changed both ways",
    };
}
