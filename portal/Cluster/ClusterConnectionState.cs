using Orleans;

namespace Telemetry.Portal.Cluster;

public enum ClusterConnectionStatus
{
    /// <summary>No gateway has answered yet; the client keeps trying.</summary>
    Connecting,

    /// <summary>Connected to at least one gateway.</summary>
    Connected,

    /// <summary>Was connected, lost every gateway; Orleans reconnects on its own.</summary>
    ConnectionLost,

    /// <summary>The client failed for a reason retrying cannot fix; the portal must be restarted.</summary>
    Failed,
}

/// <summary>The portal's view of its cluster connection at one moment.</summary>
public sealed record ClusterConnectionSnapshot(
    ClusterConnectionStatus Status,
    int FailedAttempts,
    string? LastError,
    DateTimeOffset Since)
{
    /// <summary>One sentence for people, without exception details.</summary>
    public string Describe() => Status switch
    {
        ClusterConnectionStatus.Connecting when FailedAttempts == 0 => "Connecting to the Orleans cluster…",
        ClusterConnectionStatus.Connecting =>
            $"No silo gateway has answered yet ({FailedAttempts} attempt{(FailedAttempts == 1 ? "" : "s")}; last error: {LastError?.TrimEnd('.')}). Retrying.",
        ClusterConnectionStatus.Connected => "Connected to the Orleans cluster.",
        ClusterConnectionStatus.ConnectionLost => "The connection to the cluster was lost. Reconnecting.",
        ClusterConnectionStatus.Failed => $"The cluster client stopped: {LastError?.TrimEnd('.')}. Restart the portal.",
        _ => Status.ToString(),
    };
}

/// <summary>
/// Tracks whether the cluster client is connected: fed by <see cref="ClusterConnector"/>, the connection
/// retry filter, and Orleans' own gateway notifications. One per portal process (it describes this
/// process's connection, not cluster state).
/// </summary>
public sealed class ClusterConnectionState(TimeProvider time) : IClusterConnectionStatusObserver
{
    private readonly Lock _gate = new();
    private ClusterConnectionSnapshot _current = new(ClusterConnectionStatus.Connecting, 0, null, time.GetUtcNow());

    /// <summary>Raised after every change, on the thread that made it.</summary>
    public event Action<ClusterConnectionSnapshot>? Changed;

    public ClusterConnectionSnapshot Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Records a failed connection attempt and returns how many have failed in a row.</summary>
    public int RecordFailedAttempt(Exception exception)
    {
        var attempts = 0;
        Update(c =>
        {
            attempts = c.FailedAttempts + 1;
            return c with { FailedAttempts = attempts, LastError = FirstLine(exception.Message) };
        });
        return attempts;
    }

    public void MarkConnected() =>
        Update(c => new ClusterConnectionSnapshot(ClusterConnectionStatus.Connected, 0, null, time.GetUtcNow()));

    public void MarkFailed(Exception exception) =>
        Update(c => c with { Status = ClusterConnectionStatus.Failed, LastError = FirstLine(exception.Message), Since = time.GetUtcNow() });

    void IClusterConnectionStatusObserver.NotifyClusterConnectionLost() =>
        Update(c => c.Status == ClusterConnectionStatus.Connected
            ? c with { Status = ClusterConnectionStatus.ConnectionLost, Since = time.GetUtcNow() }
            : c);

    void IClusterConnectionStatusObserver.NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        Update(c => c.Status == ClusterConnectionStatus.ConnectionLost && currentNumberOfGateways > 0
            ? new ClusterConnectionSnapshot(ClusterConnectionStatus.Connected, 0, null, time.GetUtcNow())
            : c);

    private void Update(Func<ClusterConnectionSnapshot, ClusterConnectionSnapshot> change)
    {
        ClusterConnectionSnapshot next;
        lock (_gate)
        {
            var previous = _current;
            next = change(previous);
            if (next == previous)
            {
                return;
            }

            _current = next;
        }

        Changed?.Invoke(next);
    }

    private static string FirstLine(string message)
    {
        var line = message.AsSpan();
        var end = line.IndexOfAny('\r', '\n');
        if (end >= 0)
        {
            line = line[..end];
        }

        return line.Length > 200 ? string.Concat(line[..200], "…") : line.ToString();
    }
}
