#!/usr/bin/env bash
# Ingest benchmark (targets and results: docs/benchmarks.md): prints ONE markdown table.
#
# Builds Release, starts a private PostgreSQL (temp dir, free loopback port), starts the silo in
# PostgreSQL mode with the bench endpoints, then runs tools/Telemetry.Bench:
#   (a) POST /bench/discard/...   (b) POST /bench/tokenize/...   (c) POST /submit/telemetry/... end to end,
#   200-to-visible lag during (c), catch-up, aggregates API latency (1 and 30 dates), silo peak memory.
# Everything listens on and targets 127.0.0.1 only; every load phase is bounded in time and count.
#
# Knobs (environment):
#   BENCH_SECONDS=20          measured seconds per phase (and minimum for (c))
#   BENCH_WARMUP=3            warm-up seconds before each phase (not measured)
#   BENCH_STEADY_AFTER=60     (c) also reports its steady state, from this many seconds in to the end of the load
#   BENCH_CONNECTIONS=64      concurrent HTTP connections of the load generator
#   BENCH_PINGS=200000        (c) goes on until this many pings are stored (store for the API part)...
#   BENCH_MAX_LOAD=360        ...or this many seconds (whichever first)
#   BENCH_CATCHUP_TIMEOUT=180 seconds to wait for aggregation to catch up after (c)
#   BENCH_API_SECONDS=10      seconds of sequential queries per API latency measure
#   BENCH_MARKER_MS=1000      interval between lag marker pings during (c)
#   BENCH_PHASES=abcd         which load phases to run (d: unified main + crash pings, delay to crash_aggregates)
#   BENCH_OUT=file.md         also write the table there
#   BENCH_KEEP=1              keep the temp dir (PostgreSQL data, silo log)
#   BENCH_SKIP_BUILD=1        do not build (use the existing Release outputs)
#   BENCH_SILO_ARGS="..."     extra silo arguments for experiments (e.g. --Ingest:CheckpointSeconds=30)
#   BENCH_PG_OPTS="..."       extra PostgreSQL server options (e.g. "-c max_wal_size=8GB")
#   BENCH_BODY_STORE=filesystem  where bodies go: filesystem (a folder in the temp dir), s3 (fauxqs' S3 on
#                             loopback, objects as files in the temp dir; its CPU is reported apart) or database
BENCH_NAME=telemetry-bench KEEP_VAR=BENCH_KEEP SKIP_BUILD="${BENCH_SKIP_BUILD:-0}"
# shellcheck source=lib/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench-common.sh"

read -r PG_PORT HTTP_PORT SILO_PORT GW_PORT S3_PORT <<<"$(bench free-ports 5)"
BODY_STORE="${BENCH_BODY_STORE:-filesystem}"
case "$BODY_STORE" in
  filesystem) STORE_ARGS=(--Ingest:BodyStore:Kind=filesystem --Ingest:BodyStore:Path="$WORK/bodies") ;;
  s3)
    mkdir -p "$WORK/s3"
    FAUXQS_S3_DIR="$WORK/s3" start_fauxqs "$S3_PORT"
    STORE_ARGS=(--Ingest:BodyStore:Kind=s3 --Ingest:BodyStore:ServiceUrl="http://127.0.0.1:$S3_PORT" --Ingest:BodyStore:Bucket=bench-bodies) ;;
  database) STORE_ARGS=(--Ingest:BodyStore:Kind=database) ;;
  *) echo "bench: BENCH_BODY_STORE must be filesystem, s3 or database" >&2; exit 2 ;;
esac

start_postgres "$PG_PORT" -c shared_buffers=256MB -c shared_preload_libraries=pg_stat_statements ${BENCH_PG_OPTS:-}
PG_PID="$(head -n 1 "$PGDATA/postmaster.pid")"
# shellcheck disable=SC2086
start_silo "$HTTP_PORT" "$SILO_PORT" "$GW_PORT" \
  --ConnectionStrings:Telemetry="$CS" \
  --Bench:Endpoints=true --Admin:Tokens:0=bench-admin-token \
  --Aggregates:RestrictedChannels:0=none --Aggregates:ReadTokens:0=bench-read-token \
  --Logging:LogLevel:Default=Warning "${STORE_ARGS[@]}" ${BENCH_SILO_ARGS:-}
log "silo ready (pid $SILO_PID), postgres pid $PG_PID, bodies: $BODY_STORE"

# Which code is measured (read-only git; BENCH_CODE_VERSION overrides, e.g. for an exported tree).
CODE="${BENCH_CODE_VERSION:-}"
if [ -z "$CODE" ]; then
  CODE="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ "$CODE" != "unknown" ] && [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain --untracked-files=no -- silo grains contracts 2>/dev/null)" ]; then
    CODE="$CODE+uncommitted"
  fi
fi

set +e
bench run --url "http://127.0.0.1:$HTTP_PORT" --pg "$CS" \
  --silo-pid "$SILO_PID" --pg-pid "$PG_PID" --store-pid "${FAUXQS_PID:-0}" --body-store "$BODY_STORE" --read-token bench-read-token \
  --connections "${BENCH_CONNECTIONS:-64}" --seconds "${BENCH_SECONDS:-20}" --warmup "${BENCH_WARMUP:-3}" \
  --steady-after "${BENCH_STEADY_AFTER:-60}" \
  --pings "${BENCH_PINGS:-200000}" --max-load-seconds "${BENCH_MAX_LOAD:-360}" \
  --catchup-timeout "${BENCH_CATCHUP_TIMEOUT:-180}" --api-seconds "${BENCH_API_SECONDS:-10}" \
  --marker-interval-ms "${BENCH_MARKER_MS:-1000}" --phases "$(tr -d d <<<"${BENCH_PHASES:-abcd}")" \
  --out "${BENCH_OUT:-}" --json "${BENCH_JSON:-}" --code "$CODE"
RC=$?
if [[ "${BENCH_PHASES:-abcd}" == *d* ]]; then
  # Crash aggregation (unified main + crash pings) and the delay to a row in crash_aggregates.
  bench crash --url "http://127.0.0.1:$HTTP_PORT" --pg "$CS" --seconds "${BENCH_SECONDS:-20}" \
    --connections "${BENCH_CONNECTIONS:-64}" --markers 5 | tee -a "${BENCH_OUT:-/dev/null}"
fi
set -e

if ! kill -0 "$SILO_PID" 2>/dev/null; then
  echo "bench: the silo exited during the run; last lines of its log:" >&2
  tail -n 60 "$SILO_LOG" >&2
  RC=1
fi
ERRORS="$(grep -cE '^(fail|crit):' "$SILO_LOG" || true)"
if [ "${ERRORS:-0}" != "0" ]; then
  echo "bench: the silo logged $ERRORS error(s); first ones:" >&2
  grep -A 6 -E '^(fail|crit):' "$SILO_LOG" | head -n 60 >&2
  cp "$SILO_LOG" "${TMPDIR:-/tmp}/telemetry-bench-silo-$(date +%Y%m%d-%H%M%S).log" 2>/dev/null || true
fi
exit $RC
