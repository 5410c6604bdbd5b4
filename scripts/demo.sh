#!/usr/bin/env bash
# Demo: an rclpy talker and an rclpy listener, two processes, exchanging std_msgs/String over
# rmw_shm_rs for a few seconds. Runs scripts/bootstrap.sh first (idempotent).
#
#   scripts/demo.sh [SECONDS]        (default 5; or DEMO_SECONDS=...)
#   DEMO_PERIOD=0.25                  seconds between messages
#   DEMO_TOPIC=chatter  ROS_DOMAIN_ID=<n>
#   DEMO_FASTRTPS=1                   run the same demo on the stock rmw_fastrtps_cpp, for comparison
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_TO_RUN="${1:-${DEMO_SECONDS:-5}}"
PERIOD="${DEMO_PERIOD:-0.25}"
TOPIC="${DEMO_TOPIC:-chatter}"

"$REPO/scripts/bootstrap.sh"

# shellcheck disable=SC1091
. "$REPO/target/rmw_shm_rs.env"
# Keep the preload for the two ROS processes only, not for every tool this script runs.
PRELOAD="${LD_PRELOAD:-}"
unset LD_PRELOAD
if [ "${DEMO_FASTRTPS:-0}" = 1 ]; then
  PRELOAD=""
  if [ "$RMW_SHM_RS_MODE" = pypi ]; then unset RMW_IMPLEMENTATION; else export RMW_IMPLEMENTATION=rmw_fastrtps_cpp; fi
fi
PY="$RMW_SHM_RS_PYTHON"
NODES="$REPO/test/nodes"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 100 ))}"
export PYTHONUNBUFFERED=1

echo "==> Demo: talker and listener on RMW_IMPLEMENTATION=${RMW_IMPLEMENTATION:-<default>} for ${SECONDS_TO_RUN} s" \
     "(ROS_DOMAIN_ID=$ROS_DOMAIN_ID, mode $RMW_SHM_RS_MODE${PRELOAD:+, LD_PRELOAD=$PRELOAD})"

work="$(mktemp -d -t rmw_shm_rs_demo.XXXXXX)"
pids=()
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  for pid in "${pids[@]}"; do
    kill -INT -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Each node in its own process group (setsid), output prefixed with its name.
start_node() {
  local name="$1"; shift
  setsid env LD_PRELOAD="$PRELOAD" "$PY" -u "$NODES/$name.py" "$@" \
    > >(sed -u "s/^/[$name] /" | tee -a "$work/demo.log") 2>&1 &
  pids+=("$!")
}

watchdog=$(( SECONDS_TO_RUN + 60 ))
start_node listener --topic "$TOPIC" --watchdog "$watchdog"
start_node talker --topic "$TOPIC" --period "$PERIOD" --wait-match 30 --linger 0 --watchdog "$watchdog"
listener_pid="${pids[0]}"
talker_pid="${pids[1]}"

sleep "$SECONDS_TO_RUN"

echo "==> Stopping (SIGINT)"
kill -INT -- "-$talker_pid" 2>/dev/null || true
sleep 0.5
kill -INT -- "-$listener_pid" 2>/dev/null || true
status=0
for pid in "$talker_pid" "$listener_pid"; do
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "demo: process $pid did not stop on SIGINT; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
    status=1
  fi
done
wait 2>/dev/null || true
pids=()
sleep 0.2
published=$(grep -c "^\[talker\] Publishing: " "$work/demo.log" || true)
heard=$(grep -c "^\[listener\] I heard: " "$work/demo.log" || true)
rmw=$(grep -o "listener: RMW [a-z_0-9]*" "$work/demo.log" | head -n1 | cut -d' ' -f3)
if [ "$heard" -gt 0 ] && [ "$status" -eq 0 ]; then
  echo "==> Demo OK: talker published $published, listener heard $heard (RMW ${rmw:-?})"
else
  echo "==> Demo FAILED: talker published $published, listener heard $heard (RMW ${rmw:-?})" >&2
  status=1
fi
exit "$status"
