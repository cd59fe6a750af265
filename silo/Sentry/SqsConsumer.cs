using Amazon;
using Amazon.Runtime;
using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Options;
using Telemetry.Grains.Sentry;

namespace Telemetry.Silo.Sentry;

/// <summary>
/// Consumes Sentry events from the SQS queue on this silo (docs/sentry.md, "SQS"): finds the queue or creates
/// it, then runs <see cref="SentryOptions.ConsumersPerSilo"/> long-polling loops, each receiving up to 10
/// messages at a time. A batch is deleted only after <see cref="SentryIngest"/> has made every outcome durable
/// (bad messages are then dead letters, good ones recorded), so a crash before the delete means a redelivery,
/// which the issue grains recognise. SQS failures back off exponentially (1 s doubling to a minute); a batch
/// already received is finished during shutdown.
/// </summary>
public sealed class SqsConsumer(
    IOptions<SentryOptions> options, SentryIngest ingest, SentryMetrics metrics, ILogger<SqsConsumer> log) : BackgroundService
{
    private readonly SentryOptions _options = options.Value;
    private readonly object _gate = new();
    private long _deleted, _kept;
    private int _failuresInARow;
    private string? _lastError;
    private DateTimeOffset? _lastErrorAt, _lastReceiveAt;

    /// <summary>The queue's URL once found or created; null before.</summary>
    public string? QueueUrl { get; private set; }

    /// <summary>What this silo's consumer is doing, for <c>GET /api/sentry/consumer</c> (docs/sentry.md, "SQS").</summary>
    public SqsConsumerStatus Status()
    {
        lock (_gate)
        {
            return new SqsConsumerStatus(_options.ConsumeSqs && _options.ConsumersPerSilo > 0, _options.QueueName, QueueUrl,
                _options.ConsumersPerSilo, _deleted, _kept, _failuresInARow, _lastError, _lastErrorAt, _lastReceiveAt);
        }
    }

    private void Succeeded()
    {
        lock (_gate)
        {
            _failuresInARow = 0;
            _lastReceiveAt = DateTimeOffset.UtcNow;
        }
    }

    private void Failed(string operation, string error)
    {
        metrics.SqsFailure(operation);
        lock (_gate)
        {
            _failuresInARow++;
            _lastError = $"{operation}: {error}";
            _lastErrorAt = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>Builds the client: the emulator endpoint when one is set, the region when one is set.</summary>
    public static AmazonSQSClient CreateClient(SentryOptions o)
    {
        var config = new AmazonSQSConfig
        {
            // The HTTP read must outlast the long poll, or every quiet receive would end as a timeout.
            Timeout = TimeSpan.FromSeconds(o.WaitSeconds + 15),
            // The receive loops back off themselves; the SDK's own retries (up to 20 s apart) would only hide an
            // outage from the failure metric and the log for a minute or more.
            MaxErrorRetry = 1,
        };
        if (!string.IsNullOrWhiteSpace(o.SqsServiceUrl))
        {
            config.ServiceURL = o.SqsServiceUrl;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(o.Region) ? "us-east-1" : o.Region;
        }
        else if (!string.IsNullOrWhiteSpace(o.Region))
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(o.Region);
        }
        // An emulator takes any credentials; without AWS ones in the environment, give it placeholders.
        bool emulator = !string.IsNullOrWhiteSpace(o.SqsServiceUrl);
        bool haveKeys = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID"));
        return emulator && !haveKeys
            ? new AmazonSQSClient(new BasicAWSCredentials("local", "local"), config)
            : new AmazonSQSClient(config);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.ConsumeSqs || _options.ConsumersPerSilo == 0)
        {
            return;
        }
        using var client = CreateClient(_options);
        while (!stoppingToken.IsCancellationRequested)
        {
            string? url = await FindQueueAsync(client, stoppingToken);
            if (url is null)
            {
                return;
            }
            QueueUrl = url;
            log.LogInformation("Consuming Sentry events from {Queue} with {Consumers} receive loop(s)", url, _options.ConsumersPerSilo);
            // The loops end when the silo stops, or when the queue was deleted under them: then it is found or created again.
            await Task.WhenAll(Enumerable.Range(0, _options.ConsumersPerSilo).Select(_ => ReceiveLoopAsync(client, url, stoppingToken)));
        }
    }

    /// <summary>The queue's URL, creating the queue when it does not exist; retried with backoff until found or stopped.</summary>
    private async Task<string?> FindQueueAsync(IAmazonSQS client, CancellationToken ct)
    {
        var backoff = new Backoff();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                try
                {
                    return (await client.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = _options.QueueName }, ct)).QueueUrl;
                }
                catch (QueueDoesNotExistException)
                {
                    var created = await client.CreateQueueAsync(new CreateQueueRequest { QueueName = _options.QueueName }, ct);
                    log.LogInformation("Created the SQS queue {Queue}", created.QueueUrl);
                    return created.QueueUrl;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return null;
            }
            catch (Exception e)
            {
                Failed("queue", e.Message);
                var wait = backoff.Next();
                log.LogWarning("Cannot find or create the SQS queue {Queue} ({Error}); trying again in {Wait}", _options.QueueName, e.Message, wait);
                if (!await DelayAsync(wait, ct))
                {
                    return null;
                }
            }
        }
        return null;
    }

    private async Task ReceiveLoopAsync(IAmazonSQS client, string url, CancellationToken ct)
    {
        var backoff = new Backoff();
        var request = new ReceiveMessageRequest
        {
            QueueUrl = url,
            MaxNumberOfMessages = 10,
            WaitTimeSeconds = _options.WaitSeconds,
            VisibilityTimeout = _options.VisibilityTimeoutSeconds,
            MessageSystemAttributeNames = ["ApproximateReceiveCount"],
        };
        while (!ct.IsCancellationRequested)
        {
            List<Message> messages;
            try
            {
                messages = (await client.ReceiveMessageAsync(request, ct)).Messages ?? [];
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (QueueDoesNotExistException e)
            {
                Failed("receive", e.Message);
                log.LogWarning("The SQS queue {Queue} no longer exists; finding or creating it again", url);
                await DelayAsync(backoff.Next(), ct);
                return;
            }
            catch (Exception e)
            {
                Failed("receive", e.Message);
                var wait = backoff.Next();
                log.LogWarning("SQS receive from {Queue} failed ({Error}); trying again in {Wait}", url, e.Message, wait);
                await DelayAsync(wait, ct);
                continue;
            }
            Succeeded();
            if (messages.Count == 0)
            {
                backoff.Reset();
                continue;
            }
            // Not the stopping token: a batch received is recorded and deleted even while the silo stops
            // (within the host's shutdown timeout), so a clean stop leaves nothing to redeliver.
            bool allDone = await HandleAsync(client, url, messages);
            if (allDone)
            {
                backoff.Reset();
            }
            else
            {
                await DelayAsync(backoff.Next(), ct);
            }
        }
    }

    /// <summary>Records one batch and deletes what is durable; true when every message was deleted.</summary>
    internal async Task<bool> HandleAsync(IAmazonSQS client, string url, IReadOnlyList<Message> messages)
    {
        var bodies = messages.Select(m => (ReadOnlyMemory<byte>)System.Text.Encoding.UTF8.GetBytes(m.Body ?? "")).ToArray();
        var done = new List<Message>(messages.Count);
        try
        {
            await ingest.AcceptAsync(bodies, "sqs", CancellationToken.None);
            done.AddRange(messages);
        }
        catch (Exception batchError)
        {
            Failed("record", batchError.Message);
            log.LogWarning(batchError, "Recording a batch of {Count} SQS messages failed; trying them one at a time", messages.Count);
            // One at a time, so that a message that cannot be recorded does not hold back the others.
            for (int i = 0; i < messages.Count; i++)
            {
                try
                {
                    await ingest.AcceptAsync([bodies[i]], "sqs", CancellationToken.None);
                    done.Add(messages[i]);
                }
                catch (Exception e) when (ReceiveCount(messages[i]) >= _options.MaxReceiveCount)
                {
                    if (await TryDeadLetterAsync(messages[i], bodies[i], e))
                    {
                        done.Add(messages[i]);
                    }
                }
                catch (Exception e)
                {
                    log.LogWarning("SQS message {Id} could not be recorded (delivery {Count} of at most {Max}): {Error}",
                        messages[i].MessageId, ReceiveCount(messages[i]), _options.MaxReceiveCount, e.Message);
                }
            }
        }
        int deleted = await DeleteAsync(client, url, done);
        metrics.SqsMessages(deleted, deleted: true);
        metrics.SqsMessages(messages.Count - deleted, deleted: false);
        lock (_gate)
        {
            _deleted += deleted;
            _kept += messages.Count - deleted;
        }
        return deleted == messages.Count;
    }

    private async Task<bool> TryDeadLetterAsync(Message message, ReadOnlyMemory<byte> body, Exception error)
    {
        try
        {
            await ingest.DeadLetterAsync(body, "sqs", SentryRejections.RecordFailed, CancellationToken.None);
            log.LogError(error, "SQS message {Id} could not be recorded in {Count} deliveries; kept as a dead letter", message.MessageId, ReceiveCount(message));
            return true;
        }
        catch (Exception e)
        {
            log.LogWarning("SQS message {Id} could not be kept as a dead letter either ({Error}); it stays in the queue", message.MessageId, e.Message);
            return false;
        }
    }

    /// <summary>Deletes in one batch call; returns how many SQS confirmed. What is not deleted comes back after the visibility timeout and is recognised.</summary>
    private async Task<int> DeleteAsync(IAmazonSQS client, string url, List<Message> done)
    {
        if (done.Count == 0)
        {
            return 0;
        }
        try
        {
            var response = await client.DeleteMessageBatchAsync(new DeleteMessageBatchRequest
            {
                QueueUrl = url,
                Entries = [.. done.Select((m, i) => new DeleteMessageBatchRequestEntry { Id = i.ToString(System.Globalization.CultureInfo.InvariantCulture), ReceiptHandle = m.ReceiptHandle })],
            }, CancellationToken.None);
            int failed = response.Failed?.Count ?? 0;
            if (failed > 0)
            {
                Failed("delete", response.Failed![0].Message);
                log.LogWarning("SQS refused to delete {Failed} of {Count} recorded messages ({Reason}); they will be redelivered and recognised",
                    failed, done.Count, response.Failed![0].Message);
            }
            return done.Count - failed;
        }
        catch (Exception e)
        {
            Failed("delete", e.Message);
            log.LogWarning("Deleting {Count} recorded SQS messages failed ({Error}); they will be redelivered and recognised", done.Count, e.Message);
            return 0;
        }
    }

    private static int ReceiveCount(Message m) =>
        m.Attributes is { } a && a.TryGetValue("ApproximateReceiveCount", out var v) && int.TryParse(v, out int n) ? n : 1;

    private static async Task<bool> DelayAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await Task.Delay(wait, ct);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>1 s, doubling to 60 s, with up to a fifth of random spread so that silos do not retry in step.</summary>
    private sealed class Backoff
    {
        private int _failures;

        public TimeSpan Next()
        {
            double seconds = Math.Min(60, Math.Pow(2, Math.Min(_failures++, 6)));
            return TimeSpan.FromSeconds(seconds * (1 + Random.Shared.NextDouble() * 0.2));
        }

        public void Reset() => _failures = 0;
    }
}

/// <summary>One silo's SQS consumer: counts since it started, and its last failure.</summary>
public sealed record SqsConsumerStatus(
    bool Enabled, string QueueName, string? QueueUrl, int Loops, long Deleted, long Kept,
    int FailuresInARow, string? LastError, DateTimeOffset? LastErrorAt, DateTimeOffset? LastReceiveAt);
