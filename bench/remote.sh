#!/usr/bin/env bash
# Latency to another host (issue 5): bench/pingpong across two network namespaces joined by a veth
# link (test/netns.py's NetnsPair, an emulated second host), ours<->fastrtps against
# fastrtps<->fastrtps. bench/run.sh calls it after its own runs (as root, when `ip` exists); it
# also runs on its own once scripts/bootstrap.sh has been run (it never builds the library):
#
#   bench/remote.sh                  # appends REMOTE lines to target/bench/results.txt
#   BENCH_QUICK=1 bench/remote.sh    # fewer round trips and runs: a smoke test
#
# What runs (one pair of processes at a time, in one namespace pair):
#   host B (rmwB_<pid>):  pingpong pong on stock rmw_fastrtps_cpp (no preload), CPU 1
#   host A (rmwA_<pid>):  pingpong ping, CPU 0, against a fresh pong each time, on
#     - stock rmw_fastrtps_cpp                                                (fastrtps->fastrtps)
#     - rmw_shm_rs (LD_PRELOAD of the library snapshot, RMW_IMPLEMENTATION=rmw_shm_rs), whose
#       remote path drives the installed rmw_fastrtps_cpp as a delegate        (shm_rs->fastrtps)
#   BENCH_REMOTE_RUNS times each (default 4), in alternating order (F O, O F, ...), so that a drift
#   of the machine's state weighs on both alike; the statistics pool the round trips of all runs.
# Sizes 64 B and 1 MiB (sensor_msgs/Image data), latency only (no throughput phase); QoS reliable,
# keep last 10, volatile, as in run.sh. Every process gets ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET and
# the same ROS_DOMAIN_ID. ping waits until its publisher and subscription both count a match
# (rmw_shm_rs's matched counts include the delegate's remote matches), then for a SYNC reply.
#
# Both sides keep Fast DDS's default transports (BENCH_REMOTE_TRANSPORTS sets pong's
# FASTDDS_BUILTIN_TRANSPORTS, e.g. UDPv4). The namespaces share /dev/shm, so the script checks that
# the data really crossed the link: host A's veth must have carried at least the payload ping
# published, both ways (REMOTE_LINK crossed=1). With the defaults it does for both RMWs: stock Fast
# DDS in the two namespaces talks UDP over the veth, and rmw_shm_rs's delegate is UDPv4 only.
#
# Output, appended to the results file (times in µs, one-way = round trip / 2, as in LAT lines):
#   LOAD rmw=<rmw> phase=remote_<k>_before|remote_<k>_after loadavg=...
#   REMOTE_RUN rmw=<ping's rmw> peer=rmw_fastrtps_cpp run=<k> size=.. <the LAT fields of run k>
#   REMOTE_LINK rmw=<rmw> run=<k> tx_bytes=.. rx_bytes=.. tx_packets=.. rx_packets=..
#          payload_bytes=.. crossed=1|0   (host A's veth counters over run k; payload_bytes = what
#                                          ping published, warm-up included)
#   REMOTE rmw=<rmw> peer=rmw_fastrtps_cpp size=.. runs=.. n=.. lost=.. min= median= p90= p99=
#          max= mean= ping_cpu_rt= pong_cpu_rt= cpu_msg= wall_s=   (pooled over the runs: nearest-
#                                          rank percentiles of all round trips, CPU averaged)
# Logs and raw round trips (ns): $BENCH_OUT/remote_{ping,pong}_<rmw>_<k>.log,
# remote_rtt_<rmw>_<k>_<size>.txt. The namespaces are deleted on exit, also on errors and on
# SIGINT/SIGTERM/SIGHUP; those of a killed run (SIGKILL) are removed by the next NetnsPair.
#
# Knobs (environment; bench/run.sh passes its own):
#   BENCH_OUT=dir               raw outputs, the pingpong binary (default target/bench)
#   BENCH_RESULTS=file          where REMOTE lines go (default $BENCH_OUT/results.txt, appended)
#   BENCH_LIB=path              the rmw_shm_rs library to preload (default: a snapshot of
#                               $RMW_SHM_RS_LIB copied to $BENCH_OUT/librmw_shm_rs.so)
#   BENCH_REMOTE_ROUNDS=a,b     timed round trips per run for 64 B and 1 MiB (default 2000,200;
#                               quick 200,50)
#   BENCH_REMOTE_RUNS=N         runs per RMW (default 4, quick 2)
#   BENCH_REMOTE_TRANSPORTS=T   FASTDDS_BUILTIN_TRANSPORTS of pong (default "default": not set)
#   BENCH_DOMAIN_ID, BENCH_PIN, BENCH_NICE, BENCH_SCHED, BENCH_QUICK: as in bench/run.sh
# Exit status: 0 when every run gave results, 1 on a failure, 2 when it cannot run here (not root,
# no `ip`: the reason is printed).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${BENCH_OUT:-$REPO/target/bench}"
RESULTS="${BENCH_RESULTS:-$OUT/results.txt}"
QUICK="${BENCH_QUICK:-0}"
if [ "$QUICK" = 1 ]; then
  ROUNDS="${BENCH_REMOTE_ROUNDS:-200,50}"
  RUNS="${BENCH_REMOTE_RUNS:-2}"
