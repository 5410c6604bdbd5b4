#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ (docs/fuzzing.md): what other processes can send us.
#
#   scripts/fuzz.sh [target ...]        default: every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=300 scripts/fuzz.sh    the long run (docs/fuzzing.md has its numbers)
#
# Installs cargo-fuzz (crates.io) when missing and builds with the stable toolchain
# (RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's -Z sanitizer flags: no nightly needed). Each
# target starts from its corpus (target/fuzz/corpus/<target>, kept between runs) and its
# committed seeds (fuzz/seeds/<target>). A finding is written to fuzz/artifacts/<target>/ and
# fails the run; reproduce it with the command printed.
#
# Knobs: FUZZ_SECONDS (per target), FUZZ_ARGS (more libFuzzer flags), RMW_SHM_RS_DISTRO (as
# bootstrap.sh; the targets load that distro's test_msgs).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 1
SECONDS_EACH="${FUZZ_SECONDS:-20}"
CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(cdr_decode peer_samples graph_announce)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

distro="${RMW_SHM_RS_DISTRO:-}"
if [ -z "$distro" ]; then
  if [ -n "${ROS_DISTRO:-}" ] && [ -n "${AMENT_PREFIX_PATH:-}" ]; then distro="$ROS_DISTRO"; else distro=kilted; fi
fi
if [ "$distro" = kilted ]; then env_file="$REPO/target/rmw_shm_rs.env"; else env_file="$REPO/target/rmw_shm_rs-$distro.env"; fi
if [ ! -f "$env_file" ]; then
  # The venv with the ROS libraries (and test_msgs) and the env file; the library itself is
  # not needed here.
  RMW_SHM_RS_SKIP_BUILD=1 "$REPO/scripts/bootstrap.sh" || { echo "fuzz.sh: bootstrap failed" >&2; exit 1; }
fi
# shellcheck disable=SC1090
. "$env_file"
unset LD_PRELOAD RMW_IMPLEMENTATION
# Same host only: the targets never load the DDS delegate.
export RMW_SHM_RS_REMOTE=0

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "==> cargo install cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION" || { echo "fuzz.sh: cannot install cargo-fuzz" >&2; exit 1; }
fi

export RUSTC_BOOTSTRAP=1
# Per distro (the bindings differ), beside the main builds.
work="$RMW_SHM_RS_TARGET_DIR/fuzz"
mkdir -p "$work/logs"
# Release + debug assertions and overflow checks, AddressSanitizer (the allocation checks use
# its allocator hooks).
fuzz_flags=(-O -a --fuzz-dir "$REPO/fuzz" --target-dir "$work/build")

s=$(date +%s)
echo "==> cargo fuzz build (${targets[*]})"
if ! cargo fuzz build "${fuzz_flags[@]}"; then
  echo "fuzz.sh: build failed" >&2
  echo "fuzz: 0 passed, ${#targets[@]} failed"
  exit 1
fi
echo "==> built in $(( $(date +%s) - s )) s"

passed=0
failed=0
summary=()
for t in "${targets[@]}"; do
  corpus="$work/corpus/$t"
  mkdir -p "$corpus"
  dirs=("$corpus")
  [ -d "$REPO/fuzz/seeds/$t" ] && dirs+=("$REPO/fuzz/seeds/$t")
  log="$work/logs/$t.log"
  echo "==> $t for $SECONDS_EACH s (log: $log)"
  # -timeout: one input taking 30 s is a hang. -max_len: the seeds' largest is 4 KiB.
  # shellcheck disable=SC2086
  cargo fuzz run "${fuzz_flags[@]}" "$t" "${dirs[@]}" -- \
    -max_total_time="$SECONDS_EACH" -max_len=8192 -timeout=30 -print_final_stats=1 \
    ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  took=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("ok      $t: ${runs:-?} runs in ${took:-?} s, $cov, $corp inputs")
  else
    failed=$((failed + 1))
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    summary+=("FAILED  $t (exit $rc): ${artifact:-see $log}")
    grep -E -A12 "panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)" "$log" | head -40 >&2
    [ -n "$artifact" ] && echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${fuzz_flags[*]} $t $artifact" >&2
  fi
done

echo "==> fuzz summary"
printf '  %s\n' "${summary[@]}"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
