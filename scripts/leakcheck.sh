#!/usr/bin/env bash
# Memory-leak check of librmw_shm_rs.so: an rcl talker and an rcl listener in C
# (scripts/leakcheck.c: pub/sub, a service call, a guard condition, wait sets, full teardown)
# run on rmw_shm_rs (LD_PRELOAD, PyPI wheels layout) under valgrind --leak-check=full.
#
#   scripts/leakcheck.sh [--count N]      (default 50 messages)
#
# LEAKCHECK_SKIP_BUILD=1 uses target/release/librmw_shm_rs.so as it is (no bootstrap);
# RMW_SHM_RS_REMOTE=0 runs without the DDS delegate.
#
# Reports, per process, valgrind's "definitely lost" bytes split into those with a frame in
# librmw_shm_rs.so in the allocation stack ("ours"), the delegate context/node that
# src/delegate/context.rs leaks on purpose when its last reference goes after exit() began
# ("known delegate-at-exit", listed too) and the rest (rcl, rcutils, Python, Fast DDS, glibc:
# "others"). scripts/leakcheck.supp is for known leaks of those others. Exit 0 when "ours" is
# 0 bytes in both processes, both exited 0 and they left no iceoryx2 file; 1 otherwise. Also lists the iceoryx2 files the two processes left (they run with an iceoryx2
# file prefix of their own; iceoryx2's 16-byte global counter stays by design).
#
# Needs valgrind (installed with apt-get when running as root). Takes 1-3 minutes on 2 cores.
# Output: target/leakcheck/ (valgrind XML and logs, summary.txt). Documented in
# docs/security.md ("Leak check").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COUNT=50
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT="$2"; shift 2 ;;
    *) echo "usage: scripts/leakcheck.sh [--count N]" >&2; exit 2 ;;
  esac
done

step() { printf '==> %s\n' "$*"; }
die() { printf 'leakcheck: error: %s\n' "$*" >&2; exit 1; }

if ! command -v valgrind >/dev/null; then
  [ "$(id -u)" = 0 ] || die "valgrind is missing (apt-get install valgrind)"
  step "Installing valgrind"
  apt-get install -y -q valgrind >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q valgrind >/dev/null; }
fi

if [ "${LEAKCHECK_SKIP_BUILD:-0}" = 1 ] && [ -f "$REPO/target/rmw_shm_rs.env" ]; then
  step "Using the library already built (LEAKCHECK_SKIP_BUILD=1)"
else
  step "Bootstrap (venv, release build)"
  "$REPO/scripts/bootstrap.sh" | sed 's/^/    /'
fi
# shellcheck disable=SC1091
. "$REPO/target/rmw_shm_rs.env"
unset LD_PRELOAD
[ "${RMW_SHM_RS_MODE:-}" = pypi ] || die "supports the PyPI wheels layout (bootstrap mode pypi) only"
VENV="$RMW_SHM_RS_VENV"
PY="$VENV/bin/python"
OUT="$REPO/target/leakcheck"
rm -rf "$OUT"
mkdir -p "$OUT/config"
# A snapshot: a rebuild by someone else during the run must not change the library under test.
LIB="$OUT/librmw_shm_rs.so"
cp "$RMW_SHM_RS_LIB" "$LIB"

step "Building scripts/leakcheck.c"
# shellcheck source=scripts/rcl_cc.sh
. "$REPO/scripts/rcl_cc.sh"
rcl_cc -O1 "$OUT/leakcheck" "$REPO/scripts/leakcheck.c" \
  -lstd_msgs__rosidl_generator_c -lstd_msgs__rosidl_typesupport_c \
  -ltest_msgs__rosidl_generator_c -ltest_msgs__rosidl_typesupport_c

PREFIX="iox2leak$$_"
printf '[global]\nprefix = "%s"\n' "$PREFIX" >"$OUT/config/iceoryx2.toml"
DOMAIN="${LEAKCHECK_DOMAIN_ID:-$((150 + RANDOM % 60))}"
VG=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
  --num-callers=40 --suppressions="$REPO/scripts/leakcheck.supp" --xml=yes)

