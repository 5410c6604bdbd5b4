"""C++ messages as rclcpp hands them over (issue 6, item 4), both directions with rclpy.

PyPI has no rclcpp, but the wheels carry the C++ message headers and the C++ type supports.
test/cpp/echo.cpp is a small C++ program on rcl that does what rclcpp does with a message: for every
type of helpers.ALL_TYPES (std_msgs/String, sensor_msgs/Image and PointCloud2, every test_msgs
message) it subscribes to /cpp_in/<type> and publishes on /cpp_out/<type> with the
`rosidl_typesupport_cpp::get_message_type_support_handle<T>()` handle, takes each message into a real
C++ object (std::string, std::vector, std::array members; the object is reused from take to take)
and publishes that object back. test/cpp/echo_check.py (rclpy) publishes every instance (default and
random, the `instances` fixture) on /cpp_in and checks that each echo is equal to what it sent
(msgutil.compare, bit-exact): rclpy -> C++ proves the codec decodes into std::string/std::vector
members, C++ -> rclpy that it encodes from them.

  ours      both processes on rmw_shm_rs (shared memory between them)
  fastrtps  both on the stock rmw_fastrtps_cpp: checks the harness itself

The program is built with g++ at test time against the ROS headers and libraries of the env file
(`<prefix>/include/<pkg>/<pkg>/...`, `<prefix>/lib`); without g++ or the headers the tests skip.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, _set_pdeathsig
from helpers import ALL_TYPES, RANDOM_PER_TYPE

CPP_DIR = REPO / 'test' / 'cpp'
SIDES = ['ours', 'fastrtps']
TIMEOUT = 90  # receive timeout of the rclpy side (s); a passing run takes a few seconds
PACKAGES = sorted({t.split('/')[0] for t in ALL_TYPES})


def header_name(type_name):
    """'pkg/msg/PointCloud2' -> 'pkg/msg/point_cloud2.hpp' (rosidl's CamelCase -> snake_case)."""
    pkg, kind, typ = type_name.split('/')
    s = re.sub('(.)([A-Z][a-z]+)', r'\1_\2', typ)
    s = re.sub('([a-z0-9])([A-Z])', r'\1_\2', s).lower()
    return f'{pkg}/{kind}/{s}.hpp'


def _python_lib(python):
    """(LIBDIR, 'pythonX.Y') of the venv's interpreter (its shared libpython), or None."""
    code = ('import sysconfig as s, sys; print(s.get_config_var("LIBDIR") or "-"); '
            'print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
    r = subprocess.run([python, '-c', code], capture_output=True, text=True)
    words = r.stdout.split()
    if r.returncode != 0 or len(words) != 2:
        return None
    return ('' if words[0] == '-' else words[0]), words[1]


@pytest.fixture(scope='module')
def echo_program(ros, tmp_path_factory):
    if not ALL_TYPES:
        pytest.skip('no message types found (AMENT_PREFIX_PATH)')
    cxx = shutil.which(os.environ.get('CXX', 'g++')) or shutil.which('g++')
    if not cxx:
        pytest.skip('no C++ compiler (g++): cannot build test/cpp/echo.cpp')
    env = ros.env('fastrtps')
    prefix = env.get('RMW_SHM_RS_ROS_PREFIX') or env.get('RMW_SHM_RS_VENV') or \
        env.get('AMENT_PREFIX_PATH', '').split(':')[0]
    include = Path(prefix) / 'include' if prefix else None
    libdir = Path(prefix) / 'lib' if prefix else None
    missing = [h for h in ['rcl/rcl.h', 'rosidl_typesupport_cpp/message_type_support.hpp'] +
               [header_name(t) for t in ALL_TYPES]
               if not include or not any((d / h).is_file() for d in include.iterdir() if d.is_dir())]
    if missing:
        pytest.skip(f'C++ headers missing under {include}/<pkg>/: {", ".join(missing[:5])}')
    libs = [f'{p}__rosidl_typesupport_cpp' for p in PACKAGES]
    no_lib = [n for n in libs if not (libdir / f'lib{n}.so').is_file()]
    if no_lib:
        pytest.skip(f'C++ type support libraries missing in {libdir}: {", ".join(no_lib)}')
    pylib = _python_lib(ros.python)
    if pylib is None:
        pytest.skip(f'cannot ask {ros.python} where its libpython is')

    work = tmp_path_factory.mktemp('cpp_echo')
    lines = [f'#include "{header_name(t)}"' for t in ALL_TYPES]
    lines += ['#define ECHO_TYPES(X) \\']
    lines += [f'  X({t.replace("/", "::")}, "{t}") \\' for t in ALL_TYPES]
    (work / 'echo_types.hpp').write_text('\n'.join(lines) + '\n\n')
    # rmw_get_implementation_identifier: in the PyPI wheels rcl links rmw_fastrtps_cpp directly
    # (ours is preloaded over it); on a standard install it comes from rmw_implementation.
    rmw_impl = 'rmw_implementation' if (libdir / 'librmw_implementation.so').is_file() and \
        ros.mode != 'pypi' else 'rmw_fastrtps_cpp'
    rpath_link = [f'-Wl,-rpath-link,{d}' for d in env.get('LD_LIBRARY_PATH', '').split(':') if d]
    program = work / 'cpp_echo'
    cmd = [cxx, '-std=c++17', '-O1', '-g', '-Wall', '-Wextra', f'-I{work}',
           *[f'-I{d}' for d in sorted(include.iterdir()) if d.is_dir()],
           str(CPP_DIR / 'echo.cpp'), '-o', str(program), f'-L{libdir}', *rpath_link,
           '-lrcl', '-lrcutils', '-lrmw', f'-l{rmw_impl}', *[f'-l{n}' for n in libs]]
    if pylib[0]:
        cmd.append(f'-L{pylib[0]}')
    # The wheels' *__rosidl_generator_py libraries that librcl pulls in need libpython (FACTS.md).
    cmd += ['-Wl,--no-as-needed', f'-l{pylib[1]}', '-Wl,--as-needed']
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f'building the C++ echo program failed:\n$ {" ".join(cmd)}\n{r.stdout}{r.stderr}')
    print(f'built {program} in {time.monotonic() - t0:.1f} s')
    return program


def _run_echo(ros, instances_path, program, side, work):
    """Start the C++ echo on `side`, then echo_check.py on the same side; the check's results."""
    from conftest import Launcher, next_domain_id
    lau = Launcher(ros, work, next_domain_id())
    env = ros.env(side)
    env['ROS_DOMAIN_ID'] = str(lau.domain)
    log = work / f'cpp_echo_{side}.log'
    cmd = [str(program), '--timeout', str(TIMEOUT + 90)]
    with open(log, 'wb') as f:
        f.write(f'$ ROS_DOMAIN_ID={lau.domain} side={side} {" ".join(cmd)}\n'.encode())
        f.flush()
        echo = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=work, start_new_session=True,
                                preexec_fn=_set_pdeathsig)

    def echo_out():
        return log.read_text(errors='replace')

    def report():
        return f'--- C++ echo (exit {echo.poll()}), {log}:\n{echo_out()}\n{lau.reports(60)}'

    try:
        deadline = time.monotonic() + 30
        while 'cpp_echo: ready' not in echo_out() and echo.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert 'cpp_echo: ready' in echo_out(), f'the C++ echo did not start:\n{report()}'
        assert f'cpp_echo: RMW {ros.ids[side]}' in echo_out(), \
            f'the C++ echo does not run on {ros.ids[side]}:\n{report()}'
        out = work / f'echo_{side}.json'
        t0 = time.monotonic()
        check = lau.start('echo_check', str(CPP_DIR / 'echo_check.py'), '--instances', instances_path,
                          '--out', out, '--timeout', TIMEOUT, '--watchdog', TIMEOUT + 60, side=side)
        rc = lau.wait(check, TIMEOUT + 70)
        elapsed = time.monotonic() - t0
        lau.check_rmw(check, side)
        assert rc == 0 and out.exists(), f'echo_check failed (exit {rc}):\n{report()}'
        with open(out) as f:
            results = json.load(f)
        # A clean shutdown of the C++ side too.
        echo.send_signal(signal.SIGINT)
        try:
            rc_echo = echo.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc_echo = None
        assert rc_echo == 0 and 'cpp_echo: clean exit' in echo_out(), \
            f'the C++ echo did not exit cleanly ({rc_echo}):\n{report()}'
        print(f'{side}: echo round trip of {sum(r["expected"] for r in results.values())} messages '
              f'({len(results)} types) in {elapsed:.1f} s (process start included)')
        return results
    finally:
        if echo.poll() is None:
            os.killpg(echo.pid, signal.SIGKILL)
            echo.wait()
        lau.stop_all()


@pytest.fixture(scope='module')
def echo_results(ros, instances, echo_program, tmp_path_factory):
    """side -> (results, error), each side run once (lazily)."""
    cache = {}

    def get(side):
        if side not in cache:
            work = tmp_path_factory.mktemp(f'cpp_{side}')
            try:
                cache[side] = (_run_echo(ros, instances[0], echo_program, side, work), None)
            except AssertionError as e:
                cache[side] = (None, str(e))
        return cache[side]
    return get


@pytest.mark.parametrize('msg_type', ALL_TYPES)
@pytest.mark.parametrize('side', SIDES)
def test_cpp_echo_with_rclpy(echo_results, side, msg_type):
    """rclpy -> C++ (take into std::string/std::vector) -> rclpy (publish from them), equal."""
    results, error = echo_results(side)
    assert error is None, error
    r = results[msg_type]
    assert r['expected'] == 1 + RANDOM_PER_TYPE
    assert not r['problems'], f'{side} {msg_type}: echoed {r["received"]} of {r["expected"]}:\n' + \
        '\n'.join(r['problems'])
