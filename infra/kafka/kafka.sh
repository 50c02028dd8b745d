#!/usr/bin/env bash
# Local Kafka (KRaft, broker+controller in one JVM per node) without Docker:
# one node by default, or a small cluster (--brokers N).
#
#   infra/kafka/kafka.sh up       start (or reuse) the broker; last stdout line:
#                                 KAFKA_BROKERS=127.0.0.1:<port>
#   infra/kafka/kafka.sh down     stop the broker this script started
#   infra/kafka/kafka.sh status   "running ..." (exit 0) or "stopped" (exit 1)
#   infra/kafka/kafka.sh logs     follow the broker log (--no-follow: print tail)
#   infra/kafka/kafka.sh reset    down + delete the state dir (keeps the jars)
#   infra/kafka/kafka.sh up --sasl  the same broker, but its client listener is
#                                 SASL_PLAINTEXT with SCRAM-SHA-256/512 only;
#                                 stdout also carries the client credentials:
#                                 KAFKA_SASL_MECHANISM=, KAFKA_SASL_USERNAME=,
#                                 KAFKA_SASL_PASSWORD= (KAFKA_BROKERS= last)
#   infra/kafka/kafka.sh up --brokers 3  a KRaft cluster of 3 nodes (each
#                                 broker+controller, one JVM each), ready when
#                                 every node is; KAFKA_BROKERS= lists them all.
#                                 down/status/logs/reset act on every node.
#
# Jars come from Maven Central through infra/kafka/pom.xml, once, into
# <repo>/.cache/kafka/<version>/libs. Progress goes to stderr; stdout carries
# only results. Exit 3 = a prerequisite (java/mvn) is missing.
#
# Environment:
#   KAFKA_VERSION        Kafka release to run (default below; see docs/adr/0001)
#   KAFKA_PORT           client listener port      (default 19092)
#   KAFKA_CONTROLLER_PORT KRaft controller port    (default 19093)
#   KAFKA_STATE_DIR      config, data, pid, log    (default <repo>/.cache/kafka/run)
#   KAFKA_START_TIMEOUT  seconds to wait for "Kafka Server started" (default 90)
#   KAFKA_HEAP_OPTS      JVM heap flags            (default -Xms256m -Xmx768m)
#                        (per node with --brokers N)
#   KAFKA_PORTS          --brokers N: client ports of nodes 1..N, comma-separated
#                        (default KAFKA_PORT, KAFKA_PORT+2, KAFKA_PORT+4, ...)
#   KAFKA_CONTROLLER_PORTS  --brokers N: controller ports of nodes 1..N
#                        (default KAFKA_CONTROLLER_PORT, +2, +4, ...)
#
# This script never reads KAFKA_BROKERS: callers that already have a broker
# should set KAFKA_BROKERS themselves and skip `up`.
#
# SASL (--sasl): SCRAM credentials are bootstrapped into the metadata log when
# the storage is formatted (kafka-storage format --add-scram), for two users
# with random passwords kept in <state>/sasl.env (mode 600):
#   admin    the broker's own (inter-broker) principal; for operator tools
#   consult  the one principal every service, tool and test of this repository
#            shares on a local broker (one client per process in the tests)
# The KRaft controller listener stays PLAINTEXT on loopback. A state dir is
# SASL from its first `up --sasl` on: `up --sasl` refuses data formatted
# without the users, and neither `up` reuses a running broker of the other kind.
#
# A cluster (--brokers N, N >= 2) keeps each node in <state>/node-<id>/ (its
# server.properties, data, broker.pid, broker.log, broker.env) and the cluster's
# shape (ports, cluster id) in <state>/cluster.env; a single broker keeps those
# files in <state>/ itself, exactly as before. A state dir holds one or the
# other: `up` refuses a state dir of the other shape. Topics and internal
# topics default to replication factor min(N,3) and min.insync.replicas 2 from
# three nodes on (1 below). `up --brokers N` on a cluster with nodes down
# starts only those (on their recorded ports). SASL is single-broker only.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
PORT=${KAFKA_PORT:-19092}
CPORT=${KAFKA_CONTROLLER_PORT:-19093}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=30
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}

