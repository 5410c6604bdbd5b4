#!/usr/bin/env bash
# THE test command: bootstrap, then formatting, lints, Rust tests and the integration suite.
#
#   scripts/test.sh [extra pytest arguments]      e.g. scripts/test.sh -k talker
#
# Every step runs even when an earlier one failed; the exit code is non-zero if any failed.
# Knobs: RMW_SHM_RS_SKIP_RUST=1 (only pytest), RMW_SHM_RS_TEST_IMPL=fastrtps (run the integration
# tests on rmw_fastrtps_cpp on both sides, to check the tests themselves).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1
t0=$(date +%s)

"$REPO/scripts/bootstrap.sh" || { echo "test.sh: bootstrap failed" >&2; exit 1; }

# shellcheck disable=SC1091
. "$REPO/target/rmw_shm_rs.env"
# The preload is for ROS processes only (the pytest fixtures add it to the nodes they start).
unset LD_PRELOAD
export RMW_SHM_RS_ENV_FILE="$REPO/target/rmw_shm_rs.env"

results=()
failed=0
step() {
  local name="$1" limit="$2"; shift 2
  local s rc
  s=$(date +%s)
  echo "==> $name"
  timeout -k 30 "$limit" "$@"
  rc=$?
  local took=$(( $(date +%s) - s ))
  if [ "$rc" -eq 0 ]; then
    results+=("ok      $name (${took} s)")
  else
    [ "$rc" -eq 124 ] && echo "test.sh: $name timed out after $limit s" >&2
    results+=("FAILED  $name (exit $rc, ${took} s)")
    failed=1
  fi
}

if [ "${RMW_SHM_RS_SKIP_RUST:-0}" != 1 ]; then
  step "cargo fmt --all --check" 300 cargo fmt --all --check
  step "cargo clippy --all-targets -- -D warnings" 1500 cargo clippy --quiet --all-targets -- -D warnings
  step "cargo test --release" 1500 cargo test --release
fi
step "pytest test/" 1500 "$RMW_SHM_RS_PYTHON" -m pytest "$REPO/test" -p no:cacheprovider -ra \
  --durations=5 "$@"
if [ "${RMW_SHM_RS_SKIP_RUST:-0}" != 1 ]; then
  # Copy and serialization counters (zero-copy claims); last, because it rebuilds the library with
  # the counters compiled in (the next bootstrap rebuilds the ordinary one).
  step "cargo test --release --features counters (copy counters)" 1500 \
    cargo test --release -p rmw_shm_rs --features counters --test loans_counters --test paths_counters \
      --test remote_counters
fi

echo
echo "==> Summary ($(( $(date +%s) - t0 )) s in all)"
printf '    %s\n' "${results[@]}"
n_ok=0
n_failed=0
for r in "${results[@]}"; do
  case "$r" in ok*) n_ok=$((n_ok + 1)) ;; *) n_failed=$((n_failed + 1)) ;; esac
done
echo "steps: $n_ok passed, $n_failed failed"
[ "$failed" -eq 0 ]
