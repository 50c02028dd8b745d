#!/usr/bin/env bash
# Proves kafkajs 2.2.4 works against the local broker:
#   infra/kafka/smoke.sh [--keep]
# Starts the broker with kafka.sh up (or uses $KAFKA_BROKERS if set), installs
# infra/kafka/smoke's own locked deps with npm ci and runs smoke.mjs.
# A broker that this script had to start is stopped again at the end unless
# --keep is given; a broker that was already running is left alone.
# Exit 0 only if every check passed.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_SH="$SCRIPT_DIR/kafka.sh"
keep=0
[[ ${1:-} == --keep ]] && keep=1

log() { printf 'smoke: %s\n' "$*" >&2; }

started_here=0
if [[ -n ${KAFKA_BROKERS:-} ]]; then
  log "using KAFKA_BROKERS=$KAFKA_BROKERS (not starting a broker)"
else
  if ! "$KAFKA_SH" status >/dev/null 2>&1; then
    started_here=1
  fi
  out=$("$KAFKA_SH" up)
  KAFKA_BROKERS=$(printf '%s\n' "$out" | tail -n 1 | sed -n 's/^KAFKA_BROKERS=//p')
  [[ -n $KAFKA_BROKERS ]] || { log "kafka.sh up printed no KAFKA_BROKERS line"; exit 1; }
  if ((started_here && !keep)); then
    trap '"$KAFKA_SH" down || true' EXIT
  fi
fi
export KAFKA_BROKERS

command -v npm >/dev/null 2>&1 || { log "Node.js 20+ and npm are required for the smoke test (apt-get install nodejs npm)"; exit 3; }
log "installing the smoke test's dependencies (npm ci)"
(cd "$SCRIPT_DIR/smoke" && npm ci --no-audit --no-fund --loglevel=error >&2)

log "running smoke.mjs against $KAFKA_BROKERS"
cd "$SCRIPT_DIR/smoke"
KAFKAJS_NO_PARTITIONER_WARNING=1 node smoke.mjs
