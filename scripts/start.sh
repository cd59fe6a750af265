#!/usr/bin/env bash
# Starts the whole system on the embedded default: one silo (ingest, aggregates API, Orleans
# dashboard) and the portal, then prints their URLs. Ctrl-C stops both.
# Set ConnectionStrings__Telemetry to run against PostgreSQL instead.
set -euo pipefail
cd "$(dirname "$0")/.."
SILO_URL="${SILO_URL:-http://127.0.0.1:8080}"
PORTAL_URL="${PORTAL_URL:-http://127.0.0.1:5080}"
mkdir -p .run
dotnet build Telemetry.Orleans.sln -c Release -v quiet -nologo

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

(cd silo/bin/Release/net10.0 && exec dotnet Telemetry.Silo.dll --urls "$SILO_URL") 2>&1 | tee .run/silo.log &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fs "$SILO_URL/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fs "$SILO_URL/health/ready" >/dev/null || { echo "silo did not become ready; see .run/silo.log"; exit 1; }

(cd portal && exec dotnet bin/Release/net10.0/Telemetry.Portal.dll --urls "$PORTAL_URL") > .run/portal.log 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do
  curl -fs "$PORTAL_URL/" >/dev/null 2>&1 && break
  sleep 1
done

cat <<TXT

Telemetry.Orleans is running (embedded mode: nothing is persisted).
  Submit pings       $SILO_URL/submit/telemetry/{docId}/{docType}/{app}/{version}/{channel}/{buildId}
  Aggregates API     $SILO_URL/aggregates_by/submission_date/channels/
  OpenAPI document   $SILO_URL/openapi/v1.json
  Metrics            $SILO_URL/metrics
  Orleans dashboard  $SILO_URL/dashboard/
  Portal             $PORTAL_URL/
  Admin token        printed above by the silo (or set Admin__Tokens__0)
Logs: .run/silo.log, .run/portal.log. Press Ctrl-C to stop.
TXT
wait
