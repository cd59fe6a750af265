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
BENCH_NAME=telemetry-regbench KEEP_VAR=REGBENCH_KEEP SKIP_BUILD="${REGBENCH_SKIP_BUILD:-0}"
# shellcheck source=lib/bench-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/bench-common.sh"
PARTS="${REGBENCH_PARTS:-ab}"

if [[ "$PARTS" == *a* ]]; then
  read -r PG_PORT HTTP_PORT SILO_PORT GW_PORT SMTP_PORT WEB_PORT <<<"$(bench free-ports 6)"
  start_postgres "$PG_PORT"
  start_maildev "$SMTP_PORT" "$WEB_PORT"
  start_silo "$HTTP_PORT" "$SILO_PORT" "$GW_PORT" \
    --ConnectionStrings:Telemetry="$CS" \
    --Admin:Tokens:0=bench-admin-token --Logging:LogLevel:Default=Warning \
    --Notifications:Mode=smtp --Smtp:Host=127.0.0.1 --Smtp:Port="$SMTP_PORT" --Smtp:StartTls=none \
    --Smtp:From="Telemetry alerts <alerts@bench.example.org>" \
    --Regressions:Detectors:0=default --Regressions:CheckPeriod="${REGBENCH_CHECK:-00:00:05}" \
    --Regressions:ReadyPings="${REGBENCH_PINGS:-200}"
  log "silo ready (pid $SILO_PID); CheckPeriod ${REGBENCH_CHECK:-00:00:05}, Notifications:PollInterval default"
  bench regressions latency --silo "http://127.0.0.1:$HTTP_PORT" --maildev "http://127.0.0.1:$WEB_PORT" \
    --runs "${REGBENCH_RUNS:-5}" --pings "${REGBENCH_PINGS:-200}"
  echo
  report_silo_errors
  stop_pid "$SILO_PID"; SILO_PID=""
fi

if [[ "$PARTS" == *b* ]]; then
  # shellcheck disable=SC2086
  bench regressions cost ${REGBENCH_COST_ARGS:-}
fi
