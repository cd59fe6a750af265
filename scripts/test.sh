#!/usr/bin/env bash
# Runs every test (unit, cluster, API against a private PostgreSQL, crash recovery, bUnit) and
# prints "N passed, N failed" as its last line.
set -uo pipefail
cd "$(dirname "$0")/.."
results=".artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
dotnet test Telemetry.Orleans.sln --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
passed=0; failed=0; total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); total=$((total + ${t:-0}))
done
if [ "$total" -eq 0 ]; then
  echo "no test results found (build failed?)"
  echo "0 passed, 1 failed"
  exit 1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the run failed for a reason the counters do not show (crash, timeout)
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
