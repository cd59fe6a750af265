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
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

WORK="$(mktemp -d /tmp/telemetry-bench.XXXXXX)"
PGDATA="$WORK/pg"
SILO_LOG="$WORK/silo.log"
SILO_PID=""
PG_BIN=""
PG_STARTED=""

as_pg() {
  # PostgreSQL refuses to run as root.
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

cleanup() {
  local rc=$?
  if [ -n "$SILO_PID" ] && kill -0 "$SILO_PID" 2>/dev/null; then
    kill "$SILO_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SILO_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SILO_PID" 2>/dev/null || true
  fi
  if [ -n "$PG_STARTED" ]; then
    as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  if [ "${BENCH_KEEP:-0}" = "1" ] || [ $rc -ne 0 ]; then
    log "kept $WORK (silo log: $SILO_LOG)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${BENCH_SKIP_BUILD:-0}" != "1" ]; then
  log "building Release"
  dotnet build -c Release silo/Telemetry.Silo.csproj -nologo -v q >&2
  dotnet build -c Release tools/Telemetry.Bench/Telemetry.Bench.csproj -nologo -v q >&2
fi
SILO_DLL="$ROOT/silo/bin/Release/net10.0/Telemetry.Silo.dll"
BENCH_DLL="$ROOT/tools/Telemetry.Bench/bin/Release/net10.0/Telemetry.Bench.dll"
bench() { dotnet "$BENCH_DLL" "$@"; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  echo "bench: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)" >&2
  exit 1
fi

read -r PG_PORT HTTP_PORT SILO_PORT GW_PORT <<<"$(bench free-ports 4)"

log "PostgreSQL $(basename "$(dirname "$PG_BIN")") on 127.0.0.1:$PG_PORT in $PGDATA"
mkdir -p "$PGDATA"
if [ "$(id -u)" = "0" ]; then chown postgres "$WORK" "$PGDATA"; chmod 755 "$WORK"; fi
as_pg "'$PG_BIN/initdb' -D '$PGDATA' -U postgres -A trust -E UTF8 --no-sync" >"$WORK/initdb.log" 2>&1
as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -l '$PGDATA/server.log' -w -t 60 start \
  -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PGDATA' -c max_connections=200 -c shared_buffers=256MB -c unix_socket_permissions=0700 -c shared_preload_libraries=pg_stat_statements ${BENCH_PG_OPTS:-}\"" >/dev/null
PG_STARTED=1
PG_PID="$(head -n 1 "$PGDATA/postmaster.pid")"

CS="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
log "silo on http://127.0.0.1:$HTTP_PORT (log $SILO_LOG)"
dotnet "$SILO_DLL" --urls "http://127.0.0.1:$HTTP_PORT" \
  --ConnectionStrings:Telemetry="$CS" \
  --Orleans:SiloPort="$SILO_PORT" --Orleans:GatewayPort="$GW_PORT" \
  --Bench:Endpoints=true --Admin:Tokens:0=bench-admin-token \
  --Aggregates:RestrictedChannels:0=none --Aggregates:ReadTokens:0=bench-read-token \
  --Logging:LogLevel:Default=Warning ${BENCH_SILO_ARGS:-} >"$SILO_LOG" 2>&1 &
SILO_PID=$!

if ! bench wait-ready "http://127.0.0.1:$HTTP_PORT" 120; then
  echo "bench: the silo did not become ready; last lines of its log:" >&2
  tail -n 40 "$SILO_LOG" >&2
  exit 1
fi
log "silo ready (pid $SILO_PID), postgres pid $PG_PID"

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
  --silo-pid "$SILO_PID" --pg-pid "$PG_PID" --read-token bench-read-token \
  --connections "${BENCH_CONNECTIONS:-64}" --seconds "${BENCH_SECONDS:-20}" --warmup "${BENCH_WARMUP:-3}" \
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