else
  ROUNDS="${BENCH_REMOTE_ROUNDS:-2000,200}"
  RUNS="${BENCH_REMOTE_RUNS:-4}"
fi
SIZES="64,1048576"
PIN="${BENCH_PIN:-1}"
if [ "$(id -u)" -eq 0 ]; then NICE="${BENCH_NICE:--10}"; else NICE="${BENCH_NICE:-0}"; fi
SCHED="${BENCH_SCHED:-other}"
TRANSPORTS="${BENCH_REMOTE_TRANSPORTS:-default}"
DOMAIN="${BENCH_DOMAIN_ID:-$((150 + RANDOM % 60))}"
DEPTH=10
[ "$RUNS" -ge 1 ] 2>/dev/null || RUNS=1

step() { printf '==> %s\n' "$*"; }
die() { printf 'bench/remote: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "bench/remote: skipped: network namespaces need root (ip netns add)" >&2; exit 2; }
command -v ip >/dev/null || { echo "bench/remote: skipped: \`ip\` (iproute2) is not installed" >&2; exit 2; }

ENV_FILE="$REPO/target/rmw_shm_rs.env"
[ -f "$ENV_FILE" ] || die "no $ENV_FILE: run scripts/bootstrap.sh (or bench/run.sh) first"
# shellcheck disable=SC1090
. "$ENV_FILE"
# The env file preloads our library into everything; this script decides per command.
unset LD_PRELOAD RMW_IMPLEMENTATION
[ "${RMW_SHM_RS_MODE:-}" = pypi ] || die "bench/remote.sh supports the PyPI wheels layout (bootstrap mode pypi) only"
VENV="$RMW_SHM_RS_VENV"
PY="$VENV/bin/python"
mkdir -p "$OUT"

if [ -n "${BENCH_LIB:-}" ]; then
  LIB="$BENCH_LIB"
else
  LIB="$OUT/librmw_shm_rs.so"
  cp "$RMW_SHM_RS_LIB" "$LIB"
fi
[ -f "$LIB" ] || die "no library at $LIB"

# The ping-pong binary: bench/run.sh builds it; build it the same way when it is missing or older
# than its source.
PP="$OUT/pingpong"
if [ ! -x "$PP" ] || [ "$REPO/bench/pingpong.c" -nt "$PP" ]; then
  step "Building bench/pingpong.c"
  # shellcheck source=scripts/rcl_cc.sh
  . "$REPO/scripts/rcl_cc.sh"
  rcl_cc -O2 "$PP" "$REPO/bench/pingpong.c" \
    -lsensor_msgs__rosidl_generator_c -lsensor_msgs__rosidl_typesupport_c
  echo "    $PP"
fi

step "Other hosts: ping on host A (rmw_fastrtps_cpp, rmw_shm_rs; $RUNS runs each) <-> pong on host B (rmw_fastrtps_cpp), sizes $SIZES, rounds $ROUNDS, domain $DOMAIN"
touch "$RESULTS"
# The driver: plain python3 (netns.py is standard library only). It deletes the namespaces in a
# `finally`; SIGTERM/SIGHUP end it through SystemExit (SIGINT through KeyboardInterrupt), which
# also kills the ping and pong it started.
export REMOTE_REPO="$REPO" REMOTE_OUT="$OUT" REMOTE_RESULTS="$RESULTS" REMOTE_PP="$PP" \
  REMOTE_LIB="$LIB" REMOTE_SIZES="$SIZES" REMOTE_ROUNDS="$ROUNDS" REMOTE_PIN="$PIN" \
  REMOTE_NICE="$NICE" REMOTE_SCHED="$SCHED" REMOTE_TRANSPORTS="$TRANSPORTS" \
  REMOTE_DOMAIN="$DOMAIN" REMOTE_DEPTH="$DEPTH" REMOTE_RUNS="$RUNS"
exec python3 - <<'PY'
import math
import os
import signal
import subprocess
import sys

E = os.environ
REPO, OUT, RESULTS = E['REMOTE_REPO'], E['REMOTE_OUT'], E['REMOTE_RESULTS']
PP, LIB = E['REMOTE_PP'], E['REMOTE_LIB']
SIZES = [int(s) for s in E['REMOTE_SIZES'].split(',')]
ROUNDS = [int(r) for r in E['REMOTE_ROUNDS'].split(',')]
ROUNDS = [ROUNDS[i] if i < len(ROUNDS) else ROUNDS[-1] for i in range(len(SIZES))]
PIN, NICE, SCHED = E['REMOTE_PIN'] == '1', E['REMOTE_NICE'], E['REMOTE_SCHED']
TRANSPORTS, DOMAIN, DEPTH = E['REMOTE_TRANSPORTS'], E['REMOTE_DOMAIN'], E['REMOTE_DEPTH']
RUNS = int(E['REMOTE_RUNS'])
FAST, OURS = 'rmw_fastrtps_cpp', 'rmw_shm_rs'

sys.path.insert(0, os.path.join(REPO, 'test'))
from netns import NetnsPair  # noqa: E402


def _exit(signum, _frame):
    raise SystemExit(128 + signum)


signal.signal(signal.SIGTERM, _exit)
signal.signal(signal.SIGHUP, _exit)

# The children's environment: the env file's (library paths), without anything that would change
# the RMW, discovery or Fast DDS's configuration behind the benchmark's back.
SCRUB = ('LD_PRELOAD', 'RMW_IMPLEMENTATION', 'ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE',
         'ROS_STATIC_PEERS', 'ROS_LOCALHOST_ONLY', 'FASTDDS_BUILTIN_TRANSPORTS',
         'FASTRTPS_DEFAULT_PROFILES_FILE', 'FASTDDS_DEFAULT_PROFILES_FILE',
         'RMW_FASTRTPS_USE_QOS_FROM_XML', 'RMW_SHM_RS_REMOTE', 'RMW_SHM_RS_DELEGATE',
         'RMW_SHM_RS_PATHS')
BASE = {k: v for k, v in E.items() if k not in SCRUB and not k.startswith('REMOTE_')}
BASE.update(ROS_DOMAIN_ID=DOMAIN, ROS_AUTOMATIC_DISCOVERY_RANGE='SUBNET')


def loadavg():
    with open('/proc/loadavg') as f:
        return '/'.join(f.read().split()[:3])


def command(pair, host, cpu, env, args):
    """ip netns exec <host> [chrt] nice [taskset] env K=V.. pingpong args: LD_PRELOAD reaches
    pingpong only, not ip, nice or taskset."""
    c = list(pair.exec_prefix(host))
    if SCHED == 'fifo':
        c += ['chrt', '-f', '10']
    c += ['nice', '-n', NICE]
    if PIN:
        c += ['taskset', '-c', str(cpu)]
    c += ['env', *[f'{k}={v}' for k, v in env.items()], PP, *args]
    return c


def stop(proc, grace):
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(pair, rmw, k, results):
    """One ping run on host A against a fresh pong on host B. Returns {size: (LAT fields, [round
    trip ns, -1 = lost])}, or None when it failed."""
    tag = f'{rmw}_{k}'
    prefix = f'/bench_remote_{os.getpid()}_{tag}'
    ping_env = {'RMW_IMPLEMENTATION': rmw}
    if rmw == OURS:
        ping_env['LD_PRELOAD'] = LIB
    pong_env = {'RMW_IMPLEMENTATION': FAST}
    if TRANSPORTS != 'default':
        pong_env['FASTDDS_BUILTIN_TRANSPORTS'] = TRANSPORTS
    ping_log = os.path.join(OUT, f'remote_ping_{tag}.log')
    pong_log = os.path.join(OUT, f'remote_pong_{tag}.log')
    dump = os.path.join(OUT, f'remote_rtt_{tag}_')
    for s in SIZES:
        if os.path.exists(f'{dump}{s}.txt'):
            os.unlink(f'{dump}{s}.txt')
    results.write(f'LOAD rmw={rmw} phase=remote_{k}_before loadavg={loadavg()}\n')
    print(f'==> run {k}/{RUNS}: {rmw} on host A -> {FAST} on host B', flush=True)
    link0 = pair.link_stats('a')
    with open(pong_log, 'w') as pl, open(ping_log, 'w') as gl:
        pong = subprocess.Popen(
            command(pair, 'b', 1, pong_env, ['pong', '--prefix', prefix, '--depth', DEPTH,
                                            '--idle-exit', '60']),
            env=BASE, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=pl)
        done = False
        try:
            ping = subprocess.run(
                command(pair, 'a', 0, ping_env,
                        ['ping', '--prefix', prefix, '--depth', DEPTH,
                         '--sizes', ','.join(map(str, SIZES)),
                         '--rounds', ','.join(map(str, ROUNDS)), '--tput-sizes', '',
                         '--dump', dump, '--quit']),
                env=BASE, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=gl, text=True,
                timeout=900)
            rc, out = ping.returncode, ping.stdout
            done = True
        except subprocess.TimeoutExpired as e:  # subprocess.run killed ping
            rc, out = 'timeout', e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or '')
            done = True
        finally:
            # pong exits on QUIT (sent three times, reliable); a lost QUIT ends in its idle exit.
            # Interrupted (signal, error): at once.
            stop(pong, 10 if done else 0)
    link1 = pair.link_stats('a')
    results.write(f'LOAD rmw={rmw} phase=remote_{k}_after loadavg={loadavg()}\n')
    got = {}
    ok = rc == 0
    for ln in out.splitlines():
        if not ln.startswith('LAT '):
            continue
        fields = ln.split()[1:]
        d = dict(f.split('=', 1) for f in fields if '=' in f)
        if d.get('rmw') != rmw:
            print(f'bench/remote: error: ping reported rmw={d.get("rmw")}, expected {rmw}',
                  file=sys.stderr)
            ok = False
        fields[1:1] = [f'peer={FAST}', f'run={k}']
        results.write('REMOTE_RUN ' + ' '.join(fields) + '\n')
        print('    ' + ln)
        size = int(d['size'])
        try:
            with open(f'{dump}{size}.txt') as f:
                rtts = [int(x) for x in f.read().split()]
        except OSError as e:
            print(f'bench/remote: error: {e}', file=sys.stderr)
            ok = False
            continue
        got[size] = (d, rtts)
    ok = ok and sorted(got) == sorted(SIZES)
    # What ping published (warm-up included, as pingpong.c counts it): the link must carry at least
    # that both ways, or the two processes found another way (Fast DDS shared memory).
    payload = sum(s * (r + max(20, int(r * 0.1))) for s, r in zip(SIZES, ROUNDS))
    d = {key: link1[key] - link0[key] for key in link0}
    crossed = int(d['tx_bytes'] >= 0.9 * payload and d['rx_bytes'] >= 0.9 * payload)
    results.write(f'REMOTE_LINK rmw={rmw} run={k} tx_bytes={d["tx_bytes"]} rx_bytes={d["rx_bytes"]} '
                  f'tx_packets={d["tx_packets"]} rx_packets={d["rx_packets"]} '
                  f'payload_bytes={payload} crossed={crossed}\n')
    results.flush()
    print(f'    host A veth: sent {d["tx_bytes"]:,} B, received {d["rx_bytes"]:,} B '
          f'(ping published {payload:,} B of payload)', flush=True)
    if not crossed:
        print(f'bench/remote: warning: the veth carried less than the payload: {rmw}\'s traffic did '
              'not (all) cross the link', file=sys.stderr)
    if not ok:
        print(f'bench/remote: error: ping on {rmw} failed (exit {rc}, {len(got)} sizes), see '
              f'{ping_log} and {pong_log}:', file=sys.stderr)
        for path in (ping_log, pong_log):
            with open(path) as f:
                tail = f.read().splitlines()[-15:]
            print('\n'.join(f'    {os.path.basename(path)}: {t}' for t in tail), file=sys.stderr)
        return None
    return got


