#!/usr/bin/env bash
# Runs the rmw_shm_rs benchmarks side by side with rmw_fastrtps_cpp and writes docs/benchmarks.md.
#
#   bench/run.sh                 # full run, a few minutes (see docs/benchmarks.md for what it measures)
#   BENCH_QUICK=1 bench/run.sh   # fewer round trips and a short criterion run: a smoke test
#
# Steps:
#   1. scripts/bootstrap.sh: the venv with the ROS 2 Kilted wheels and the release library.
#   2. A snapshot of target/release/librmw_shm_rs.so into $BENCH_OUT, so that a rebuild by someone
#      else during the run cannot swap the library between the two RMWs' runs.
#   3. gcc builds bench/pingpong.c and bench/pingpong_loan.c against the wheels' rcl (plain -I/-L
#      flags: the wheels' CMake configs point at the wheel build host).
#   4. The ping-pong and throughput runs: rmw_fastrtps_cpp (the wheels' default, no preload), then
#      rmw_shm_rs (LD_PRELOAD of the snapshot), same binary, same arguments, same environment
#      otherwise. pong and ping are pinned to CPUs 1 and 0 (BENCH_PIN=0: not pinned).
#   5. The loaned-message ping-pong (bench/pingpong_loan.c, hand-written fixed-size types) on
#      rmw_shm_rs only: rmw_fastrtps_cpp cannot load its introspection-only type support.
#   6. bench/remote.sh (as root, when `ip` exists): latency to another host, i.e. across two
#      network namespaces joined by a veth (test/netns.py): ping on rmw_fastrtps_cpp and on
#      rmw_shm_rs (its rmw_fastrtps_cpp delegate) against pong on stock rmw_fastrtps_cpp, 64 B
#      and 1 MiB; REMOTE lines in the same results file. A failure is reported, not fatal.
#   7. cargo bench --bench codec (criterion).
#   8. bench/numpy_bench.py: MB/s of 4 MiB Images between rclpy processes, numpy helper vs plain.
#   9. bench/report.py prints the tables and writes docs/benchmarks.md.
#
# Knobs (environment):
#   BENCH_PIN=1|0           pin pong to CPU 1 and ping to CPU 0 with taskset (default 1)
#   BENCH_NICE=N            nice value of both processes (default -10 as root, else 0): both RMWs
#                           get the same; it only keeps other work on the machine from preempting
#                           the two benchmark processes as often
#   BENCH_SCHED=other|fifo  scheduling policy of both processes (default other; fifo = chrt -f 10,
#                           which keeps other CPU-bound work from delaying a wake-up by a tick; see
#                           the caution under BENCH_FIFO_TOO)
#   BENCH_FIFO_TOO=0|1      after the main runs, run both RMWs once more with SCHED_FIFO (default 0):
#                           a second table in the report that shows how much of the tail comes from
#                           other work on the machine. Caution: once, pinned rmw_fastrtps_cpp under
#                           SCHED_FIFO got stuck in the 4 MiB throughput phase (ping at ~93% CPU for
#                           minutes, i.e. a real-time thread spinning while the one it waits for
#                           cannot run on that CPU); kill the run if that happens
#   BENCH_QUIET_WAIT=S      wait up to S seconds (default 300) for the 1-minute load average to drop
#                           below BENCH_QUIET_LOAD (default 0.7) before measuring; then go on anyway
#   BENCH_ROUNDS=a,b,c,d,e  timed round trips per size (default 5000,5000,2000,500,200)
#   BENCH_TPUT_SECONDS=S    duration of each throughput run (default 3)
#   BENCH_LOAN_ROUNDS=a,..  timed loaned round trips per size (default 5000,5000,5000,2000,1000)
#   BENCH_LOAN=0            skip the loaned-message ping-pong
#   BENCH_REMOTE=0          skip bench/remote.sh (skipped anyway when not root or without `ip`)
#   BENCH_REMOTE_ROUNDS=a,b BENCH_REMOTE_RUNS=N BENCH_REMOTE_TRANSPORTS=T: see bench/remote.sh
#                           (default 2000,200 round trips per run, 4 runs per RMW; quick: 200,50
#                           and 2 runs)
#   BENCH_CRITERION=0       skip the criterion codec bench
#   BENCH_NUMPY=0           skip bench/numpy_bench.py
#   BENCH_DOC=path          where to write the report (default docs/benchmarks.md; "-" = nowhere)
#   BENCH_OUT=dir           raw outputs (default target/bench)
#   BENCH_QUICK=1           smoke test: 10x fewer round trips, 1 s throughput runs, short criterion
#                           (loaned ping-pong: 500,500,500,200,100 round trips)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$REPO/target/bench}"
PIN="${BENCH_PIN:-1}"
QUICK="${BENCH_QUICK:-0}"
if [ "$(id -u)" -eq 0 ]; then NICE="${BENCH_NICE:--10}"; else NICE="${BENCH_NICE:-0}"; fi
SIZES="64,4096,65536,1048576,4194304"
TPUT_SIZES="64,4194304"
DEPTH=10
LOAN_DEPTH=4
if [ "$QUICK" = 1 ]; then
  ROUNDS="${BENCH_ROUNDS:-500,500,200,50,30}"
  TPUT_SECONDS="${BENCH_TPUT_SECONDS:-1}"
  LOAN_ROUNDS="${BENCH_LOAN_ROUNDS:-500,500,500,200,100}"
