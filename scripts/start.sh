#!/usr/bin/env bash
# Starts the whole system on the embedded default: one silo (ingest, aggregates API, Orleans
# dashboard) and the portal, then prints their URLs and the tokens of this run. Ctrl-C stops both.
#
# Set ConnectionStrings__Telemetry to run against PostgreSQL instead. Arguments are passed to the
# silo (e.g. scripts/start.sh --Ingest:Partitions=4). Environment knobs:
#   SILO_URL / PORTAL_URL        HTTP addresses   (http://127.0.0.1:8080 / http://127.0.0.1:5080)
#   SILO_PORT / GATEWAY_PORT     Orleans ports    (11111 / 30000)
#   RUN_DIR                      logs and the tokens file (.run)
#   Admin__Tokens__0             admin token      (default: a random one for this run)
#   Aggregates__ReadTokens__0    read token for restricted channels (default: a random one)
set -euo pipefail
cd "$(dirname "$0")/.."
SILO_URL="${SILO_URL:-http://127.0.0.1:8080}"
PORTAL_URL="${PORTAL_URL:-http://127.0.0.1:5080}"
RUN_DIR="${RUN_DIR:-.run}"
mkdir -p "$RUN_DIR"

for url in "$SILO_URL" "$PORTAL_URL"; do
  if curl -s -o /dev/null --max-time 2 "$url/"; then
    echo "Something already answers at $url: stop it first (or set SILO_URL / PORTAL_URL)." >&2
    exit 1
  fi
done

dotnet build Telemetry.Orleans.sln -c Release -v quiet -nologo

# Tokens: the configured ones, or random ones for this run. Production defaults are unchanged (a
# silo started without Admin:Tokens prints a random admin token; "release" stays restricted): this
# script only chooses the tokens up front so that it can show them and write them for the shell.
random_token() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }
export Admin__Tokens__0="${Admin__Tokens__0:-$(random_token)}"
export Aggregates__ReadTokens__0="${Aggregates__ReadTokens__0:-$(random_token)}"
(umask 077 && printf 'ADMIN_TOKEN=%s\nREAD_TOKEN=%s\n' "$Admin__Tokens__0" "$Aggregates__ReadTokens__0" > "$RUN_DIR/tokens")

orleans_args=()
[ -n "${SILO_PORT:-}" ] && orleans_args+=("--Orleans:SiloPort=$SILO_PORT")
[ -n "${GATEWAY_PORT:-}" ] && orleans_args+=("--Orleans:GatewayPort=$GATEWAY_PORT")

pids=()
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ROOT="$(pwd)"
case "$RUN_DIR" in /*) LOG_DIR="$RUN_DIR" ;; *) LOG_DIR="$ROOT/$RUN_DIR" ;; esac
# The silo's console goes to this terminal and to its log; $! is the silo itself, so Ctrl-C stops it.
(cd silo/bin/Release/net10.0 && exec dotnet Telemetry.Silo.dll --urls "$SILO_URL" --Portal:BaseUrl="$PORTAL_URL" "${orleans_args[@]}" "$@") \
  > >(tee "$LOG_DIR/silo.log") 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fs "$SILO_URL/health/ready" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 1
done
curl -fs "$SILO_URL/health/ready" >/dev/null 2>&1 || { echo "silo did not become ready; see $RUN_DIR/silo.log" >&2; exit 1; }

(cd "$ROOT/portal" && exec dotnet bin/Release/net10.0/Telemetry.Portal.dll --urls "$PORTAL_URL" --Portal:Silo:Url="$SILO_URL" "${orleans_args[@]}") \
  > "$LOG_DIR/portal.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fs "$PORTAL_URL/" >/dev/null 2>&1 && break
  kill -0 "${pids[1]}" 2>/dev/null || break
  sleep 1
done
curl -fs "$PORTAL_URL/" >/dev/null 2>&1 || { echo "portal did not start; see $RUN_DIR/portal.log" >&2; exit 1; }

if [ -n "${ConnectionStrings__Telemetry:-}" ]; then
  mode="PostgreSQL mode"
else
  mode="embedded mode: nothing is persisted"
fi
cat <<TXT

Telemetry.Orleans is running ($mode).
  Submit pings       $SILO_URL/submit/telemetry/{docId}/{docType}/{app}/{version}/{channel}/{buildId}
  Aggregates API     $SILO_URL/aggregates_by/submission_date/channels/
  OpenAPI document   $SILO_URL/openapi/v1.json
  Metrics            $SILO_URL/metrics
  Orleans dashboard  $SILO_URL/dashboard/
  Portal             $PORTAL_URL/   (sign in at $PORTAL_URL/signin: the link is printed here)
  Admin token        $Admin__Tokens__0
  Read token         $Aggregates__ReadTokens__0   (restricted channels, e.g. release)
Both tokens are in $RUN_DIR/tokens: '. $RUN_DIR/tokens' sets ADMIN_TOKEN and READ_TOKEN in a shell.
Logs: $RUN_DIR/silo.log, $RUN_DIR/portal.log. Press Ctrl-C to stop.
TXT
# Returns when either process ends; the trap then stops the other.
wait -n "${pids[@]}"
