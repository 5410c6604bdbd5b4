#!/usr/bin/env bash
# Builds the r2r (0.9.7) demo nodes in examples/r2r_demo: r2r_talker and r2r_listener
# (std_msgs/msg/String on /chatter). Idempotent: a second run only checks that they are up to date.
#
#   scripts/build_r2r.sh            # prints the directory of the binaries on its last line
#
# It needs cargo, libclang (bindgen) and the environment of scripts/bootstrap.sh
# (target/rmw_shm_rs.env, or RMW_SHM_RS_ENV_FILE). Exit code 3 means a prerequisite is missing
# (the message says which); the tests skip on it.
#
# r2r 0.9.7 on the PyPI (Kilted) wheels needs four things that this script arranges:
#   - ROS_DISTRO=jazzy: r2r knows no "kilted" (the rcl API it binds is the same here);
#   - librmw_implementation.so, which r2r links (-lrmw_implementation) and the wheels lack: a
#     symlink to librmw_fastrtps_cpp.so in a private directory (examples/r2r_demo/target/shim),
#     added to the link path only. Its SONAME is librmw_fastrtps_cpp.so, so the binaries need no
#     shim at run time; LD_PRELOAD=librmw_shm_rs.so + RMW_IMPLEMENTATION=rmw_shm_rs (the env file)
#     put them on rmw_shm_rs, exactly like the rclpy nodes. Nothing in the venv is changed;
#   - libpython linked into the binaries (examples/r2r_demo/build.rs): r2r links the wheels'
#     <pkg>__rosidl_generator_py.so libraries, which use libpython without recording it;
#   - IDL_PACKAGE_FILTER=std_msgs: bindings only for std_msgs (+ what r2r itself needs).
# With a sourced standard ROS install (env file mode "ros") the install is used as it is.
#
# Knobs: R2R_DEMO_PROFILE=release|debug (default release), R2R_DEMO_VERBOSE=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEMO="$REPO/examples/r2r_demo"
ENV_FILE="${RMW_SHM_RS_ENV_FILE:-$REPO/target/rmw_shm_rs.env}"
PROFILE="${R2R_DEMO_PROFILE:-release}"
# One target directory per ROS distro (the bindings are generated from that distro's headers).
case "${RMW_SHM_RS_DISTRO:-kilted}" in
  kilted) export CARGO_TARGET_DIR="$DEMO/target" ;;
  *) export CARGO_TARGET_DIR="$DEMO/target-${RMW_SHM_RS_DISTRO}" ;;
esac
BIN_DIR="$CARGO_TARGET_DIR/$PROFILE"

missing() { printf 'build_r2r: missing prerequisite: %s\n' "$*" >&2; exit 3; }
die() { printf 'build_r2r: error: %s\n' "$*" >&2; exit 1; }

command -v cargo >/dev/null 2>&1 || missing "cargo (a Rust toolchain, https://rustup.rs)"
if [ -z "${LIBCLANG_PATH:-}" ] && ! ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* \
    >/dev/null 2>&1; then
  missing "libclang (apt-get install libclang-dev, or set LIBCLANG_PATH); r2r runs bindgen"
fi
[ -f "$ENV_FILE" ] || missing "$ENV_FILE (run scripts/bootstrap.sh first)"

# The ROS environment of the project, without the preload (cargo, rustc and the build scripts
# are no ROS processes).
set -a
# shellcheck disable=SC1090
. "$ENV_FILE"
set +a
unset LD_PRELOAD RMW_IMPLEMENTATION

MODE="${RMW_SHM_RS_MODE:-pypi}"
RUSTFLAGS_EXTRA=()
if [ "$MODE" = pypi ]; then
  PREFIX="${RMW_SHM_RS_VENV:?RMW_SHM_RS_VENV not set in $ENV_FILE}"
  [ -f "$PREFIX/lib/librmw_fastrtps_cpp.so" ] || die "$PREFIX/lib/librmw_fastrtps_cpp.so not found"
  [ -d "$PREFIX/include/std_msgs" ] || die "$PREFIX has no std_msgs headers (ros-std-msgs wheel)"
  SHIM="$CARGO_TARGET_DIR/shim"
  mkdir -p "$SHIM"
  ln -sfn "$PREFIX/lib/librmw_fastrtps_cpp.so" "$SHIM/librmw_implementation.so"
  RUSTFLAGS_EXTRA+=(-L "native=$SHIM")
  # libpython: the wheels' <pkg>__rosidl_generator_py.so (which r2r links) need it (build.rs).
  PY="${RMW_SHM_RS_PYTHON:-$PREFIX/bin/python}"
  R2R_DEMO_LIBPYTHON="$("$PY" -c 'import os, sysconfig as s
d = s.get_config_var("LIBDIR") or ""
for n in (s.get_config_var("INSTSONAME"), s.get_config_var("LDLIBRARY")):
    if n and n.endswith((".so", ".so.1.0")) and os.path.exists(os.path.join(d, n)):
        print(os.path.join(d, n)); break')" || true
  [ -n "$R2R_DEMO_LIBPYTHON" ] || missing "the shared libpython of $PY (e.g. apt-get install libpython3-dev)"
  export R2R_DEMO_LIBPYTHON
  export ROS_DISTRO=jazzy
  export AMENT_PREFIX_PATH="$PREFIX"
  export CMAKE_PREFIX_PATH="$PREFIX"
else
  [ -n "${ROS_DISTRO:-}" ] || die "ROS_DISTRO is not set (source your ROS install)"
  case "$ROS_DISTRO" in
    kilted) export ROS_DISTRO=jazzy ;;  # r2r 0.9.7 does not know kilted
  esac
fi
export IDL_PACKAGE_FILTER="${IDL_PACKAGE_FILTER:-std_msgs}"
# Keep RUSTFLAGS fixed so that cargo's cache stays valid from one run to the next.
RUSTFLAGS="${RUSTFLAGS_EXTRA[*]:-}"
export RUSTFLAGS

cargo_args=(build --manifest-path "$DEMO/Cargo.toml" --bins)
[ "$PROFILE" = release ] && cargo_args+=(--release)
[ "${R2R_DEMO_VERBOSE:-0}" = 1 ] || cargo_args+=(--quiet)

t0=$(date +%s)
echo "==> cargo build of examples/r2r_demo ($PROFILE, ROS_DISTRO=$ROS_DISTRO," \
  "IDL_PACKAGE_FILTER=$IDL_PACKAGE_FILTER; the first build takes a few minutes)"
log="$(mktemp -t r2r_demo_build.XXXXXX)"
if ! cargo "${cargo_args[@]}" >"$log" 2>&1; then
  tail -n 80 "$log" >&2
  rm -f "$log"
  die "cargo build failed (R2R_DEMO_VERBOSE=1 shows everything)"
fi
[ "${R2R_DEMO_VERBOSE:-0}" = 1 ] && cat "$log"
rm -f "$log"
for b in r2r_talker r2r_listener; do
  [ -x "$BIN_DIR/$b" ] || die "$BIN_DIR/$b was not built"
done
echo "    built in $(( $(date +%s) - t0 )) s: $BIN_DIR/r2r_talker, $BIN_DIR/r2r_listener"
echo "$BIN_DIR"
