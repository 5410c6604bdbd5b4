#!/usr/bin/env bash
# Builds and tests rmw_shm_rs the way a ROS 2 user does: `colcon build` and `colcon test` in a
# workspace that contains this repository, then checks the install prefix.
#
#   scripts/colcon.sh            workspace target/colcon_ws (src/rmw_shm_rs -> this repository)
#
# Idempotent: the first run installs colcon and the ament_cmake wheels (pip, about 20 s); later runs
# reuse the workspace, and cargo builds in the repository's target/ (incremental, shared with
# scripts/bootstrap.sh), so a second run takes about a minute, most of it the tests.
#
# Where the ROS 2 comes from is what scripts/bootstrap.sh chose (target/rmw_shm_rs.env; it runs
# first when that file is missing):
#   pypi  the venv with the ROS 2 wheels: the ament_cmake wheels are added to it (ros-ament-* only,
#         pinned to its distro); colcon itself goes into a venv of its own
#         (${RMW_SHM_RS_COLCON_VENV:-~/.cache/rmw_shm_rs/venv-colcon}) so that its pytest plugins
#         stay out of the ROS venv.
#   ros   a sourced standard ROS 2 install: its ament_cmake, and `colcon` from PATH if there is one.
#
# Knobs: RMW_SHM_RS_COLCON_WS (workspace), RMW_SHM_RS_COLCON_TESTS (CTest regex of the tests
# `colcon test` runs, default '^(colcon|talker_listener)$'; '.' runs every test file),
# RMW_SHM_RS_COLCON_CARGO_TARGET_DIR (default: the repository's target/; empty: the build directory).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="$REPO/target/rmw_shm_rs.env"
WS="${RMW_SHM_RS_COLCON_WS:-$REPO/target/colcon_ws}"
TESTS="${RMW_SHM_RS_COLCON_TESTS:-^(colcon|talker_listener)\$}"
CARGO_DIR="${RMW_SHM_RS_COLCON_CARGO_TARGET_DIR-$REPO/target}"
COLCON_VENV="${RMW_SHM_RS_COLCON_VENV:-$HOME/.cache/rmw_shm_rs/venv-colcon}"
t0=$(date +%s)

# colcon and its extensions (pinned; the versions tested).
COLCON_REQUIREMENTS=(
  "colcon-common-extensions==0.3.0"
  "colcon-core==0.21.3"
  "colcon-cmake==0.2.30"
  "colcon-ros==0.5.0"
  "colcon-test-result==0.3.8"
)

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'colcon.sh: error: %s\n' "$*" >&2; exit 1; }

# Runs a command quietly; on failure shows the end of its output and stops.
run_quiet() {
  local log rc=0
  log="$(mktemp -t rmw_shm_rs_colcon.XXXXXX)"
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf 'colcon.sh: command failed (exit %s): %s\n' "$rc" "$*" >&2
    tail -n 60 "$log" >&2
  fi
  rm -f "$log"
  return "$rc"
}

# pip install into a venv unless its marker already lists exactly these requirements.
pip_install() {
  local venv="$1" marker="$2" want
  shift 2
  want="$(printf '%s\n' "$@")"
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then
    info "up to date ($marker)"
    return 0
  fi
  # The ROS wheels' bootstrapper .pth re-executes python; the guard keeps pip a single process.
  run_quiet env _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$venv/bin/python" -m pip install -q \
    --disable-pip-version-check "$@" || die "pip install into $venv failed"
  printf '%s\n' "$want" >"$marker"
}

# ---------------------------------------------------------------------------------------------
# 1. The environment scripts/bootstrap.sh set up.
# ---------------------------------------------------------------------------------------------
if [ ! -f "$ENV_FILE" ]; then
  step "No $ENV_FILE: running scripts/bootstrap.sh"
  "$REPO/scripts/bootstrap.sh" || die "bootstrap failed"
fi
# shellcheck disable=SC1090
. "$ENV_FILE"
# The preload is for ROS processes only; the tests add it to the nodes they start.
unset LD_PRELOAD
MODE="${RMW_SHM_RS_MODE:-pypi}"
command -v cargo >/dev/null 2>&1 || { [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"; }

# ---------------------------------------------------------------------------------------------
# 2. colcon and ament_cmake.
# ---------------------------------------------------------------------------------------------
COLCON=""
if [ "$MODE" = pypi ]; then
  VENV="${RMW_SHM_RS_VENV:?the env file names no venv}"
  # The ament_cmake wheels of the venv's distro (told by its rclpy: 9.x Kilted, 7.x Jazzy).
  rclpy_version="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ros-rclpy"))')"
  case "$rclpy_version" in
    9.*) distro=kilted; AMENT=(
           "ros-ament-cmake==2.7.3" "ros-ament-cmake-pytest==2.7.3"
           "ros-ament-cmake-include-directories==2.7.3" "ros-ament-package==0.17.2"
           "ros-ament-cmake-ros-core==0.14.5" "catkin-pkg==1.1.1") ;;
    7.*) distro=jazzy; AMENT=(
           "ros-ament-cmake==2.5.4" "ros-ament-cmake-pytest==2.5.4"
           "ros-ament-cmake-include-directories==2.5.4" "ros-ament-package==0.16.4" "catkin-pkg==1.1.1") ;;
    *) die "the venv's ros-rclpy $rclpy_version is neither Kilted (9.x) nor Jazzy (7.x)" ;;
  esac
  step "ament_cmake wheels for $distro in $VENV"
  pip_install "$VENV" "$VENV/.rmw_shm_rs_colcon_requirements" "${AMENT[@]}"
  export CMAKE_PREFIX_PATH="$VENV"
  export AMENT_PREFIX_PATH="$VENV"
