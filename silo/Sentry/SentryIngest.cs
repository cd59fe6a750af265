using System.Collections.Immutable;
using System.Text;
using Telemetry.Contracts.Sentry;
using Telemetry.Grains.Sentry;

namespace Telemetry.Silo.Sentry;

/// <summary>What became of one message.</summary>
/// <param name="Recorded">True: a new event; false: its id was already recorded for the issue (or the message was dead-lettered).</param>
/// <param name="Reason">Set when the message was not an event: the dead-letter reason.</param>
public sealed record SentryIngestOutcome(bool Recorded, string? Reason, string? Detail)
{
    public bool DeadLettered => Reason is not null;
}

/// <summary>
/// The one way Sentry messages come in, from the SQS consumers and the webhook alike (docs/sentry.md, "Input"):
/// each message is parsed; a bad one is kept in the dead-letter store with its reason; good ones are recorded
/// by their issue grains, one call per issue. When this returns, every message's outcome is durable, so the
/// caller may delete them; when it throws, nothing may be deleted (a redelivery is recognised).
/// </summary>
public sealed class SentryIngest(IGrainFactory grains, ISentryStore store, SentryMetrics metrics, TimeProvider clock)
{
    /// <summary>Bodies kept in the dead-letter store are cut to this many characters.</summary>
    public const int MaxDeadLetterChars = 64 * 1024;

    public async Task<IReadOnlyList<SentryIngestOutcome>> AcceptAsync(IReadOnlyList<ReadOnlyMemory<byte>> bodies, string source, CancellationToken ct)
    {
        var outcomes = new SentryIngestOutcome[bodies.Count];
        var byIssue = new Dictionary<string, List<(int Index, SentryEvent Event)>>(StringComparer.Ordinal);
        for (int i = 0; i < bodies.Count; i++)
        {
            var parsed = SentryEventParser.Parse(bodies[i]);
            if (parsed.Event is not { } e)
            {
                await store.AddDeadLetterAsync(source, parsed.Reason!, DeadLetterText(bodies[i].Span), clock.GetUtcNow(), ct);
                metrics.DeadLetter(parsed.Reason!, source);
                outcomes[i] = new SentryIngestOutcome(false, parsed.Reason, parsed.Detail);
                continue;
            }
            string key = SentryIssueKey.Format(e.Project, e.Fingerprint);
            if (!byIssue.TryGetValue(key, out var list))
            {
                byIssue[key] = list = [];
            }
            list.Add((i, e));
        }
        await Task.WhenAll(byIssue.Select(async kv =>
        {
            var recorded = await grains.GetGrain<ISentryIssueGrain>(kv.Key).Record([.. kv.Value.Select(x => x.Event)]);
            for (int j = 0; j < kv.Value.Count; j++)
            {
                outcomes[kv.Value[j].Index] = new SentryIngestOutcome(recorded[j], null, null);
                metrics.Event(recorded[j], source);
            }
        }));
        return outcomes;
    }

    /// <summary>Keeps a message that parsed but could not be recorded (reason <c>record_failed</c>).</summary>
    public async Task DeadLetterAsync(ReadOnlyMemory<byte> body, string source, string reason, CancellationToken ct)
    {
        await store.AddDeadLetterAsync(source, reason, DeadLetterText(body.Span), clock.GetUtcNow(), ct);
        metrics.DeadLetter(reason, source);
    }

    private static string DeadLetterText(ReadOnlySpan<byte> body)
    {
        string text = SentryEventParser.Clean(Encoding.UTF8.GetString(body))!;
        return text.Length <= MaxDeadLetterChars ? text : text[..MaxDeadLetterChars];
    }
}