run() {  # run <role>: the role's process under valgrind, in the background
  local role="$1"
  (cd "$OUT" && exec env LD_PRELOAD="$LIB" RMW_IMPLEMENTATION=rmw_shm_rs ROS_DOMAIN_ID="$DOMAIN" \
    ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST RMW_SHM_RS_REMOTE="${RMW_SHM_RS_REMOTE:-1}" \
    timeout -k 10 600 "${VG[@]}" --xml-file="$OUT/$role.xml" --log-file="$OUT/$role.valgrind.log" \
    ./leakcheck "$role" --count "$COUNT" >"$OUT/$role.out" 2>&1)
}

step "Running listener and talker under valgrind (domain $DOMAIN, $COUNT messages)"
t0=$(date +%s)
run listener &
LPID=$!
# The listener is ready when it says so (valgrind makes start-up slow).
for _ in $(seq 1 600); do grep -q 'listener: ready' "$OUT/listener.out" 2>/dev/null && break; sleep 0.2; done
run talker &
TPID=$!
set +e
wait "$TPID"; TRC=$?
wait "$LPID"; LRC=$?
set -e
echo "    took $(( $(date +%s) - t0 )) s; listener exit $LRC, talker exit $TRC"
sed 's/^/    /' "$OUT/listener.out" "$OUT/talker.out"

step "Definitely lost (valgrind XML; 'ours' = a frame in librmw_shm_rs.so)"
"$PY" - "$OUT" >"$OUT/summary.txt" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Leaked on purpose (src/delegate/context.rs, EXITING): a DDS delegate context or node whose last
# reference goes away after exit() began (the DDS graph watcher thread can hold it for a moment)
# is not finalized, because Fast DDS's statics may already be torn down. Reported, not hidden.
KNOWN = ('DdsContext::new', 'DdsContext::create_node')

out = Path(sys.argv[1])
bad = False
for role in ('listener', 'talker'):
    root = ET.parse(out / f'{role}.xml').getroot()
    totals = {'ours': 0, 'known': 0, 'others': 0}
    records = []
    for err in root.iter('error'):
        if (err.findtext('kind') or '') != 'Leak_DefinitelyLost':
            continue
        xw = err.find('xwhat')
        nbytes = int(xw.findtext('leakedbytes')) if xw is not None else 0
        frames = [(f.findtext('obj') or '', f.findtext('fn') or '?') for f in err.iter('frame')]
        mine = [fn for o, fn in frames if o.endswith('librmw_shm_rs.so')]
        if not mine:
            totals['others'] += nbytes
            continue
        what = 'known' if any(k in fn for fn in mine for k in KNOWN) else 'ours'
        totals[what] += nbytes
        records.append((what, nbytes, [fn.split('<')[0] for fn in mine][:5]))
    supp = sum(int(p.findtext('count') or 0) for p in root.iter('pair'))
    print(f"{role}: definitely lost: ours {totals['ours']} bytes, known delegate-at-exit "
          f"{totals['known']} bytes, others {totals['others']} bytes "
          f"({supp} leak records suppressed by leakcheck.supp)")
    for what, n, fns in records:
        print(f'  {what}: {n} bytes: ' + ' <- '.join(fns))
    bad |= totals['ours'] > 0
print('RESULT: ' + ('LEAKS in librmw_shm_rs' if bad else 'no definite leak in librmw_shm_rs'))
EOF
sed 's/^/    /' "$OUT/summary.txt"

left=$(find /dev/shm /tmp/iceoryx2 -name "${PREFIX}*" 2>/dev/null | grep -v '\.global_mgmt$' || true)
if [ -n "$left" ]; then
  echo "    iceoryx2 files left by the two processes:"; echo "$left" | sed 's/^/      /'
else
  echo "    iceoryx2 files left by the two processes: none (besides the global counter)"
fi
find /dev/shm /tmp/iceoryx2 -name "${PREFIX}*" -delete 2>/dev/null || true

[ "$LRC" = 0 ] && [ "$TRC" = 0 ] && grep -q '^RESULT: no definite' "$OUT/summary.txt" && [ -z "$left" ]
