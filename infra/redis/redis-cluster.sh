#!/usr/bin/env bash
# A throwaway Redis Cluster of three masters on loopback, from the machine's redis-server (7+,
# for cluster-port).
#
#   infra/redis/redis-cluster.sh up      start (or reuse) it; waits for cluster_state:ok on
#                                        every node; last stdout line:
#                                        REDIS_URL=redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,...
#   infra/redis/redis-cluster.sh down    stop the nodes this script started (and forget the cluster)
#   infra/redis/redis-cluster.sh status  "running ..." (exit 0), "degraded ..." or "stopped" (exit 1)
#
# No persistence (--save "" --appendonly no): a cluster is formed afresh on every `up` after a `down`
# (the nodes' cluster config files are deleted with the data they described). No replicas: three
# masters, 16384 slots shared by redis-cli --cluster create. Progress goes to stderr.
# Exit 3 = redis-server or redis-cli is not installed.
#
# Environment:
#   REDIS_CLUSTER_PORTS      comma-separated ports of the masters (default 17001,17002,17003)
#   REDIS_CLUSTER_BUS_PORTS  their cluster bus ports, node to node (default each port + 100,
#                            rather than Redis's + 10000, to stay in a small range)
#   REDIS_CLUSTER_STATE_DIR  pid files, logs, node configs (default <repo>/.cache/redis-cluster)
#   REDIS_CLUSTER_TIMEOUT    seconds to wait for the nodes and cluster_state:ok (default 30)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

IFS=', ' read -r -a WANTED_PORTS <<<"${REDIS_CLUSTER_PORTS:-17001,17002,17003}"
WANTED_BUS_PORTS=()
if [[ -n ${REDIS_CLUSTER_BUS_PORTS:-} ]]; then
  IFS=', ' read -r -a WANTED_BUS_PORTS <<<"$REDIS_CLUSTER_BUS_PORTS"
else
  for p in "${WANTED_PORTS[@]}"; do [[ $p =~ ^[0-9]+$ ]] && WANTED_BUS_PORTS+=($((p + 100))); done
fi
STATE_DIR=${REDIS_CLUSTER_STATE_DIR:-$REPO_ROOT/.cache/redis-cluster}
[[ $STATE_DIR == /* ]] || STATE_DIR="$PWD/$STATE_DIR" # the daemons run elsewhere
RUN_INFO="$STATE_DIR/cluster.env" # ports of the running cluster
START_TIMEOUT=${REDIS_CLUSTER_TIMEOUT:-30}
STOP_TIMEOUT=10

log() { printf 'redis-cluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

require_tools() {
  local tool
  for tool in redis-server redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      log "$tool is required to run the local Redis Cluster; install it (apt-get install redis-server redis-tools) or set REDIS_URL to use an existing one"
      exit 3
    fi
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

node_dir() { printf '%s/node-%s' "$STATE_DIR" "$1"; }
pid_file() { printf '%s/redis.pid' "$(node_dir "$1")"; }

read_pid() { [[ -f $(pid_file "$1") ]] && tr -dc '0-9' <"$(pid_file "$1")" || true; }

# The ports of the cluster this script started (recorded at `up`), or nothing.
recorded_ports() { [[ -f $RUN_INFO ]] && sed -n 's/^ports=//p' "$RUN_INFO" | head -n 1 | tr ',' ' ' || true; }

# Is the redis-server of <port>'s pid file alive and a cluster node on that port (i.e. ours)?
running_pid() { # port -> pid or nothing
  local port=$1 pid args
  pid=$(read_pid "$port")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  else
    args=$(ps -ww -p "$pid" -o args= 2>/dev/null) || return 0
  fi
  # redis-server rewrites its title to "redis-server 127.0.0.1:<port> [cluster]".
  [[ $args == *redis-server* && $args == *":$port"* ]] && printf '%s\n' "$pid"
  return 0
}

cli() { # port args...
  local port=$1
  shift
  redis-cli -h 127.0.0.1 -p "$port" "$@"
}

cluster_ok() { # port -> 0 if that node says cluster_state:ok
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'
}

known_nodes() { # port -> how many nodes it knows
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_known_nodes://p'
}

cluster_url() { # ports...
  local url='' p
  for p in "$@"; do url+="${url:+,}127.0.0.1:$p"; done
  printf 'redis+cluster://%s' "$url"
}

stop_nodes() { # ports...: SIGTERM, wait, SIGKILL; forget the cluster each node belonged to
  local port pid pids=()
  for port in "$@"; do
    pid=$(running_pid "$port")
    [[ -n $pid ]] && pids+=("$pid")
  done
  if ((${#pids[@]} > 0)); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT)) alive=1
    while ((alive && SECONDS < deadline)); do
      alive=0
      for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then alive=1; fi
      done
      if ((alive)); then sleep 0.2; fi
    done
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then
        log "redis-server (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done
  fi
  # Without its data a node's cluster config describes a cluster that no longer exists.
  for port in "$@"; do rm -f "$(pid_file "$port")" "$(node_dir "$port")/nodes.conf"; done
}

wait_until() { # description deadline command... -> 0, or dies after stopping the nodes
  local what=$1 deadline=$2
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "$what within ${START_TIMEOUT}s; stopping the nodes"
      stop_nodes "${PORTS[@]}"
      rm -f "$RUN_INFO"
      die "Redis Cluster did not start (logs: $STATE_DIR/node-*/redis.log)"
    fi
    sleep 0.2
  done
}