else
  ROUNDS="${BENCH_ROUNDS:-5000,5000,2000,500,200}"
  TPUT_SECONDS="${BENCH_TPUT_SECONDS:-3}"
  LOAN_ROUNDS="${BENCH_LOAN_ROUNDS:-5000,5000,5000,2000,1000}"
fi
LOAN="${BENCH_LOAN:-1}"
REMOTE="${BENCH_REMOTE:-1}"
if [ "$QUICK" = 1 ]; then
  REMOTE_ROUNDS="${BENCH_REMOTE_ROUNDS:-200,50}"
  REMOTE_RUNS="${BENCH_REMOTE_RUNS:-2}"
else
  REMOTE_ROUNDS="${BENCH_REMOTE_ROUNDS:-2000,200}"
  REMOTE_RUNS="${BENCH_REMOTE_RUNS:-4}"
fi
REMOTE_TRANSPORTS="${BENCH_REMOTE_TRANSPORTS:-default}"
CRITERION="${BENCH_CRITERION:-1}"
SCHED="${BENCH_SCHED:-other}"
FIFO_TOO="${BENCH_FIFO_TOO:-0}"
[ "$SCHED" = fifo ] && FIFO_TOO=0
QUIET_WAIT="${BENCH_QUIET_WAIT:-300}"
QUIET_LOAD="${BENCH_QUIET_LOAD:-0.7}"
[ "$QUICK" = 1 ] && QUIET_WAIT="${BENCH_QUIET_WAIT:-0}"
DOC="${BENCH_DOC:-$REPO/docs/benchmarks.md}"
# A domain of its own, so that other ROS processes on the host (tests) do not discover ours.
DOMAIN="${BENCH_DOMAIN_ID:-$((150 + RANDOM % 60))}"