fi
if [ "$MODE" = ros ] && command -v colcon >/dev/null 2>&1; then
  COLCON="$(command -v colcon)"
else
  step "colcon in $COLCON_VENV"
  if [ ! -x "$COLCON_VENV/bin/python" ]; then
    mkdir -p "$(dirname "$COLCON_VENV")"
    run_quiet python3 -m venv "$COLCON_VENV" || die "cannot create $COLCON_VENV"
  fi
  pip_install "$COLCON_VENV" "$COLCON_VENV/.rmw_shm_rs_requirements" "${COLCON_REQUIREMENTS[@]}"
  COLCON="$COLCON_VENV/bin/colcon"
fi
# CMake's python (ament_cmake runs python scripts that import ament_package) is the first python3
# on PATH: the ROS venv's (the env file put it first), not colcon's.
info "python3 for CMake: $(command -v python3)"

# ---------------------------------------------------------------------------------------------
# 3. The workspace: src/rmw_shm_rs is a symlink to this repository.
# ---------------------------------------------------------------------------------------------
step "Workspace $WS"
mkdir -p "$WS/src"
if [ "$(readlink "$WS/src/rmw_shm_rs" 2>/dev/null || true)" != "$REPO" ]; then
  rm -rf "$WS/src/rmw_shm_rs"
  ln -s "$REPO" "$WS/src/rmw_shm_rs"
fi
cd "$WS"
pkgs="$("$COLCON" list --names-only --base-paths src)"
[ "$pkgs" = rmw_shm_rs ] || die "colcon finds these packages in $WS/src, expected only rmw_shm_rs: $pkgs"
info "colcon finds one package: rmw_shm_rs"

# ---------------------------------------------------------------------------------------------
# 4. colcon build, colcon test.
# ---------------------------------------------------------------------------------------------
cmake_args=(-DBUILD_TESTING=ON)
[ -n "$CARGO_DIR" ] && cmake_args+=("-DRMW_SHM_RS_CARGO_TARGET_DIR=$CARGO_DIR")
step "colcon build (cargo target dir: ${CARGO_DIR:-the build directory})"
s=$(date +%s)
"$COLCON" build --base-paths src --event-handlers console_cohesion+ console_stderr- \
  --cmake-args "${cmake_args[@]}" || die "colcon build failed (logs: $WS/log/latest_build)"
info "colcon build took $(( $(date +%s) - s )) s"

step "Checking the install prefix"
P="$WS/install/rmw_shm_rs"
for f in lib/librmw_shm_rs.so \
         share/ament_index/resource_index/packages/rmw_shm_rs \
         share/ament_index/resource_index/rmw_typesupport/rmw_shm_rs \
         share/rmw_shm_rs/package.xml \
         share/rmw_shm_rs/cmake/rmw_shm_rsConfig.cmake; do
  [ -e "$P/$f" ] || die "$P/$f is missing"
  info "ok $f"
done
# What a user does next: source the workspace, select the RMW.
(
  set +u
  # shellcheck disable=SC1091
  . "$WS/install/setup.bash"
  set -u
  RMW_IMPLEMENTATION=rmw_shm_rs python3 -c '
import os
from ament_index_python import get_resource
content, prefix = get_resource("rmw_typesupport", os.environ["RMW_IMPLEMENTATION"])
print("    ament index: rmw_typesupport/rmw_shm_rs in", prefix, "->", " ".join(content.split()))
'
) || die "after sourcing $WS/install/setup.bash, ament_index_python does not find rmw_shm_rs"

step "colcon test (CTest tests matching $TESTS)"
s=$(date +%s)
rc=0
touch "$WS/.test_started"
"$COLCON" test --base-paths src --event-handlers console_cohesion+ console_stderr- \
  --ctest-args -R "$TESTS" || rc=$?
info "colcon test took $(( $(date +%s) - s )) s"
"$COLCON" test-result --test-result-base build/rmw_shm_rs --verbose || rc=1
# colcon test-result counts only what wrote a result file: make sure the tests did run.
n=$(find build/rmw_shm_rs/test_results -name '*.xml' -newer "$WS/.test_started" 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "colcon.sh: colcon test wrote no test results" >&2; rc=1; }
[ "$rc" -eq 0 ] || die "colcon test failed (logs: $WS/log/latest_test, results: $WS/build/rmw_shm_rs/test_results)"
step "colcon build + colcon test OK ($(( $(date +%s) - t0 )) s in all)"
