# Sourced by bench/run.sh, bench/remote.sh and scripts/leakcheck.sh: builds a C program against the
# PyPI wheels' rcl (headers in VENV/include/<pkg>/<pkg>, libraries in VENV/lib and their own
# dependencies in the ros_*.libs folders of LD_LIBRARY_PATH, libpython linked in because the
# *_rosidl_generator_py libraries librcl pulls in reference it: ../shared/FACTS.md).
#
#   rcl_cc <-O level> <output> <source> [-l<library>...]
#
# Needs VENV (the venv), PY (its python) and LD_LIBRARY_PATH (from target/rmw_shm_rs.env).
rcl_cc() {
  local opt="$1" out="$2" src="$3"
  shift 3
  local inc=() linkdirs=() ldp=() d pylibdir pyver
  for d in "$VENV"/include/*/; do inc+=("-I$d"); done
  IFS=: read -r -a ldp <<<"$LD_LIBRARY_PATH"
  for d in "${ldp[@]}"; do
    if [ -n "$d" ]; then linkdirs+=("-Wl,-rpath-link,$d"); fi
  done
  pylibdir="$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')"
  pyver="$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  gcc "$opt" -g -std=gnu11 -Wall -Wextra -o "$out" "$src" "${inc[@]}" \
    -L"$VENV/lib" "${linkdirs[@]}" \
    -lrcl -lrcutils -lrmw -lrosidl_runtime_c "$@" \
    -L"$pylibdir" -Wl,--no-as-needed -l"python$pyver" -Wl,--as-needed -lm
}
