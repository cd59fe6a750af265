namespace Telemetry.Portal.Cluster;

/// <summary>Which cluster the portal joins, for the startup banner and the connection state shown on pages.</summary>
public sealed record ClusterDescription(string Clustering, string ClusterId, string ServiceId);
