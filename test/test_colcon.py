"""The install prefix `colcon build` makes (issue 6): what a ROS 2 user of the workspace gets.

Runs under `colcon test` (scripts/colcon.sh; CMakeLists.txt passes RMW_SHM_RS_INSTALL_PREFIX, the
package's install prefix) and skips in the plain pytest suite (or set RMW_SHM_RS_INSTALL_PREFIX to an
install prefix by hand). Checks: the ament index entries that make
rmw_shm_rs an RMW implementation (packages, rmw_typesupport with the C and C++ type supports it
reads), lib/librmw_shm_rs.so exporting every rmw function of rmw_shm_rs/tests/rmw_exports.txt, the
library loading by itself and naming itself rmw_shm_rs, ament_index_python finding it through the
prefix, and an rclpy node started with the installed library running on rmw_shm_rs.
"""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TEST_IMPL

EXPORTS = REPO / 'rmw_shm_rs' / 'tests' / 'rmw_exports.txt'


def _prefix():
    p = os.environ.get('RMW_SHM_RS_INSTALL_PREFIX')
    if not p:
        pytest.skip('checks a colcon install prefix: runs under `colcon test` (scripts/colcon.sh)')
    return Path(p)


@pytest.fixture(scope='module')
def prefix():
    return _prefix()


def _plain_env(ros):
    """The "ours" environment without the preload (the programs here load the library themselves)."""
    env = ros.env('fastrtps')
    env.pop('RMW_IMPLEMENTATION', None)
    return env


def test_ament_index_entries(prefix):
    index = prefix / 'share' / 'ament_index' / 'resource_index'
    assert (index / 'packages' / 'rmw_shm_rs').is_file(), f'{index}/packages/rmw_shm_rs is missing'
    ts = index / 'rmw_typesupport' / 'rmw_shm_rs'
    assert ts.is_file(), f'{ts} is missing: register_rmw_implementation() did not run'
    typesupports = ts.read_text().replace(';', ' ').split()
    assert 'rosidl_typesupport_c' in typesupports and 'rosidl_typesupport_cpp' in typesupports, \
        f'{ts}: {typesupports}'
    assert (prefix / 'share' / 'rmw_shm_rs' / 'package.xml').is_file()
    assert (prefix / 'share' / 'rmw_shm_rs' / 'cmake' / 'rmw_shm_rsConfig.cmake').is_file()


def test_ament_index_python_finds_it(ros, prefix):
    env = _plain_env(ros)
    env['AMENT_PREFIX_PATH'] = f'{prefix}:{env.get("AMENT_PREFIX_PATH", "")}'.rstrip(':')
    code = ('from ament_index_python import get_resource, get_resources\n'
            'content, path = get_resource("rmw_typesupport", "rmw_shm_rs")\n'
            'print("rmw_impls", sorted(get_resources("rmw_typesupport")))\n'
            'print("path", path)\n')
    r = subprocess.run([ros.python, '-c', code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'path {prefix}' in r.stdout, r.stdout
    assert "'rmw_shm_rs'" in r.stdout, r.stdout


def test_installed_library_exports_and_identifier(ros, prefix):
    lib = prefix / 'lib' / 'librmw_shm_rs.so'
    assert lib.is_file(), f'{lib} is missing'
    want = set(EXPORTS.read_text().split())
    nm = subprocess.run(['nm', '-D', '--defined-only', str(lib)], capture_output=True, text=True)
    if nm.returncode != 0:
        pytest.skip(f'nm failed: {nm.stderr.strip()}')
    have = {line.split()[-1] for line in nm.stdout.splitlines() if line.strip()}
    assert not want - have, f'{lib} lacks {sorted(want - have)}'
    # Loads by itself (its ROS dependencies from the library path) and names itself.
    code = ('import ctypes, sys\n'
            'lib = ctypes.CDLL(sys.argv[1])\n'
            'lib.rmw_get_implementation_identifier.restype = ctypes.c_char_p\n'
            'print(lib.rmw_get_implementation_identifier().decode())\n')
    r = subprocess.run([ros.python, '-c', code, str(lib)], env=_plain_env(ros),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == 'rmw_shm_rs', r.stdout + r.stderr


def test_node_runs_on_installed_library(ros, prefix, launcher):
    if TEST_IMPL == 'fastrtps':
        pytest.skip('RMW_SHM_RS_TEST_IMPL=fastrtps')
    lib = prefix / 'lib' / 'librmw_shm_rs.so'
    extra = {}
    if ros.mode == 'pypi':
        extra['LD_PRELOAD'] = str(lib)
    else:
        extra['LD_LIBRARY_PATH'] = f'{prefix / "lib"}:{ros.env("ours").get("LD_LIBRARY_PATH", "")}'
    talker = launcher.start('talker', 'talker.py', '--count', 3, '--period', 0.05, '--linger', 0.5,
                            '--watchdog', 60, extra_env=extra)
    rc = launcher.wait(talker, 70)
    launcher.check_rmw(talker)
    assert rc == 0, talker.report()
