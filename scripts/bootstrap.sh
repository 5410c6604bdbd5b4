#!/usr/bin/env bash
# Sets up everything rmw_shm_rs needs on this machine, builds the library and writes a sourceable
# environment file (target/rmw_shm_rs.env; target/rmw_shm_rs-<distro>.env for a distro other than
# Kilted). Idempotent: a second run only rebuilds what changed.
#
# Distro: RMW_SHM_RS_DISTRO=kilted|jazzy (default: ROS_DISTRO of a sourced install, else kilted).
# Each distro has its own venv, cargo target dir (target/ for Kilted, target/<distro>/ otherwise:
# the bindings differ, so the builds must not share one) and env file, so both can coexist.
#
# Two modes:
#   ros   - a standard ROS 2 install is sourced (ROS_DISTRO set and a prefix in AMENT_PREFIX_PATH has
#           lib/librmw_implementation.so). It is used as it is: no venv, no LD_PRELOAD, nothing in it
#           is modified. RMW_IMPLEMENTATION=rmw_shm_rs selects the library at run time.
#   pypi  - otherwise: a venv with the ROS 2 <distro> wheels from PyPI is created (or reused) at
#           ${RMW_SHM_RS_VENV:-$HOME/.cache/rmw_shm_rs/venv-<distro>}. Those wheels link rmw_fastrtps_cpp
#           directly, so the env file preloads librmw_shm_rs.so (LD_PRELOAD).
#
# Environment knobs: RMW_SHM_RS_VENV (venv path), RMW_SHM_RS_ROS_PREFIX (ROS prefix for the build),
# RMW_SHM_RS_SKIP_BUILD=1 (only prepare the environment), RMW_SHM_RS_BOOTSTRAP_VERBOSE=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERBOSE="${RMW_SHM_RS_BOOTSTRAP_VERBOSE:-0}"

DISTRO="${RMW_SHM_RS_DISTRO:-}"
if [ -z "$DISTRO" ]; then
  if [ -n "${ROS_DISTRO:-}" ] && [ -n "${AMENT_PREFIX_PATH:-}" ]; then DISTRO="$ROS_DISTRO"; else DISTRO=kilted; fi
fi
# Kilted keeps the historical paths (target/, target/rmw_shm_rs.env); other distros get their own.
if [ "$DISTRO" = kilted ]; then
  TARGET_DIR="$REPO/target"
  ENV_FILE="$REPO/target/rmw_shm_rs.env"
else
  TARGET_DIR="$REPO/target/$DISTRO"
  ENV_FILE="$REPO/target/rmw_shm_rs-$DISTRO.env"
fi
LIB="$TARGET_DIR/release/librmw_shm_rs.so"

# The wheels, pinned to the versions the project is tested with.
case "$DISTRO" in
  kilted)
    PIP_REQUIREMENTS=(
      "ros-rclpy==9.1.2"
      "ros-std-msgs==5.5.1"
      "ros-test-msgs==2.3.0"
      "ros-sensor-msgs==5.5.1"
      "ros-geometry-msgs==5.5.1"
      "ros-rmw-fastrtps-cpp==9.3.3"
      "ros-wheels-bootstrapper==0.1.2"
      "pytest>=8,<10"
    )
    ;;
  jazzy)
    # Meta packages that pin ros-rclpy 7.1.6, ros-rcl 9.2.8, ros-rmw 7.3.2, ...
    PIP_REQUIREMENTS=(
      "ros-jazzy-rclpy==7.1.6"
      "ros-jazzy-std-msgs==5.3.6"
      "ros-jazzy-test-msgs==2.0.3"
      "ros-jazzy-sensor-msgs==5.3.6"
      "ros-jazzy-geometry-msgs==5.3.6"
      "ros-jazzy-rmw-fastrtps-cpp==8.4.3"
      "ros-wheels-bootstrapper==0.1.2"
      "pytest>=8,<10"
    )
    ;;
  *)
    PIP_REQUIREMENTS=()
    ;;
