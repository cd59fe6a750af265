#!/usr/bin/env bash
# Sentry benchmark (results: docs/benchmarks.md, "Sentry errors"): prints two markdown tables.
#
#   (a) throughput: SENTRYBENCH_EVENTS events over SENTRYBENCH_ISSUES issues are queued in fauxqs (the SQS
#       emulator) first; then a silo in PostgreSQL mode starts consuming and `Telemetry.Bench sentry drain`
#       measures events per second from SQS to recorded;
#   (b) delay: on the same silo at its defaults (Sentry:EvaluationMinutes=1, the outbox's poll), a person signs
#       in by link, subscribes to new issues, and `Telemetry.Bench sentry latency` times event sent → alert mail.
# Everything listens on and targets 127.0.0.1 only.
#
# Knobs (environment):
#   SENTRYBENCH_EVENTS=20000   events queued for (a)
#   SENTRYBENCH_ISSUES=500     issues they are spread over
#   SENTRYBENCH_RUNS=5         delay runs for (b)
#   SENTRYBENCH_CONSUMERS=1    Sentry:ConsumersPerSilo
#   SENTRYBENCH_KEEP=1         keep the temp dir (logs, PostgreSQL data)
#   SENTRYBENCH_SKIP_BUILD=1   do not build (use the existing Release outputs)
BENCH_NAME=telemetry-sentrybench KEEP_VAR=SENTRYBENCH_KEEP SKIP_BUILD="${SENTRYBENCH_SKIP_BUILD:-0}"
# shellcheck source=lib/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench-common.sh"

read -r PG_PORT HTTP_PORT SILO_PORT GW_PORT SMTP_PORT WEB_PORT SQS_PORT <<<"$(bench free-ports 7)"
start_postgres "$PG_PORT"
start_maildev "$SMTP_PORT" "$WEB_PORT"
start_fauxqs "$SQS_PORT"
QUEUE=sentry_errors
EVENTS="${SENTRYBENCH_EVENTS:-20000}"

bench sentry fill --sqs "http://127.0.0.1:$SQS_PORT" --queue "$QUEUE" --events "$EVENTS" --issues "${SENTRYBENCH_ISSUES:-500}"
start_silo "$HTTP_PORT" "$SILO_PORT" "$GW_PORT" \
  --ConnectionStrings:Telemetry="$CS" --Admin:Tokens:0=bench-admin-token --Logging:LogLevel:Default=Warning \
  --Notifications:Mode=smtp --Smtp:Host=127.0.0.1 --Smtp:Port="$SMTP_PORT" --Smtp:StartTls=none \
  --Smtp:From="Telemetry alerts <alerts@bench.example.org>" --Portal:BaseUrl=http://127.0.0.1:5080 \
  --Sentry:SqsServiceUrl="http://127.0.0.1:$SQS_PORT" --Sentry:QueueName="$QUEUE" --Sentry:Region=us-east-1 \
  --Sentry:ConsumersPerSilo="${SENTRYBENCH_CONSUMERS:-1}"
log "silo ready (pid $SILO_PID)"
bench sentry drain --silo "http://127.0.0.1:$HTTP_PORT" --events "$EVENTS"
echo
bench sentry latency --silo "http://127.0.0.1:$HTTP_PORT" --sqs "http://127.0.0.1:$SQS_PORT" --queue "$QUEUE" \
  --maildev "http://127.0.0.1:$WEB_PORT" --runs "${SENTRYBENCH_RUNS:-5}"
report_silo_errors