CACHE_DIR="$REPO_ROOT/.cache/kafka"
VERSION_DIR="$CACHE_DIR/$KAFKA_VERSION"
LIBS_DIR="$VERSION_DIR/libs"
LIBS_MARKER="$VERSION_DIR/.libs-complete"
STATE_DIR=${KAFKA_STATE_DIR:-$CACHE_DIR/run}
[[ $STATE_DIR == /* ]] || STATE_DIR="$PWD/$STATE_DIR" # the JVM/daemon runs elsewhere

# Files inside the state dir.
STATE_MARKER="$STATE_DIR/.kafka-sh-state"
SASL_ENV="$STATE_DIR/sasl.env"   # SCRAM users created when the storage was formatted
LOCK_DIR="$STATE_DIR/.lock"
CLUSTER_ENV="$STATE_DIR/cluster.env" # a cluster's shape: brokers, ports, cluster id

# One node's files: in the state dir itself for a single broker, in node-<id>/
# for a node of a cluster. The functions below act on the node selected here.
select_node_dir() { # dir
  PROPS="$1/server.properties"
  DATA_DIR="$1/data"
  PID_FILE="$1/broker.pid"
  LOG_FILE="$1/broker.log"
  RUN_INFO="$1/broker.env" # version/port of the running broker
}
select_node_dir "$STATE_DIR"

# The node's identity in its cluster (a single broker is node 1 of 1).
NODE_ID=1
BROKERS=1 # up --brokers N
VOTERS="1@127.0.0.1:$CPORT"
CLUSTER_ID='' # shared by every node of a cluster; a single broker draws its own

STARTED_RE='Kafka Server started'

log() { printf 'kafka: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

SASL=0 # up --sasl
# The listener's name is also its security protocol; the broker's own login is per mechanism.
SASL_LISTENER=SASL_PLAINTEXT
SASL_MECHANISMS=(SCRAM-SHA-256 SCRAM-SHA-512)
SASL_CLIENT_MECHANISM=scram-sha-256 # as KAFKA_SASL_MECHANISM spells it
SASL_ADMIN_USER=admin
SASL_CLIENT_USER=consult

# --- prerequisites ----------------------------------------------------------

java_major() {
  # `java -version` prints e.g. openjdk version "17.0.15" or "1.8.0_402".
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
  v=${v#1.}
  printf '%s\n' "${v%%[.+_-]*}"
}

require_java() {
  if ! command -v java >/dev/null 2>&1; then
    log "Java 17+ (java) is required to run the local Kafka broker; install a JDK (apt-get install openjdk-17-jre-headless) or set KAFKA_BROKERS to use an existing broker"
    exit 3
  fi
  local major
  major=$(java_major)
  if [[ ! $major =~ ^[0-9]+$ ]] || ((major < 17)); then
    log "Java 17+ is required to run the local Kafka broker but 'java' is version ${major:-unknown}; install a JDK 17+ (apt-get install openjdk-17-jre-headless) or set KAFKA_BROKERS to use an existing broker"
    exit 3
  fi
}

require_mvn() {
  if ! command -v mvn >/dev/null 2>&1; then
    log "Maven (mvn) is required once to download the Kafka $KAFKA_VERSION jars into $LIBS_DIR; install it (apt-get install maven) or set KAFKA_BROKERS to use an existing broker"
    exit 3
  fi
}

# --- small helpers ----------------------------------------------------------

port_open() { # port -> 0 if something accepts TCP connections on 127.0.0.1
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pom_sum() { cksum <"$SCRIPT_DIR/pom.xml" | awk '{print $1}'; }

read_pid() { [[ -f $PID_FILE ]] && tr -dc '0-9' <"$PID_FILE" || true; }

# Is <pid> alive and the broker that this script started with $PROPS?
is_our_broker() {
  local pid=$1 args
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r /proc/$pid/cmdline ]]; then
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  else
    args=$(ps -ww -p "$pid" -o args= 2>/dev/null) || return 1
  fi
  [[ $args == *kafka.Kafka* && $args == *"$PROPS"* ]]
}

running_pid() { # prints the pid of our live broker, or nothing
  local pid
  pid=$(read_pid)
  if is_our_broker "$pid"; then printf '%s\n' "$pid"; fi
}

run_info() { # key -> value recorded when the broker was started
  [[ -f $RUN_INFO ]] && sed -n "s/^$1=//p" "$RUN_INFO" | head -n 1 || true
}

started_in_log() { [[ -f $LOG_FILE ]] && grep -q "$STARTED_RE" "$LOG_FILE"; }

acquire_lock() {
  mkdir -p "$STATE_DIR"
  local waited=0 owner
  until mkdir "$LOCK_DIR" 2>/dev/null; do
    owner=$(cat "$LOCK_DIR/pid" 2>/dev/null || true)
    if [[ -n $owner ]] && ! kill -0 "$owner" 2>/dev/null; then
      rm -rf "$LOCK_DIR" # stale lock from a killed invocation
      continue
    fi
    ((waited++ < START_TIMEOUT + STOP_TIMEOUT)) || die "another kafka.sh (pid ${owner:-?}) holds $LOCK_DIR"
    sleep 1
  done
  echo $$ >"$LOCK_DIR/pid"
  trap 'rm -rf "$LOCK_DIR"' EXIT
}

# --- download ---------------------------------------------------------------

ensure_libs() {
  if [[ -f $LIBS_MARKER && $(cat "$LIBS_MARKER") == "$(pom_sum)" ]] &&
    compgen -G "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
    return 0
  fi
  require_mvn
  log "downloading Kafka $KAFKA_VERSION jars (once) into $LIBS_DIR"
  local tmp="$VERSION_DIR/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local mvn_log="$VERSION_DIR/mvn.log"
  if ! mvn -q -B -f "$SCRIPT_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$tmp" >"$mvn_log" 2>&1; then
    grep -E 'ERROR|FATAL' "$mvn_log" | head -n 20 >&2 || true
    rm -rf "$tmp"
    die "could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven (full output: $mvn_log)"
  fi
  [[ -f $tmp/kafka_2.13-$KAFKA_VERSION.jar ]] || { rm -rf "$tmp"; die "Maven did not produce kafka_2.13-$KAFKA_VERSION.jar"; }
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  pom_sum >"$LIBS_MARKER"
}

# --- configuration and storage ----------------------------------------------

sasl_value() { # key -> value in $SASL_ENV
  [[ -f $SASL_ENV ]] && sed -n "s/^$1=//p" "$SASL_ENV" | head -n 1 || true
}

# SCRAM users for a new state dir: random passwords (hex, so they need no
# quoting in JAAS or --add-scram), written before the storage is formatted.
ensure_sasl_users() {
  [[ -f $SASL_ENV ]] && return 0
  local tmp="$SASL_ENV.tmp.$$"
  (
    umask 077
    printf 'admin_username=%s\nadmin_password=%s\nclient_username=%s\nclient_password=%s\n' \
      "$SASL_ADMIN_USER" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
      "$SASL_CLIENT_USER" "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp"
  )
  mv "$tmp" "$SASL_ENV"
}

write_props() {
  local listeners
  if ((SASL)); then
    local user pass mech lname
    user=$(sasl_value admin_username)
    pass=$(sasl_value admin_password)
    lname=$(tr '[:upper:]' '[:lower:]' <<<"$SASL_LISTENER")
    listeners="listeners=$SASL_LISTENER://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=$SASL_LISTENER://127.0.0.1:$PORT
listener.security.protocol.map=$SASL_LISTENER:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=$SASL_LISTENER
controller.listener.names=CONTROLLER

# Clients must authenticate with SCRAM (users in the metadata log, see sasl.env).
sasl.enabled.mechanisms=$(IFS=,; printf '%s' "${SASL_MECHANISMS[*]}")
sasl.mechanism.inter.broker.protocol=${SASL_MECHANISMS[0]}"
    for mech in "${SASL_MECHANISMS[@]}"; do
      listeners+="
listener.name.$lname.$(tr '[:upper:]' '[:lower:]' <<<"$mech").sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$user\" password=\"$pass\";"
    done
  else
    listeners="listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER"
  fi
  # Replication: none on a single node; a cluster keeps three copies (or as many
  # as it has nodes) and acknowledges a write once two of them have it.
  local rf=$((BROKERS < 3 ? BROKERS : 3)) min_isr=$((BROKERS >= 3 ? 2 : 1)) replication
  if ((BROKERS == 1)); then
    replication="# Single node: internal topics cannot be replicated."
  else
    replication="# A cluster of $BROKERS nodes: internal topics have $rf replicas, $min_isr of them in sync."
  fi
  # The SASL properties hold the broker's own password.
  (
    ((SASL)) && umask 077
    cat >"$PROPS" <<EOF
# Generated by infra/kafka/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$VOTERS
$listeners
log.dirs=$DATA_DIR

# The project creates its topics explicitly, with their own configs.
auto.create.topics.enable=false
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$min_isr

$replication
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
# Fewer internal partitions than the default 50 keep the first group and the
# first transaction quick on a 2-core machine.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10

# Consumer groups rebalance immediately (tests join and leave often).
group.initial.rebalance.delay.ms=0

# A node restarted after a crash can register only once the controller has
# fenced its previous incarnation, a broker session later (9 s by default):
# shorter sessions bring a killed broker back to serving sooner.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
EOF
  )
  ((SASL)) && chmod 600 "$PROPS"
  return 0
}

# A base64url UUID, as Kafka's own random-uuid makes, never starting with '-' (kafka-storage would take the id
# for an option; Kafka's generator avoids such ids for the same reason).
new_cluster_id() {
  local id
  while id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n') && [[ $id == -* ]]; do :; done
  printf '%s' "$id"
}

format_storage() {
  if [[ -f $DATA_DIR/meta.properties ]]; then
    return 0
  fi
  local cluster_id=$CLUSTER_ID
  # Kafka cluster ids are 16 random bytes in URL-safe base64 without padding.
  [[ -n $cluster_id ]] || cluster_id=$(new_cluster_id)
  local scram=() mech user
  if ((SASL)); then
    # KRaft keeps SCRAM credentials in the metadata log; bootstrapping them here
    # means the broker can authenticate its own (inter-broker) login at once.
    for mech in "${SASL_MECHANISMS[@]}"; do
      for user in admin client; do
        scram+=(--add-scram "$mech=[name=$(sasl_value "${user}_username"),password=$(sasl_value "${user}_password")]")
      done
    done
  fi
  log "formatting storage in $DATA_DIR (cluster id $cluster_id${scram:+, SCRAM users $(sasl_value admin_username) and $(sasl_value client_username)})"
  java -cp "$LIBS_DIR/*" -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" ${scram[@]+"${scram[@]}"} >>"$LOG_FILE" 2>&1 ||
    { tail -n 20 "$LOG_FILE" >&2; die "formatting storage failed (log: $LOG_FILE)"; }
  echo "$KAFKA_VERSION" >"$STATE_DIR/formatted-by-version"
  ((SASL)) && echo scram >"$STATE_DIR/formatted-with-sasl"
  return 0
}

# --- subcommands ------------------------------------------------------------

print_address() { # port
  log "broker ready at 127.0.0.1:$1 (Kafka $(run_info version), state $STATE_DIR)"
  if ((SASL)); then
    log "SASL_PLAINTEXT with ${SASL_MECHANISMS[*]}; the admin user's password is in $SASL_ENV"
    printf 'KAFKA_SASL_MECHANISM=%s\nKAFKA_SASL_USERNAME=%s\nKAFKA_SASL_PASSWORD=%s\n' \
      "$SASL_CLIENT_MECHANISM" "$(sasl_value client_username)" "$(sasl_value client_password)"
  fi
  printf 'KAFKA_BROKERS=127.0.0.1:%s\n' "$1"
}

READY_DEADLINE='' # a cluster's nodes share one start deadline

wait_ready() { # pid port -> 0 when ready; dies if the process exits or times out
  local pid=$1 port=$2 deadline=${READY_DEADLINE:-$((SECONDS + START_TIMEOUT))} log_file=$LOG_FILE
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      log "broker exited during startup; last log lines:"
      tail -n 30 "$LOG_FILE" >&2 || true
      abort_start
      die "broker failed to start (log: $log_file)"
    fi
    if started_in_log && port_open "$port"; then
      return 0
    fi
    sleep 0.5
  done
  log "broker did not become ready within ${START_TIMEOUT}s; last log lines:"
  tail -n 30 "$LOG_FILE" >&2 || true
  log "stopping it"
  stop_pid "$pid"
  abort_start
  die "broker startup timed out (raise KAFKA_START_TIMEOUT; log: $log_file)"
}

# A node of a cluster failed to start: stop the nodes this `up` started, so a
# failed `up` leaves nothing running (a single broker has no others).
abort_start() {
  local id pid
  for id in ${STARTED_NODES[@]+"${STARTED_NODES[@]}"}; do
    select_node_dir "$STATE_DIR/node-$id"
    pid=$(running_pid)
    [[ -n $pid ]] || continue
    log "stopping node $id (pid $pid), started by this 'up'"
    stop_pid "$pid"
  done
}

# Starts the JVM of the selected node in the background; sets LAUNCHED_PID.
launch_node() {
  # A new session (when setsid exists) keeps the broker alive if the caller's
  # terminal or process group goes away; the inner shell writes its own pid
  # and then becomes java, so the pid file holds the JVM's pid either way.
  local setsid_cmd=() node_dir
  node_dir=$(dirname "$PROPS")
  command -v setsid >/dev/null 2>&1 && setsid_cmd=(setsid)
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of flags
  (
    cd "$node_dir"
    exec ${setsid_cmd[@]+"${setsid_cmd[@]}"} bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
      java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$SCRIPT_DIR/log4j2.properties" \
      -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS"
  ) </dev/null >>"$LOG_FILE" 2>&1 &

  local i pid=''
  for ((i = 0; i < 50; i++)); do
    pid=$(read_pid)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  [[ -n $pid ]] || { abort_start; die "broker process did not start (log: $LOG_FILE)"; }
  LAUNCHED_PID=$pid
}

cmd_up() {
  while (($#)); do
    case $1 in
      --sasl) SASL=1 ;;
      --brokers) (($# >= 2)) || usage; BROKERS=$2; shift ;;
      --brokers=*) BROKERS=${1#--brokers=} ;;
      *) usage ;;
    esac
    shift
  done
  [[ $BROKERS =~ ^[1-9]$ ]] || die "--brokers takes a number of nodes from 1 to 9, not '$BROKERS'"
  require_java
  if [[ -d $STATE_DIR && ! -f $STATE_MARKER ]] && [[ -n $(ls -A "$STATE_DIR" 2>/dev/null) ]]; then
    die "$STATE_DIR exists and was not created by kafka.sh; choose another KAFKA_STATE_DIR"
  fi
  acquire_lock
  touch "$STATE_MARKER"

  if ((BROKERS > 1)); then
    up_cluster
    return 0
  fi
  if [[ -f $CLUSTER_ENV ]]; then
    die "$STATE_DIR holds a cluster of $(cluster_value brokers) brokers; run 'kafka.sh up --brokers $(cluster_value brokers)', or use another KAFKA_STATE_DIR for a single broker"
  fi

  local pid
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    local rport rversion
    rport=$(run_info port)
    rversion=$(run_info version)
    if [[ $rversion != "$KAFKA_VERSION" ]]; then
      die "the broker running from $STATE_DIR (pid $pid) is Kafka $rversion, not $KAFKA_VERSION; run 'kafka.sh down' first"
    fi
    if [[ $(run_info security) == sasl ]] && ((!SASL)); then
      die "the broker running from $STATE_DIR (pid $pid) requires SASL; run 'kafka.sh up --sasl', or 'kafka.sh down' first"
    elif [[ $(run_info security) != sasl ]] && ((SASL)); then
      die "the broker running from $STATE_DIR (pid $pid) has no SASL listener; run 'kafka.sh down' first, or use another KAFKA_STATE_DIR"
    fi
    [[ $rport == "$PORT" ]] || log "note: reusing the running broker on port $rport (KAFKA_PORT=$PORT ignored)"
    wait_ready "$pid" "$rport"
    log "reusing the broker started earlier (pid $pid)"
    print_address "$rport"
    return 0
  fi
  rm -f "$PID_FILE" # stale

  local p
  for p in "$PORT" "$CPORT"; do
    if port_open "$p"; then
      die "port $p on 127.0.0.1 is already in use by another process (not a broker started by this script); stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
    fi
  done

  local formatted_by
  formatted_by=$(cat "$STATE_DIR/formatted-by-version" 2>/dev/null || true)
  if [[ -n $formatted_by && $formatted_by != "$KAFKA_VERSION" ]]; then
    die "$DATA_DIR was formatted by Kafka $formatted_by, not $KAFKA_VERSION; run 'kafka.sh reset' to start from empty data"
  fi

  if ((SASL)); then
    if [[ -f $DATA_DIR/meta.properties && ! -f $STATE_DIR/formatted-with-sasl ]]; then
      die "$DATA_DIR was formatted without SCRAM users; run 'kafka.sh reset' or use another KAFKA_STATE_DIR for --sasl"
    fi
    ensure_sasl_users
  fi

  ensure_libs
  write_props
  [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  : >"$LOG_FILE"
  format_storage

  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller :$CPORT), log $LOG_FILE"
  printf 'version=%s\nport=%s\ncontroller_port=%s\n' "$KAFKA_VERSION" "$PORT" "$CPORT" >"$RUN_INFO"
  ((SASL)) && echo security=sasl >>"$RUN_INFO"
  launch_node
  pid=$LAUNCHED_PID
  log "waiting for the broker (pid $pid) to report 'Kafka Server started' (up to ${START_TIMEOUT}s)"
  wait_ready "$pid" "$PORT"
  print_address "$PORT"
}

# --- a cluster (up --brokers N) ---------------------------------------------

cluster_value() { # key -> value in $CLUSTER_ENV
  [[ -f $CLUSTER_ENV ]] && sed -n "s/^$1=//p" "$CLUSTER_ENV" | head -n 1 || true
}

# The ports of nodes 1..N from KAFKA_PORTS / KAFKA_CONTROLLER_PORTS, or by
# default KAFKA_PORT and KAFKA_CONTROLLER_PORT for node 1 and steps of 2 from
# there (so the defaults 19092/19093 give 19094/19095, 19096/19097).
wanted_ports() { # var-name env-list first-port -> fills the array named var-name
  local -n out=$1
  local list=$2 first=$3 i
  if [[ -n $list ]]; then
    IFS=', ' read -r -a out <<<"$list"
  else
    out=()
    for ((i = 0; i < BROKERS; i++)); do out+=($((first + 2 * i))); done
  fi
}

check_ports() { # client ports... -- controller ports...
  local p seen=' '
  for p in "$@"; do
    [[ $p == -- ]] && continue
    [[ $p =~ ^[0-9]+$ ]] && ((p > 0 && p < 65536)) || die "'$p' is not a port (KAFKA_PORTS / KAFKA_CONTROLLER_PORTS)"
    [[ $seen != *" $p "* ]] || die "port $p is given twice (KAFKA_PORTS / KAFKA_CONTROLLER_PORTS must be $((2 * BROKERS)) distinct ports)"
    seen+="$p "
  done
}

select_cluster_node() { # id: that node's files, ports and identity
  local id=$1
  select_node_dir "$STATE_DIR/node-$id"
  NODE_ID=$id
  PORT=${CLUSTER_PORTS[id - 1]}
  CPORT=${CLUSTER_CPORTS[id - 1]}
}

CLUSTER_PORTS=()
CLUSTER_CPORTS=()
STARTED_NODES=() # nodes started by this `up`: stopped again if another fails to start

up_cluster() {
  ((!SASL)) || die "--sasl is for a single broker; this launcher does not run a SASL cluster"
  # The state dir of a single broker keeps its files at the top level.
  if [[ -f $DATA_DIR/meta.properties || -n $(running_pid) ]]; then
    die "$STATE_DIR holds a single broker; use another KAFKA_STATE_DIR for a cluster, or 'kafka.sh reset' first"
  fi
  local wanted=() wanted_c=() id
  wanted_ports wanted "${KAFKA_PORTS:-}" "$PORT"
  wanted_ports wanted_c "${KAFKA_CONTROLLER_PORTS:-}" "$CPORT"
  if [[ -f $CLUSTER_ENV ]]; then
    local recorded
    recorded=$(cluster_value brokers)
    [[ $recorded == "$BROKERS" ]] ||
      die "$STATE_DIR holds a cluster of $recorded brokers, not $BROKERS; run 'kafka.sh up --brokers $recorded', or 'kafka.sh reset' first"
    IFS=, read -r -a CLUSTER_PORTS <<<"$(cluster_value ports)"
    IFS=, read -r -a CLUSTER_CPORTS <<<"$(cluster_value controller_ports)"
    CLUSTER_ID=$(cluster_value cluster_id)
    if [[ "${CLUSTER_PORTS[*]} ${CLUSTER_CPORTS[*]}" != "${wanted[*]} ${wanted_c[*]}" ]]; then
      log "note: this cluster's ports were fixed when it was formatted: $(cluster_value ports) (controllers $(cluster_value controller_ports)); the ports asked for now are ignored"
    fi
  else
    ((${#wanted[@]} == BROKERS && ${#wanted_c[@]} == BROKERS)) ||
      die "--brokers $BROKERS needs $BROKERS client and $BROKERS controller ports; KAFKA_PORTS has ${#wanted[@]}, KAFKA_CONTROLLER_PORTS ${#wanted_c[@]}"
    check_ports "${wanted[@]}" -- "${wanted_c[@]}"
    CLUSTER_PORTS=("${wanted[@]}")
    CLUSTER_CPORTS=("${wanted_c[@]}")
    CLUSTER_ID=$(new_cluster_id)
    printf 'version=%s\nbrokers=%s\nports=%s\ncontroller_ports=%s\ncluster_id=%s\n' "$KAFKA_VERSION" "$BROKERS" \
      "$(IFS=,; printf '%s' "${CLUSTER_PORTS[*]}")" "$(IFS=,; printf '%s' "${CLUSTER_CPORTS[*]}")" "$CLUSTER_ID" >"$CLUSTER_ENV"
  fi
  VOTERS=''
  for ((id = 1; id <= BROKERS; id++)); do VOTERS+="${VOTERS:+,}$id@127.0.0.1:${CLUSTER_CPORTS[id - 1]}"; done

  local formatted_by
  formatted_by=$(cat "$STATE_DIR/formatted-by-version" 2>/dev/null || true)
  if [[ -n $formatted_by && $formatted_by != "$KAFKA_VERSION" ]]; then
    die "$STATE_DIR was formatted by Kafka $formatted_by, not $KAFKA_VERSION; run 'kafka.sh reset' to start from empty data"
  fi

  # Nodes already running are reused (of this version); the others are started.
  local to_start=() pid p
  for ((id = 1; id <= BROKERS; id++)); do
    select_cluster_node "$id"
    pid=$(running_pid)
    if [[ -n $pid ]]; then
      [[ $(run_info version) == "$KAFKA_VERSION" ]] ||
        die "node $id of the cluster in $STATE_DIR (pid $pid) is Kafka $(run_info version), not $KAFKA_VERSION; run 'kafka.sh down' first"
      log "node $id is running (pid $pid): reusing it"
      continue
    fi
    for p in "$PORT" "$CPORT"; do
      if port_open "$p"; then
        die "port $p on 127.0.0.1 (node $id) is already in use by another process (not a broker started by this script); stop it or set KAFKA_PORTS / KAFKA_CONTROLLER_PORTS"
      fi
    done
    to_start+=("$id")
  done

  if ((${#to_start[@]} > 0)); then
    ensure_libs
    for id in "${to_start[@]}"; do
      select_cluster_node "$id"
      mkdir -p "$(dirname "$PROPS")"
      rm -f "$PID_FILE" # stale
      write_props
      [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
      : >"$LOG_FILE"
      format_storage
      log "starting node $id of $BROKERS: Kafka $KAFKA_VERSION on 127.0.0.1:$PORT (controller :$CPORT), log $LOG_FILE"
      printf 'version=%s\nport=%s\ncontroller_port=%s\n' "$KAFKA_VERSION" "$PORT" "$CPORT" >"$RUN_INFO"
      launch_node
      STARTED_NODES+=("$id")
    done
  fi

  # A node reports 'Kafka Server started' once the controllers have a quorum
  # and it has caught up with the metadata and been unfenced.
  log "waiting for $BROKERS nodes to report 'Kafka Server started' (up to ${START_TIMEOUT}s)"
  READY_DEADLINE=$((SECONDS + START_TIMEOUT))
  local brokers=''
  for ((id = 1; id <= BROKERS; id++)); do
    select_cluster_node "$id"
    pid=$(read_pid)
    [[ -n $pid ]] || { abort_start; die "node $id has no pid file (log: $LOG_FILE)"; }
    wait_ready "$pid" "$PORT"
    brokers+="${brokers:+,}127.0.0.1:$PORT"
  done
  log "cluster of $BROKERS brokers ready at $brokers (Kafka $KAFKA_VERSION, cluster id $CLUSTER_ID, state $STATE_DIR)"
  printf 'KAFKA_BROKERS=%s\n' "$brokers"
}

# Stops every node of the cluster at once: stopped one by one, the last nodes
# would lose their controller quorum and wait for it until the stop timeout.
down_cluster() {
  local n id pid pids=() ids=()
  n=$(cluster_value brokers)
  for ((id = 1; id <= n; id++)); do
    select_node_dir "$STATE_DIR/node-$id"
    pid=$(running_pid)
    if [[ -n $pid ]]; then
      pids+=("$pid")
      ids+=("$id")
    else
      rm -f "$PID_FILE"
    fi
  done
  if ((${#pids[@]} == 0)); then
    log "stopped (no node of the cluster in $STATE_DIR is running)"
    return 0
  fi
  log "stopping nodes ${ids[*]} of $n (pids ${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT)) alive=1 i
  while ((alive && SECONDS < deadline)); do
    alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    if ((alive)); then sleep 0.5; fi
  done
  for i in "${!pids[@]}"; do
    if kill -0 "${pids[i]}" 2>/dev/null; then
      log "node ${ids[i]} (pid ${pids[i]}) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "${pids[i]}" 2>/dev/null || true
    fi
  done
  sleep 0.5
  for id in "${ids[@]}"; do rm -f "$STATE_DIR/node-$id/broker.pid"; done
  log "stopped"
}

status_cluster() {
  local n id pid port ready=0 brokers='' pids=''
  n=$(cluster_value brokers)
  for ((id = 1; id <= n; id++)); do
    select_node_dir "$STATE_DIR/node-$id"
    pid=$(running_pid)
    port=$(run_info port)
    [[ -n $port ]] || port=$(cut -d, -f"$id" <<<"$(cluster_value ports)")
    brokers+="${brokers:+,}127.0.0.1:$port"
    pids+="${pids:+,}${pid:--}"
    if [[ -n $pid ]] && started_in_log && port_open "$port"; then ready=$((ready + 1)); fi
  done
  if ((ready == n)); then
    printf 'running KAFKA_BROKERS=%s brokers=%s pids=%s version=%s state=%s\n' "$brokers" "$n" "$pids" "$(cluster_value version)" "$STATE_DIR"
    return 0
  fi
  if [[ $pids == *[0-9]* ]]; then
    printf 'degraded %s of %s nodes ready KAFKA_BROKERS=%s pids=%s state=%s\n' "$ready" "$n" "$brokers" "$pids" "$STATE_DIR"
    return 1
  fi
  printf 'stopped brokers=%s state=%s\n' "$n" "$STATE_DIR"
  return 1
}

stop_pid() { # pid: SIGTERM, wait, SIGKILL
  local pid=$1 deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$PID_FILE"
}

cmd_down() {
  [[ -d $STATE_DIR ]] || { log "stopped (no state dir)"; return 0; }
  acquire_lock
  if [[ -f $CLUSTER_ENV ]]; then
    down_cluster
    return 0
  fi
  local pid
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    rm -f "$PID_FILE"
    log "stopped (no broker started by this script is running)"
    return 0
  fi
  log "stopping broker (pid $pid)"
  stop_pid "$pid"
  log "stopped"
}

cmd_status() {
  if [[ -f $CLUSTER_ENV ]]; then
    status_cluster
    return
  fi
  local pid port
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    port=$(run_info port)
    if started_in_log && port_open "$port"; then
      printf 'running KAFKA_BROKERS=127.0.0.1:%s pid=%s version=%s state=%s%s\n' "$port" "$pid" "$(run_info version)" "$STATE_DIR" \
        "$([[ $(run_info security) == sasl ]] && echo ' security=sasl')"
      return 0
    fi
    printf 'starting pid=%s (not ready yet) state=%s\n' "$pid" "$STATE_DIR"
    return 1
  fi
  printf 'stopped state=%s\n' "$STATE_DIR"
  return 1
}

cmd_logs() {
  if [[ -f $CLUSTER_ENV ]]; then
    local logs=("$STATE_DIR"/node-*/broker.log)
    [[ -f ${logs[0]} ]] || die "no broker logs in $STATE_DIR/node-*"
    if [[ ${1:-} == --no-follow ]]; then tail -n 200 "${logs[@]}"; else tail -n 200 -f "${logs[@]}"; fi
    return 0
  fi
  [[ -f $LOG_FILE ]] || die "no broker log at $LOG_FILE"
  if [[ ${1:-} == --no-follow ]]; then
    tail -n 200 "$LOG_FILE"
  else
    tail -n 200 -f "$LOG_FILE"
  fi
}

cmd_reset() {
  cmd_down
  if [[ -d $STATE_DIR ]]; then
    if [[ ! -f $STATE_MARKER ]]; then
      die "$STATE_DIR was not created by kafka.sh; not deleting it"
    fi
    rm -rf "$STATE_DIR"
    log "deleted $STATE_DIR (downloaded jars kept in $CACHE_DIR)"
  fi
}

case ${1:-} in
  up) shift; cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  reset) cmd_reset ;;
  *) usage ;;
esac