esac

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# Runs a command quietly; on failure shows its output (the last 60 lines) and stops.
run_quiet() {
  local log
  log="$(mktemp -t rmw_shm_rs_bootstrap.XXXXXX)"
  if [ "$VERBOSE" = 1 ]; then
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
  else
    local rc=0
    "$@" >"$log" 2>&1 || rc=$?
  fi
  if [ "$rc" -ne 0 ]; then
    printf 'bootstrap: command failed (exit %s): %s\n' "$rc" "$*" >&2
    tail -n 60 "$log" >&2
    rm -f "$log"
    exit "$rc"
  fi
  rm -f "$log"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (install it by hand, or run as root)"
  fi
}

# ---------------------------------------------------------------------------------------------
# 1. Which ROS 2?
# ---------------------------------------------------------------------------------------------
MODE=pypi
ROS_PREFIX=""
if [ -n "${ROS_DISTRO:-}" ] && [ -n "${AMENT_PREFIX_PATH:-}" ]; then
  IFS=: read -r -a _prefixes <<<"$AMENT_PREFIX_PATH"
  for p in "${_prefixes[@]}"; do
    if [ -e "$p/lib/librmw_implementation.so" ]; then
      MODE=ros
      ROS_PREFIX="$p"
      break
    fi
  done
fi
if [ "$MODE" = ros ]; then
  step "Using the sourced ROS 2 $ROS_DISTRO at $ROS_PREFIX (runtime RMW selection, no preload)"
else
  [ "${#PIP_REQUIREMENTS[@]}" -gt 0 ] || die "RMW_SHM_RS_DISTRO=$DISTRO: only kilted and jazzy have PyPI wheels"
  VENV="${RMW_SHM_RS_VENV:-$HOME/.cache/rmw_shm_rs/venv-$DISTRO}"
  step "No sourced ROS 2 with runtime RMW selection: using the PyPI $DISTRO wheels in $VENV"
fi

# ---------------------------------------------------------------------------------------------
# 2. System packages (apt), only what is missing.
# ---------------------------------------------------------------------------------------------
step "Checking system packages"
missing=()
dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if ! dpkg_installed libclang-dev && ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1; then
  missing+=(libclang-dev)
fi
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "$MODE" = pypi ]; then
  # `python3 -m venv` needs ensurepip, which Debian ships separately.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
else
  python3 -c 'import pytest' >/dev/null 2>&1 || missing+=(python3-pytest)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: install them by hand"
  info "installing with apt-get: ${missing[*]}"
  run_quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  run_quiet as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  info "all present (libclang-dev, cmake, python3)"
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || die "cargo not found: install a Rust toolchain (rustup) first"
fi

# ---------------------------------------------------------------------------------------------
# 3. The Python venv with the wheels (pypi mode only).
# ---------------------------------------------------------------------------------------------
if [ "$MODE" = pypi ]; then
  PY="$VENV/bin/python"
  MARKER="$VENV/.rmw_shm_rs_requirements"
  want="$(printf '%s\n' "${PIP_REQUIREMENTS[@]}")"
  if [ ! -x "$PY" ]; then
    step "Creating the venv"
    mkdir -p "$(dirname "$VENV")"
    run_quiet python3 -m venv "$VENV"
  fi
  if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ]; then
    info "venv packages up to date ($MARKER)"
  else
    step "Installing the ROS 2 $DISTRO wheels and pytest into the venv (pip, about 10-30 s)"
    # The bootstrapper .pth re-executes python; the guard keeps pip a single process.
    run_quiet env _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 "$PY" -m pip install -q --disable-pip-version-check \
      "${PIP_REQUIREMENTS[@]}"
    printf '%s\n' "$want" >"$MARKER"
  fi
  ROS_PREFIX="$VENV"
  SITE="$VENV/lib/python3.11/site-packages"
  if [ ! -d "$SITE" ]; then
    for d in "$VENV"/lib/python3.*/site-packages; do SITE="$d"; break; done
  fi
  LDPATH="$VENV/lib"
  for d in "$SITE"/ros_*.libs; do
    [ -d "$d" ] && LDPATH="$LDPATH:$d"
  done
  [ -e "$VENV/lib/librmw_fastrtps_cpp.so" ] || die "the venv has no librmw_fastrtps_cpp.so: pip install failed?"