step() { printf '==> %s\n' "$*"; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$OUT"
STARTED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# ---------------------------------------------------------------------------------------------
# 1. Environment and library
# ---------------------------------------------------------------------------------------------
step "Bootstrap (venv, release build)"
"$REPO/scripts/bootstrap.sh" | sed 's/^/    /'
ENV_FILE="$REPO/target/rmw_shm_rs.env"
[ -f "$ENV_FILE" ] || die "bootstrap wrote no $ENV_FILE"
# shellcheck disable=SC1090
. "$ENV_FILE"
# The env file preloads our library into everything; this script decides per command.
unset LD_PRELOAD RMW_IMPLEMENTATION
[ "${RMW_SHM_RS_MODE:-}" = pypi ] || die "bench/run.sh supports the PyPI wheels layout (bootstrap mode pypi) only"
VENV="$RMW_SHM_RS_VENV"
PY="$VENV/bin/python"
LIB_SNAPSHOT="$OUT/librmw_shm_rs.so"
cp "$RMW_SHM_RS_LIB" "$LIB_SNAPSHOT"

# ---------------------------------------------------------------------------------------------
# 2. The C ping-pong
# ---------------------------------------------------------------------------------------------
step "Building bench/pingpong.c"
# shellcheck source=scripts/rcl_cc.sh
. "$REPO/scripts/rcl_cc.sh"
rcl_cc -O2 "$OUT/pingpong" "$REPO/bench/pingpong.c" \
  -lsensor_msgs__rosidl_generator_c -lsensor_msgs__rosidl_typesupport_c
echo "    $OUT/pingpong"
if [ "$LOAN" = 1 ]; then
  step "Building bench/pingpong_loan.c"
  rcl_cc -O2 "$OUT/pingpong_loan" "$REPO/bench/pingpong_loan.c" -lrosidl_typesupport_introspection_c
  echo "    $OUT/pingpong_loan"
fi

# ---------------------------------------------------------------------------------------------
# 3. Ping-pong and throughput on both RMWs
# ---------------------------------------------------------------------------------------------
RESULTS="$OUT/results.txt"
: >"$RESULTS"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Other work on the machine (builds) delays wake-ups of the pinned processes: wait for a quiet
# moment, within limits.
if [ "$QUIET_WAIT" -gt 0 ]; then
  step "Waiting up to ${QUIET_WAIT} s for the 1-minute load average to drop below $QUIET_LOAD (now $(loadavg))"
  waited=0
  while awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; do
    [ "$waited" -ge "$QUIET_WAIT" ] && { echo "    still busy after ${waited} s: measuring anyway"; break; }
    sleep 10
    waited=$((waited + 10))
  done
  echo "    load average $(loadavg) after ${waited} s"
fi

run_rmw() {
  local rmw="$1" sched="$2" results="$3" prefix="/bench_$$_$1_$2"
  local -a envs=(env -u LD_PRELOAD ROS_DOMAIN_ID="$DOMAIN" RMW_IMPLEMENTATION="$rmw")
  if [ "$rmw" = rmw_shm_rs ]; then
    envs+=(LD_PRELOAD="$LIB_SNAPSHOT")
  fi
  local -a ping_cpu=() pong_cpu=()
  if [ "$PIN" = 1 ]; then
    ping_cpu=(taskset -c 0)
    pong_cpu=(taskset -c 1)
  fi
  if [ "$sched" = fifo ]; then
    ping_cpu=(chrt -f 10 "${ping_cpu[@]}")
    pong_cpu=(chrt -f 10 "${pong_cpu[@]}")
  fi
  echo "LOAD rmw=$rmw phase=before loadavg=$(loadavg | tr ' ' '/')" >>"$results"
  step "$rmw ($sched): ping-pong sizes $SIZES (rounds $ROUNDS), throughput $TPUT_SIZES (${TPUT_SECONDS} s each)"
  nice -n "$NICE" "${envs[@]}" "${pong_cpu[@]}" "$OUT/pingpong" pong --prefix "$prefix" \
    --depth "$DEPTH" --idle-exit 60 2>"$OUT/pong_${rmw}_$sched.log" &
  local pong=$!
  local rc=0
  nice -n "$NICE" "${envs[@]}" "${ping_cpu[@]}" "$OUT/pingpong" ping --prefix "$prefix" \
    --depth "$DEPTH" --sizes "$SIZES" --rounds "$ROUNDS" --tput-sizes "$TPUT_SIZES" \
    --tput-seconds "$TPUT_SECONDS" --quit >>"$results" 2>"$OUT/ping_${rmw}_$sched.log" || rc=$?
  # pong exits on QUIT; make sure it is gone before the next RMW runs.
  for _ in $(seq 50); do kill -0 "$pong" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pong" 2>/dev/null; then kill "$pong" 2>/dev/null || true; fi
  wait "$pong" 2>/dev/null || true
  echo "LOAD rmw=$rmw phase=after loadavg=$(loadavg | tr ' ' '/')" >>"$results"
  [ "$rc" = 0 ] || die "ping on $rmw failed (exit $rc), see $OUT/ping_${rmw}_$sched.log"
  grep -v '^LOAD' "$results" | grep "rmw=$rmw " | sed 's/^/    /'
}

# The loaned-message ping-pong, rmw_shm_rs only (its hand-written introspection type support is
# not loadable by rmw_fastrtps_cpp). Appends LOAN lines to the results; a failure is reported but
# does not end the run (the other results stay valid).
run_loan() {
  local results="$1" prefix="/bench_$$_loan"
  local -a envs=(env -u LD_PRELOAD ROS_DOMAIN_ID="$DOMAIN" RMW_IMPLEMENTATION=rmw_shm_rs
    LD_PRELOAD="$LIB_SNAPSHOT")
  local -a ping_cpu=() pong_cpu=()
  if [ "$PIN" = 1 ]; then
    ping_cpu=(taskset -c 0)
    pong_cpu=(taskset -c 1)
  fi
  if [ "$SCHED" = fifo ]; then
    ping_cpu=(chrt -f 10 "${ping_cpu[@]}")
    pong_cpu=(chrt -f 10 "${pong_cpu[@]}")
  fi
  echo "LOAD rmw=rmw_shm_rs phase=loan_before loadavg=$(loadavg | tr ' ' '/')" >>"$results"
  step "rmw_shm_rs ($SCHED): loaned-message ping-pong sizes $SIZES (rounds $LOAN_ROUNDS, depth $LOAN_DEPTH)"
  nice -n "$NICE" "${envs[@]}" "${pong_cpu[@]}" "$OUT/pingpong_loan" pong --prefix "$prefix" \
    --depth "$LOAN_DEPTH" --idle-exit 60 2>"$OUT/pong_loan.log" &
  local pong=$!
  local rc=0
  nice -n "$NICE" "${envs[@]}" "${ping_cpu[@]}" "$OUT/pingpong_loan" ping --prefix "$prefix" \
    --depth "$LOAN_DEPTH" --sizes "$SIZES" --rounds "$LOAN_ROUNDS" --quit \
    >>"$results" 2>"$OUT/ping_loan.log" || rc=$?
  for _ in $(seq 50); do kill -0 "$pong" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pong" 2>/dev/null; then kill "$pong" 2>/dev/null || true; fi
  wait "$pong" 2>/dev/null || true
  echo "LOAD rmw=rmw_shm_rs phase=loan_after loadavg=$(loadavg | tr ' ' '/')" >>"$results"
  if [ "$rc" != 0 ]; then
    echo "    bench: warning: loaned ping-pong failed (exit $rc), see $OUT/ping_loan.log" >&2
    sed 's/^/    /' "$OUT/ping_loan.log" >&2
  fi
  grep '^LOAN ' "$results" | sed 's/^/    /' || true
}

run_rmw rmw_fastrtps_cpp "$SCHED" "$RESULTS"
run_rmw rmw_shm_rs "$SCHED" "$RESULTS"
if [ "$LOAN" = 1 ]; then run_loan "$RESULTS"; fi
FIFO_RESULTS="$OUT/results_fifo.txt"
rm -f "$FIFO_RESULTS"
if [ "$FIFO_TOO" = 1 ]; then
  : >"$FIFO_RESULTS"
  run_rmw rmw_fastrtps_cpp fifo "$FIFO_RESULTS"
  run_rmw rmw_shm_rs fifo "$FIFO_RESULTS"
fi

# ---------------------------------------------------------------------------------------------
# 4. Other hosts: bench/remote.sh (two network namespaces, so root and `ip` only)
# ---------------------------------------------------------------------------------------------
if [ "$REMOTE" != 1 ]; then
  REMOTE_STATUS="skipped: BENCH_REMOTE=0"
elif [ "$(id -u)" -ne 0 ]; then
  REMOTE_STATUS="skipped: network namespaces need root"
elif ! command -v ip >/dev/null; then
  REMOTE_STATUS="skipped: ip (iproute2) is not installed"
else
  rc=0
  BENCH_OUT="$OUT" BENCH_RESULTS="$RESULTS" BENCH_LIB="$LIB_SNAPSHOT" BENCH_DOMAIN_ID="$DOMAIN" \
    BENCH_PIN="$PIN" BENCH_NICE="$NICE" BENCH_SCHED="$SCHED" BENCH_QUICK="$QUICK" \
    BENCH_REMOTE_ROUNDS="$REMOTE_ROUNDS" BENCH_REMOTE_RUNS="$REMOTE_RUNS" \
    BENCH_REMOTE_TRANSPORTS="$REMOTE_TRANSPORTS" "$REPO/bench/remote.sh" || rc=$?
  if [ "$rc" = 0 ]; then
    REMOTE_STATUS="run"
  else
    REMOTE_STATUS="failed (exit $rc): see target/bench/remote_*.log"
    echo "    bench: warning: bench/remote.sh failed (exit $rc); the other results stay valid" >&2
  fi
fi

# ---------------------------------------------------------------------------------------------
# 5. Criterion codec bench
# ---------------------------------------------------------------------------------------------
CRIT_DIR="${CARGO_TARGET_DIR:-$REPO/target}/criterion"
if [ "$CRITERION" = 1 ]; then
  step "cargo bench --bench codec (criterion)"
  rm -rf "$CRIT_DIR"
  crit_args=()
  if [ "$QUICK" = 1 ]; then crit_args=(--warm-up-time 0.2 --measurement-time 0.5); fi
  (cd "$REPO" && cargo bench --quiet --bench codec -- "${crit_args[@]}") >"$OUT/criterion.txt" 2>&1 \
    || { tail -40 "$OUT/criterion.txt" >&2; die "cargo bench failed"; }
  grep -E '^[a-z_0-9A-Z]+/[a-z_]+|time:|thrpt:' "$OUT/criterion.txt" | sed 's/^/    /'
fi

NUMPY_JSON="$OUT/numpy.json"
rm -f "$NUMPY_JSON"
if [ "${BENCH_NUMPY:-1}" = 1 ]; then
  step "numpy helper: bench/numpy_bench.py"
  numpy_args=()
  if [ "$QUICK" = 1 ]; then numpy_args=(--seconds 1 --repeat 1); fi
  python3 "$REPO/bench/numpy_bench.py" --json "$NUMPY_JSON" "${numpy_args[@]}" \
    || echo "numpy bench failed; its section says so" >&2
fi

# ---------------------------------------------------------------------------------------------
# 6. Machine description and report
# ---------------------------------------------------------------------------------------------
MACHINE="$OUT/machine.txt"
{
  echo "date=$STARTED"
  echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
  echo "cpus=$(nproc)"
  echo "threads_per_core=$(lscpu | sed -n 's/^Thread(s) per core: *//p' | head -1)"
  echo "hypervisor=$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1)"
  echo "mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel=$(uname -sr)"
  echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "rustc=$(rustc --version)"
  echo "gcc=$(gcc --version | head -1)"
  echo "python=$("$PY" --version 2>&1)"
  for p in ros-rcl ros-rmw ros-rmw-fastrtps-cpp ros-fastdds ros-sensor-msgs ros-rclpy; do
    v="$(_ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$PY" -m pip show "$p" 2>/dev/null | sed -n 's/^Version: //p')"
    echo "pkg_$p=${v:-?}"
  done
  echo "iceoryx2=$(awk '/^name = "iceoryx2"$/ {getline; print $3}' "$REPO/Cargo.lock" | tr -d '"')"
  echo "commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "dirty=$(git -C "$REPO" status --porcelain -- rmw_shm_rs/src 2>/dev/null | wc -l)"
  echo "pin=$PIN"
  echo "nice=$NICE"
  echo "sched=$SCHED"
  echo "domain=$DOMAIN"
  echo "depth=$DEPTH"
  echo "rounds=$ROUNDS"
  echo "loan_rounds=$([ "$LOAN" = 1 ] && echo "$LOAN_ROUNDS" || echo skipped)"
  echo "loan_depth=$LOAN_DEPTH"
  echo "tput_seconds=$TPUT_SECONDS"
  echo "remote=$REMOTE_STATUS"
  echo "remote_rounds=$REMOTE_ROUNDS"
  echo "remote_runs=$REMOTE_RUNS"
  echo "remote_transports=$REMOTE_TRANSPORTS"
  echo "quick=$QUICK"
  echo "loadavg_end=$(loadavg)"
} >"$MACHINE"

step "Report"
extra=()
[ -f "$FIFO_RESULTS" ] && extra=(--fifo-results "$FIFO_RESULTS")
python3 "$REPO/bench/report.py" --results "$RESULTS" --machine "$MACHINE" \
  --criterion "$CRIT_DIR" --numpy "$NUMPY_JSON" --doc "$DOC" "${extra[@]}"