def pct(v, q):
    """Nearest-rank percentile of a sorted list (as pingpong.c computes it)."""
    return v[min(len(v), max(1, math.ceil(q * len(v)))) - 1]


def pooled(rmw, size, runs):
    """The REMOTE line of one RMW and size: percentiles over the round trips of all its runs."""
    rtts = sorted(x for _, r in runs for x in r if x >= 0)
    lost = sum(1 for _, r in runs for x in r if x < 0)
    mean_of = lambda key: sum(float(d[key]) for d, _ in runs) / len(runs)  # noqa: E731
    if not rtts:
        return f'REMOTE rmw={rmw} peer={FAST} size={size} runs={len(runs)} n=0 lost={lost}'
    ow = lambda ns: f'{ns / 2e3:.2f}'  # noqa: E731  one-way µs
    ping_cpu, pong_cpu = mean_of('ping_cpu_rt'), mean_of('pong_cpu_rt')
    return (f'REMOTE rmw={rmw} peer={FAST} size={size} runs={len(runs)} n={len(rtts)} lost={lost} '
            f'min={ow(rtts[0])} median={ow(pct(rtts, 0.5))} p90={ow(pct(rtts, 0.9))} '
            f'p99={ow(pct(rtts, 0.99))} max={ow(rtts[-1])} mean={ow(sum(rtts) / len(rtts))} '
            f'ping_cpu_rt={ping_cpu:.2f} pong_cpu_rt={pong_cpu:.2f} '
            f'cpu_msg={(ping_cpu + pong_cpu) / 2:.2f} '
            f'wall_s={sum(float(d["wall_s"]) for d, _ in runs):.2f}')