else
  PY="$(command -v python3)"
fi

# ---------------------------------------------------------------------------------------------
# 4. Build the library.
# ---------------------------------------------------------------------------------------------
BUILD_PREFIX="${RMW_SHM_RS_ROS_PREFIX:-$ROS_PREFIX}"
if [ "${RMW_SHM_RS_SKIP_BUILD:-0}" != 1 ]; then
  step "Building librmw_shm_rs.so (cargo build --release, against $BUILD_PREFIX, into $TARGET_DIR)"
  start=$(date +%s)
  (
    cd "$REPO"
    # The same values the env file sets, so that later cargo runs (scripts/test.sh) with the env
    # file sourced do not re-run build.rs.
    export RMW_SHM_RS_ROS_PREFIX="$BUILD_PREFIX"
    export CARGO_TARGET_DIR="$TARGET_DIR"
    if [ "$MODE" = pypi ]; then
      export AMENT_PREFIX_PATH="$VENV"
    fi
    if [ "$VERBOSE" = 1 ]; then
      cargo build --release
    else
      cargo build --release --quiet
    fi
  ) || die "cargo build --release failed"
  [ -f "$LIB" ] || die "cargo build finished but $LIB is missing"
  info "built $LIB in $(( $(date +%s) - start )) s"
fi

# ---------------------------------------------------------------------------------------------
# 5. The env file.
# ---------------------------------------------------------------------------------------------
step "Writing $ENV_FILE"
mkdir -p "$REPO/target"
tmp="$ENV_FILE.tmp.$$"
{
  echo "# Generated by scripts/bootstrap.sh ($(date -u +%Y-%m-%dT%H:%M:%SZ)); source it: . $ENV_FILE"
  echo "export RMW_SHM_RS_MODE=$MODE"
  echo "export RMW_SHM_RS_DISTRO=$DISTRO"
  echo "# The cargo target dir of this distro's build (set CARGO_TARGET_DIR to it for cargo runs)."
  echo "export RMW_SHM_RS_TARGET_DIR='$TARGET_DIR'"
  echo "export RMW_SHM_RS_LIB='$LIB'"
  echo "export RMW_SHM_RS_PYTHON='$PY'"
  echo "export RMW_IMPLEMENTATION=rmw_shm_rs"
  echo "# The ROS prefix whose headers build.rs binds (build time only)."
  echo "export RMW_SHM_RS_ROS_PREFIX='$BUILD_PREFIX'"
  if [ "$MODE" = pypi ]; then
    echo "export RMW_SHM_RS_VENV='$VENV'"
    echo "export VIRTUAL_ENV='$VENV'"
    echo "export AMENT_PREFIX_PATH='$VENV'"
    echo "export CMAKE_PREFIX_PATH='$VENV'\${CMAKE_PREFIX_PATH:+:\$CMAKE_PREFIX_PATH}"
    echo "export LD_LIBRARY_PATH='$LDPATH'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
    echo "# The wheels' ros_wheels_bootstrapper.pth would re-execute python to set LD_LIBRARY_PATH: done here."
    echo "export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1"
    echo "export PATH='$VENV/bin'\${PATH:+:\$PATH}"
    echo "# The wheels link rmw_fastrtps_cpp directly (no librmw_implementation.so): preload ours."
    echo "export LD_PRELOAD='$LIB'\${LD_PRELOAD:+:\$LD_PRELOAD}"
  else
    echo "# rmw_implementation dlopens librmw_shm_rs.so from the library path."
    echo "export LD_LIBRARY_PATH='$TARGET_DIR/release'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  fi
} >"$tmp"
mv "$tmp" "$ENV_FILE"

if [ -f "$LIB" ]; then
  n=$( (nm -D --defined-only "$LIB" 2>/dev/null || true) | awk '$3 ~ /^rmw_/ {print $3}' | sort -u | wc -l)
  info "librmw_shm_rs.so exports $n rmw_* functions"
fi
step "Ready: source $ENV_FILE (mode: $MODE, distro: $DISTRO)"