all_ok() {
  local p n
  for p in "${PORTS[@]}"; do
    cluster_ok "$p" || return 1
    n=$(known_nodes "$p")
    [[ $n == "${#PORTS[@]}" ]] || return 1
  done
}

all_answer() {
  local p
  for p in "${PORTS[@]}"; do [[ $(cli "$p" ping 2>/dev/null) == PONG ]] || return 1; done
}

cmd_up() {
  require_tools
  ((${#WANTED_PORTS[@]} >= 3)) || die "a Redis Cluster needs at least three masters; REDIS_CLUSTER_PORTS has ${#WANTED_PORTS[@]}"
  mkdir -p "$STATE_DIR"

  local recorded p pid
  recorded=$(recorded_ports)
  if [[ -n $recorded ]]; then
    read -r -a PORTS <<<"$recorded"
    local running=0
    for p in "${PORTS[@]}"; do if [[ -n $(running_pid "$p") ]]; then running=$((running + 1)); fi; done
    if ((running == ${#PORTS[@]})) && all_ok; then
      [[ "${PORTS[*]}" == "${WANTED_PORTS[*]}" ]] || log "note: reusing the running cluster on ports ${PORTS[*]} (REDIS_CLUSTER_PORTS ignored)"
      log "reusing the cluster started earlier"
      printf 'REDIS_URL=%s\n' "$(cluster_url "${PORTS[@]}")"
      return 0
    fi
    # Some nodes died (or never formed a cluster): without persistence the rest holds half the data. Start over.
    log "the cluster on ports ${PORTS[*]} is incomplete ($running of ${#PORTS[@]} nodes running); starting it afresh"
    stop_nodes "${PORTS[@]}"
    rm -f "$RUN_INFO"
  fi
  PORTS=("${WANTED_PORTS[@]}")

  for p in "${PORTS[@]}"; do
    [[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "'$p' in REDIS_CLUSTER_PORTS is not a port"
  done
  ((${#WANTED_BUS_PORTS[@]} == ${#PORTS[@]})) || die "REDIS_CLUSTER_BUS_PORTS has ${#WANTED_BUS_PORTS[@]} ports for ${#PORTS[@]} nodes"
  local i
  for i in "${!PORTS[@]}"; do
    p=${PORTS[i]}
    [[ ${WANTED_BUS_PORTS[i]} =~ ^[0-9]+$ ]] || die "'${WANTED_BUS_PORTS[i]}' in REDIS_CLUSTER_BUS_PORTS is not a port"
    if port_open "$p" || port_open "${WANTED_BUS_PORTS[i]}"; then
      die "port $p or its cluster bus port ${WANTED_BUS_PORTS[i]} on 127.0.0.1 is already in use by another process; stop it or set REDIS_CLUSTER_PORTS / REDIS_CLUSTER_BUS_PORTS"
    fi
  done

  printf 'ports=%s\n' "$(IFS=,; printf '%s' "${PORTS[*]}")" >"$RUN_INFO"
  log "starting ${#PORTS[@]} cluster nodes on 127.0.0.1:${PORTS[*]} (bus ${WANTED_BUS_PORTS[*]}; no persistence, dir $STATE_DIR)"
  for i in "${!PORTS[@]}"; do
    p=${PORTS[i]}
    local dir
    dir=$(node_dir "$p")
    mkdir -p "$dir"
    rm -f "$dir/nodes.conf"
    redis-server --port "$p" --bind 127.0.0.1 \
      --cluster-enabled yes --cluster-port "${WANTED_BUS_PORTS[i]}" --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --save "" --appendonly no \
      --daemonize yes --dir "$dir" --pidfile "$(pid_file "$p")" --logfile "$dir/redis.log" >&2 ||
      { stop_nodes "${PORTS[@]}"; rm -f "$RUN_INFO"; die "redis-server on port $p failed to start (log: $dir/redis.log)"; }
  done
  local deadline=$((SECONDS + START_TIMEOUT))
  wait_until "the nodes did not answer PING" "$deadline" all_answer

  local hosts=()
  for p in "${PORTS[@]}"; do hosts+=("127.0.0.1:$p"); done
  log "creating the cluster (redis-cli --cluster create ${hosts[*]} --cluster-replicas 0)"
  if ! redis-cli --cluster create "${hosts[@]}" --cluster-replicas 0 --cluster-yes >"$STATE_DIR/create.log" 2>&1; then
    tail -n 20 "$STATE_DIR/create.log" >&2 || true
    stop_nodes "${PORTS[@]}"
    rm -f "$RUN_INFO"
    die "redis-cli --cluster create failed (log: $STATE_DIR/create.log)"
  fi
  wait_until "the cluster did not reach cluster_state:ok on every node" "$deadline" all_ok
  for p in "${PORTS[@]}"; do
    pid=$(running_pid "$p")
    [[ -n $pid ]] || { stop_nodes "${PORTS[@]}"; rm -f "$RUN_INFO"; die "node on port $p answers but its pid file is missing or stale"; }
  done
  log "ready: ${#PORTS[@]} masters, cluster_state:ok"
  printf 'REDIS_URL=%s\n' "$(cluster_url "${PORTS[@]}")"
}

cmd_down() {
  local recorded
  recorded=$(recorded_ports)
  if [[ -z $recorded ]]; then
    log "stopped (no cluster started by this script)"
    return 0
  fi
  read -r -a PORTS <<<"$recorded"
  log "stopping the cluster nodes on ports ${PORTS[*]}"
  stop_nodes "${PORTS[@]}"
  rm -f "$RUN_INFO"
  log "stopped"
}

cmd_status() {
  local recorded p running=0
  recorded=$(recorded_ports)
  if [[ -z $recorded ]]; then
    printf 'stopped dir=%s\n' "$STATE_DIR"
    return 1
  fi
  read -r -a PORTS <<<"$recorded"
  for p in "${PORTS[@]}"; do if [[ -n $(running_pid "$p") ]]; then running=$((running + 1)); fi; done
  if ((running == ${#PORTS[@]})) && all_ok; then
    printf 'running REDIS_URL=%s dir=%s\n' "$(cluster_url "${PORTS[@]}")" "$STATE_DIR"
    return 0
  fi
  if ((running > 0)); then
    printf 'degraded %s of %s nodes running, cluster not ok dir=%s\n' "$running" "${#PORTS[@]}" "$STATE_DIR"
  else
    printf 'stopped dir=%s\n' "$STATE_DIR"
  fi
  return 1
}

PORTS=()
case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) usage ;;
esac
