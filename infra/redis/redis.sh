#!/usr/bin/env bash
# The project's own throwaway Redis, separate from any system Redis on 6379.
#
#   infra/redis/redis.sh up       start (or reuse) it; last stdout line:
#                                 REDIS_URL=redis://127.0.0.1:<port>
#   infra/redis/redis.sh down     stop the redis-server this script started
#   infra/redis/redis.sh status   "running ..." (exit 0) or "stopped" (exit 1)
#
# No persistence (--save "" --appendonly no); files live in <repo>/.cache/redis.
# Progress goes to stderr. Exit 3 = redis-server is not installed.
#
# Environment:
#   REDIS_PORT       port on 127.0.0.1 (default 16379)
#   REDIS_STATE_DIR  pid file, log, working dir (default <repo>/.cache/redis)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

PORT=${REDIS_PORT:-16379}
STATE_DIR=${REDIS_STATE_DIR:-$REPO_ROOT/.cache/redis}
[[ $STATE_DIR == /* ]] || STATE_DIR="$PWD/$STATE_DIR" # the JVM/daemon runs elsewhere
PID_FILE="$STATE_DIR/redis.pid"
LOG_FILE="$STATE_DIR/redis.log"
RUN_INFO="$STATE_DIR/redis.env" # port of the running server
START_TIMEOUT=20
STOP_TIMEOUT=10

log() { printf 'redis: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# PING over bash's /dev/tcp, so redis-cli is not needed. 0 if +PONG.
ping_port() {
  local reply=''
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || exit 1
    [[ $reply == +PONG* ]]
  ) 2>/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

read_pid() { [[ -f $PID_FILE ]] && tr -dc '0-9' <"$PID_FILE" || true; }

recorded_port() { [[ -f $RUN_INFO ]] && sed -n 's/^port=//p' "$RUN_INFO" | head -n 1 || true; }

# Is <pid> alive and a redis-server listening on <port> (i.e. the one we started)?
is_our_redis() {
  local pid=$1 port=$2 args
  [[ -n $pid && -n $port ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  else
    args=$(ps -ww -p "$pid" -o args= 2>/dev/null) || return 1
  fi
  # redis-server rewrites its title to "redis-server 127.0.0.1:<port>".
  [[ $args == *redis-server* && $args == *":$port"* ]]
}

running_pid() {
  local pid
  pid=$(read_pid)
  if is_our_redis "$pid" "$(recorded_port)"; then printf '%s\n' "$pid"; fi
}

cmd_up() {
  if ! command -v redis-server >/dev/null 2>&1; then
    log "redis-server is required to run the local Redis; install it (apt-get install redis-server) or set REDIS_URL to use an existing Redis"
    exit 3
  fi
  mkdir -p "$STATE_DIR"

  local pid rport
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    rport=$(recorded_port)
    [[ $rport == "$PORT" ]] || log "note: reusing the running redis-server on port $rport (REDIS_PORT=$PORT ignored)"
    ping_port "$rport" || die "our redis-server (pid $pid) on port $rport does not answer PING (log: $LOG_FILE)"
    log "reusing the redis-server started earlier (pid $pid)"
    printf 'REDIS_URL=redis://127.0.0.1:%s\n' "$rport"
    return 0
  fi
  rm -f "$PID_FILE"

  if port_open "$PORT"; then
    die "port $PORT on 127.0.0.1 is already in use by another process (not a redis-server started by this script); stop it or set REDIS_PORT"
  fi

  log "starting redis-server on 127.0.0.1:$PORT (no persistence, dir $STATE_DIR)"
  printf 'port=%s\n' "$PORT" >"$RUN_INFO"
  redis-server --port "$PORT" --bind 127.0.0.1 \
    --save "" --appendonly no \
    --daemonize yes --dir "$STATE_DIR" --pidfile "$PID_FILE" --logfile "$LOG_FILE" >&2 ||
    die "redis-server failed to start (log: $LOG_FILE)"

  local deadline=$((SECONDS + START_TIMEOUT))
  until ping_port "$PORT"; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$LOG_FILE" >&2 2>/dev/null || true
      die "redis-server did not answer PING on port $PORT within ${START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done
  # The pid file is written by the daemonized server; wait for it briefly.
  until [[ -n $(read_pid) ]] || ((SECONDS >= deadline)); do sleep 0.1; done
  pid=$(running_pid)
  [[ -n $pid ]] || die "redis-server answers on port $PORT but its pid file $PID_FILE is missing or stale"
  log "ready (pid $pid)"
  printf 'REDIS_URL=redis://127.0.0.1:%s\n' "$PORT"
}

cmd_down() {
  local pid
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    rm -f "$PID_FILE"
    log "stopped (no redis-server started by this script is running)"
    return 0
  fi
  log "stopping redis-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid port
  pid=$(running_pid)
  port=$(recorded_port)
  if [[ -n $pid ]] && ping_port "$port"; then
    printf 'running REDIS_URL=redis://127.0.0.1:%s pid=%s dir=%s\n' "$port" "$pid" "$STATE_DIR"
    return 0
  fi
  printf 'stopped dir=%s\n' "$STATE_DIR"
  return 1
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) usage ;;
esac
