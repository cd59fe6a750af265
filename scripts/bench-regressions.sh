#!/usr/bin/env bash
# Regression detection benchmark (results: docs/benchmarks.md, "Regression alerts"): prints two markdown tables.
#
#   (a) latency: a private PostgreSQL, a private maildev and a silo in PostgreSQL mode sending mail over SMTP;
#       `Telemetry.Bench regressions latency` submits real pings and times last ping -> alert mail;
#   (b) cost:    `Telemetry.Bench regressions cost`, one detection run over 2,000 metrics x 60 build dates (in process).
# Everything listens on and targets 127.0.0.1 only.
#
# Knobs (environment):
#   REGBENCH_RUNS=5              latency runs (each: its own metric and 15 build dates)
#   REGBENCH_PINGS=200           pings per build date (also the silo's Regressions:ReadyPings)
#   REGBENCH_CHECK=00:00:05      the silo's Regressions:CheckPeriod
#   REGBENCH_PARTS=ab            which parts to run
#   REGBENCH_COST_ARGS="..."     extra arguments of the cost run (e.g. "--metrics 500")
#   REGBENCH_KEEP=1              keep the temp dir (PostgreSQL data, silo and maildev logs)
#   REGBENCH_SKIP_BUILD=1        do not build (use the existing Release outputs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

WORK="$(mktemp -d /tmp/telemetry-regbench.XXXXXX)"
PGDATA="$WORK/pg"
SILO_LOG="$WORK/silo.log"
SILO_PID=""
MAILDEV_PID=""
PG_BIN=""
PG_STARTED=""
PARTS="${REGBENCH_PARTS:-ab}"

as_pg() {
  # PostgreSQL refuses to run as root.
  if [ "$(id -u)" = "0" ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

stop_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

cleanup() {
  local rc=$?
  stop_pid "$SILO_PID"
  stop_pid "$MAILDEV_PID"
  if [ -n "$PG_STARTED" ]; then
    as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  if [ "${REGBENCH_KEEP:-0}" = "1" ] || [ $rc -ne 0 ]; then
    log "kept $WORK (silo log: $SILO_LOG)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${REGBENCH_SKIP_BUILD:-0}" != "1" ]; then
  log "building Release"
  dotnet build -c Release silo/Telemetry.Silo.csproj -nologo -v q >&2
  dotnet build -c Release tools/Telemetry.Bench/Telemetry.Bench.csproj -nologo -v q >&2
fi
SILO_DLL="$ROOT/silo/bin/Release/net10.0/Telemetry.Silo.dll"
BENCH_DLL="$ROOT/tools/Telemetry.Bench/bin/Release/net10.0/Telemetry.Bench.dll"
bench() { dotnet "$BENCH_DLL" "$@"; }

if [[ "$PARTS" == *a* ]]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "bench: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)" >&2
    exit 1
  fi
  MAILDEV="${MAILDEV_BIN:-$(command -v maildev || true)}"
  if [ -z "$MAILDEV" ]; then
    echo "bench: maildev not found (npm install -g maildev@3)" >&2
    exit 1
  fi
  read -r PG_PORT HTTP_PORT SILO_PORT GW_PORT SMTP_PORT WEB_PORT <<<"$(bench free-ports 6)"

  log "PostgreSQL on 127.0.0.1:$PG_PORT in $PGDATA"
  mkdir -p "$PGDATA"
  if [ "$(id -u)" = "0" ]; then chown postgres "$WORK" "$PGDATA"; chmod 755 "$WORK"; fi
  as_pg "'$PG_BIN/initdb' -D '$PGDATA' -U postgres -A trust -E UTF8 --no-sync" >"$WORK/initdb.log" 2>&1
  as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -l '$PGDATA/server.log' -w -t 60 start \
    -o \"-c listen_addresses=127.0.0.1 -p $PG_PORT -k '$PGDATA' -c max_connections=200 -c unix_socket_permissions=0700\"" >/dev/null
  PG_STARTED=1

  log "maildev: SMTP 127.0.0.1:$SMTP_PORT, web 127.0.0.1:$WEB_PORT"
  mkdir -p "$WORK/mail"
  "$MAILDEV" --ip 127.0.0.1 --web-ip 127.0.0.1 -s "$SMTP_PORT" -w "$WEB_PORT" --mail-directory "$WORK/mail" >"$WORK/maildev.log" 2>&1 &
  MAILDEV_PID=$!

  CS="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
  log "silo on http://127.0.0.1:$HTTP_PORT (log $SILO_LOG)"
  dotnet "$SILO_DLL" --urls "http://127.0.0.1:$HTTP_PORT" \
    --ConnectionStrings:Telemetry="$CS" \
    --Orleans:SiloPort="$SILO_PORT" --Orleans:GatewayPort="$GW_PORT" \
    --Admin:Tokens:0=bench-admin-token --Logging:LogLevel:Default=Warning \
    --Notifications:Mode=smtp --Smtp:Host=127.0.0.1 --Smtp:Port="$SMTP_PORT" --Smtp:StartTls=none \
    --Smtp:From="Telemetry alerts <alerts@bench.example.org>" \
    --Regressions:Detectors:0=default --Regressions:CheckPeriod="${REGBENCH_CHECK:-00:00:05}" \
    --Regressions:ReadyPings="${REGBENCH_PINGS:-200}" >"$SILO_LOG" 2>&1 &
  SILO_PID=$!
  if ! bench wait-ready "http://127.0.0.1:$HTTP_PORT" 120; then
    echo "bench: the silo did not become ready; last lines of its log:" >&2
    tail -n 40 "$SILO_LOG" >&2
    exit 1
  fi
  log "silo ready (pid $SILO_PID); CheckPeriod ${REGBENCH_CHECK:-00:00:05}, Notifications:PollInterval default"
  bench regressions latency --silo "http://127.0.0.1:$HTTP_PORT" --maildev "http://127.0.0.1:$WEB_PORT" \
    --runs "${REGBENCH_RUNS:-5}" --pings "${REGBENCH_PINGS:-200}"
  echo
  ERRORS="$(grep -cE '^(fail|crit):' "$SILO_LOG" || true)"
  if [ "${ERRORS:-0}" != "0" ]; then
    echo "bench: the silo logged $ERRORS error(s); first ones:" >&2
    grep -A 6 -E '^(fail|crit):' "$SILO_LOG" | head -n 40 >&2
  fi
  stop_pid "$SILO_PID"; SILO_PID=""
fi

if [[ "$PARTS" == *b* ]]; then
  # shellcheck disable=SC2086
  bench regressions cost ${REGBENCH_COST_ARGS:-}
fi
