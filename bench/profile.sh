#!/usr/bin/env bash
# Per-round-trip event counts of the ping-pong for both RMWs: system calls, malloc/realloc (libc
# uprobes), context switches, page faults; and a perf profile of the rmw_shm_rs ping process.
# Evidence for bench/analysis.md. Needs perf and root (uprobes); run bench/run.sh (or at least
# its build steps) first: it uses target/bench/pingpong and target/bench/librmw_shm_rs.so.
#
#   bench/profile.sh [SIZE]      # default 64 (bytes of Image data)
#
# Method: each process runs under `perf stat` twice, with 2000 and 12000 round trips and no
# warm-up; (count(12000) - count(2000)) / 10000 is the count per round trip of that process, free
# of start-up and teardown. Each process publishes one message, waits once and takes one message
# per round trip.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$REPO/target/bench}"
SIZE="${1:-64}"
PP="$OUT/pingpong"
LIB="$OUT/librmw_shm_rs.so"
[ -x "$PP" ] && [ -f "$LIB" ] || { echo "profile: run bench/run.sh first ($PP, $LIB)" >&2; exit 1; }
command -v perf >/dev/null || { echo "profile: perf not found" >&2; exit 1; }
# shellcheck disable=SC1091
. "$REPO/target/rmw_shm_rs.env"
unset LD_PRELOAD RMW_IMPLEMENTATION
export ROS_DOMAIN_ID="${BENCH_DOMAIN_ID:-$((150 + RANDOM % 60))}"

LIBC="$(ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}')"
added=()
for f in malloc realloc; do
  if ! perf probe -l 2>/dev/null | grep -q "probe_libc:$f "; then
    perf probe -q -x "$LIBC" --add "$f" && added+=("probe_libc:$f")
  fi
done
cleanup() { for p in "${added[@]}"; do perf probe -q -d "$p" || true; done; }
trap cleanup EXIT

EVENTS="probe_libc:malloc,probe_libc:realloc"
for s in sendto recvfrom ppoll poll futex epoll_wait read write sendmsg recvmsg; do
  EVENTS+=",syscalls:sys_enter_$s"
done
EVENTS+=",context-switches,page-faults,task-clock"

mkdir -p "$OUT/profile"
for rmw in rmw_fastrtps_cpp rmw_shm_rs; do
  envs=(env RMW_IMPLEMENTATION="$rmw")
  [ "$rmw" = rmw_shm_rs ] && envs+=(LD_PRELOAD="$LIB")
  for n in 2000 12000; do
    prefix="/profile_$$_${rmw}_$n"
    "${envs[@]}" perf stat -x, -e "$EVENTS" -o "$OUT/profile/pong_${rmw}_$n.csv" \
      "$PP" pong --prefix "$prefix" --idle-exit 30 2>/dev/null &
    pong=$!
    "${envs[@]}" perf stat -x, -e "$EVENTS" -o "$OUT/profile/ping_${rmw}_$n.csv" \
      "$PP" ping --prefix "$prefix" --sizes "$SIZE" --rounds "$n" --warmup-frac 0 --tput-sizes "" \
      --quit >/dev/null 2>&1
    wait "$pong"
  done
done

python3 - "$OUT/profile" <<'EOF'
import sys, os
d = sys.argv[1]
def load(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        p = line.strip().split(",")
        try:
            out[p[2].replace("probe_libc:", "").replace("syscalls:sys_enter_", "")] = float(p[0])
        except ValueError:
            pass
    return out
print("per round trip (each process: 1 publish, 1 wait, 1 take); task-clock in µs")
for rmw in ("rmw_fastrtps_cpp", "rmw_shm_rs"):
    for side in ("ping", "pong"):
        a = load(os.path.join(d, f"{side}_{rmw}_2000.csv"))
        b = load(os.path.join(d, f"{side}_{rmw}_12000.csv"))
        per = {k: (b[k] - a[k]) / 10000 for k in a if k in b}
        if "task-clock" in per:
            per["task-clock"] *= 1000  # ms -> µs
        print(f"{rmw:17} {side}: " + "  ".join(f"{k}={v:.2f}" for k, v in per.items() if abs(v) >= 0.05))
EOF

echo
echo "perf profile of the rmw_shm_rs ping process (top symbols), 20000 round trips:"
prefix="/profile_$$_perf"
env RMW_IMPLEMENTATION=rmw_shm_rs LD_PRELOAD="$LIB" "$PP" pong --prefix "$prefix" --idle-exit 30 2>/dev/null &
pong=$!
env RMW_IMPLEMENTATION=rmw_shm_rs LD_PRELOAD="$LIB" perf record -q -F 10000 -o "$OUT/profile/ping.perf" \
  "$PP" ping --prefix "$prefix" --sizes "$SIZE" --rounds 20000 --tput-sizes "" --quit >/dev/null 2>&1
wait "$pong"
perf report -i "$OUT/profile/ping.perf" --no-children --sort dso,symbol --stdio 2>/dev/null \
  | grep -E '^ +[0-9.]+%' | head -15 | cut -c1-170