def main():
    ok = True
    pair = NetnsPair()
    got = {FAST: [], OURS: []}
    try:
        pair.create()
        print(f'    {pair.describe()}; pong FASTDDS_BUILTIN_TRANSPORTS={TRANSPORTS}', flush=True)
        with open(RESULTS, 'a') as results:
            # Alternating order (F O, O F, F O, ...): a drift of the machine's state during the
            # runs weighs on both RMWs alike.
            for k in range(1, RUNS + 1):
                for rmw in ((FAST, OURS) if k % 2 else (OURS, FAST)):
                    r = run(pair, rmw, k, results)
                    if r is None:
                        ok = False
                    else:
                        got[rmw].append(r)
            summary = []
            for rmw in (FAST, OURS):
                for size in SIZES:
                    runs = [r[size] for r in got[rmw]]
                    if runs:
                        line = pooled(rmw, size, runs)
                        results.write(line + '\n')
                        summary.append(line)
    finally:
        pair.delete(force=True)
    left = [n for n in pair.names.values() if os.path.exists(f'/run/netns/{n}')]
    if left:
        print(f'bench/remote: error: namespaces left behind: {left}', file=sys.stderr)
        ok = False
    print(f'==> Pooled over {RUNS} run(s) per RMW (one-way µs)')
    for line in summary:
        print('    ' + line)
    med = {}
    for line in summary:
        d = dict(f.split('=', 1) for f in line.split()[1:])
        if 'median' in d:
            med[(d['rmw'], int(d['size']))] = float(d['median'])
    for size in SIZES:
        f, o = med.get((FAST, size)), med.get((OURS, size))
        if f and o:
            print(f'    {size} B: median rmw_shm_rs->fastrtps / fastrtps->fastrtps = {o / f:.2f}')
    return 0 if ok else 1


sys.exit(main())
PY
