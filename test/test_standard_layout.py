"""The standard-install layout of the remote path (issue 5), emulated on the PyPI wheels.

Every other test runs the PyPI layout: rclpy's librcl links rmw_fastrtps_cpp and ours is preloaded,
so the delegate is already in the process. On a standard ROS 2 install nothing links an RMW:
librmw_implementation loads lib$RMW_IMPLEMENTATION.so by name with rcutils_load_shared_library
(dlopen(name, RTLD_LAZY), i.e. RTLD_LOCAL) and rmw_fastrtps_cpp is loaded only by our delegate.

test/c/standard_layout.c is that process without rcl: a C program linked to no ROS library, which
loads std_msgs' C type support and librmw_shm_rs.so by name (a private copy, first on
LD_LIBRARY_PATH), then drives init, a node, a publisher, a subscription, rmw_wait,
rmw_take_with_info, rmw_get_node_names and the teardown through dlsym. Stock rclpy processes on
rmw_fastrtps_cpp (no preload, same host, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST; the delegate
talks UDP) exchange 10 std_msgs/String each way with it. Three ways to load our library:

  local       dlopen(name, RTLD_LAZY): what rcutils does; nothing exports rmw_* globally, so the
              functions rmw_fastrtps_cpp calls back through the global scope bind to its own
  global      dlopen(name, RTLD_LAZY | RTLD_GLOBAL): they bind to ours (as with LD_PRELOAD)
  dispatcher  an emulated librmw_implementation (test/c/rmw_dispatcher.c, x86_64) is in the
              global scope and loads ours RTLD_LAZY; the program calls through it and so does the
              delegate (rmw_init_options_copy, rmw_init_options_fini): the real standard layout

Each checks: no ROS library at start; rmw_fastrtps_cpp not loaded before or by loading ours, loaded
once the first endpoint exists; 10 messages each way, in order; our rmw_get_node_names lists the
stock nodes; a clean teardown. Skips without a C compiler, the ROS headers or the library.
"""

import os
import platform
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TEST_IMPL

C_DIR = REPO / 'test' / 'c'
EXPORTS = REPO / 'rmw_shm_rs' / 'tests' / 'rmw_exports.txt'
COUNT = 10
FROM_C = '/std_layout_from_c'
TO_C = '/std_layout_to_c'
NODE = 'std_layout_c'
TIMEOUT = 30  # the C program's own watchdog (s); a passing run takes about 2 s


class Built:
    def __init__(self, work, program, dispatcher, libdir, lib):
        self.work, self.program, self.dispatcher = work, program, dispatcher
        self.libdir, self.lib = libdir, lib


def _compile(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f'building {what} failed:\n$ {" ".join(map(str, cmd))}\n{r.stdout}{r.stderr}')


@pytest.fixture(scope='module')
def built(ros, tmp_path_factory):
    if TEST_IMPL == 'fastrtps':
        pytest.skip('RMW_SHM_RS_TEST_IMPL=fastrtps: the standard layout test is about rmw_shm_rs '
                    'loading rmw_fastrtps_cpp as its delegate')
    cc = shutil.which(os.environ.get('CC', 'cc')) or shutil.which('gcc')
    if not cc:
        pytest.skip('no C compiler (cc or gcc): cannot build test/c/standard_layout.c')
    env = ros.env('fastrtps')
    prefix = env.get('RMW_SHM_RS_ROS_PREFIX') or env.get('RMW_SHM_RS_VENV') or \
        (env.get('AMENT_PREFIX_PATH', '').split(':')[0])
    include = Path(prefix) / 'include' if prefix else None
    if not include or not (include / 'rmw' / 'rmw' / 'rmw.h').is_file() or \
            not (include / 'std_msgs' / 'std_msgs' / 'msg' / 'string.h').is_file():
        pytest.skip(f'no ROS headers under {include}/<pkg>/<pkg>/ (rmw, std_msgs): run '
                    'scripts/bootstrap.sh')
    lib = Path(ros.lib) if ros.lib else REPO / 'target' / 'release' / 'librmw_shm_rs.so'
    if not lib.is_file():
        pytest.skip(f'{lib} is missing: build it (scripts/bootstrap.sh)')

    work = tmp_path_factory.mktemp('standard_layout')
    # A private copy: the library is loaded by name from here, and a rebuild of target/ during
    # the run cannot change it under us.
    libdir = work / 'lib'
    libdir.mkdir()
    shutil.copy2(lib, libdir / 'librmw_shm_rs.so')

    incs = [f'-I{d}' for d in sorted(include.iterdir()) if d.is_dir()]
    program = work / 'standard_layout'
    _compile([cc, '-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', *incs,
              C_DIR / 'standard_layout.c', '-o', program, '-ldl'], 'the C program')

    dispatcher = None
    if platform.machine() in ('x86_64', 'AMD64'):
        names = [n.strip() for n in EXPORTS.read_text().split() if n.strip()]
        header = work / 'rmw_names.h'
        header.write_text('#define RMW_NAMES(X) \\\n' +
                          ''.join(f'  X({n}) \\\n' for n in names) + '\n')
        dispatcher = work / 'librmw_dispatcher_emul.so'
        _compile([cc, '-shared', '-fPIC', '-O1', '-g', '-Wall', '-Wextra', '-include', header,
                  C_DIR / 'rmw_dispatcher.c', '-o', dispatcher, '-ldl'], 'the emulated dispatcher')
    return Built(work, program, dispatcher, libdir, libdir / 'librmw_shm_rs.so')


def _lines(text, prefix):
    return [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]


def _heard(text, prefix):
    return [s[:-1] for s in _lines(text, prefix) if s.endswith("'")]


@pytest.mark.parametrize('mode', ['local', 'global', 'dispatcher'])
def test_standard_layout_talks_to_stock_rclpy(built, launcher, mode):
    if mode == 'dispatcher' and built.dispatcher is None:
        pytest.skip(f'the emulated librmw_implementation has x86_64 trampolines only '
                    f'(this is {platform.machine()})')
    listener = launcher.start('listener', 'listener.py', '--topic', FROM_C, '--count', COUNT,
                              '--watchdog', TIMEOUT, side='fastrtps')
    talker = launcher.start('talker', 'talker.py', '--topic', TO_C, '--count', COUNT,
                            '--period', 0.1, '--wait-match', 15, '--linger', 5,
                            '--watchdog', TIMEOUT, side='fastrtps')
    # Started together, the delegate's participant announces itself before the listener's
    # exists, and about one run in four the match then waits for Fast DDS's 3 s announcement
    # period (stock nodes alike); with the listener up first it matches in 0.1-0.3 s.
    assert launcher.wait_for_line(listener, 'listener: ready', 20), launcher.reports()

    env = launcher.ros.env('fastrtps')  # no preload; LD_LIBRARY_PATH of the ROS libraries
    env['RMW_IMPLEMENTATION'] = 'rmw_shm_rs'
    env['ROS_DOMAIN_ID'] = str(launcher.domain)
    env['LD_LIBRARY_PATH'] = f'{built.libdir}:{env.get("LD_LIBRARY_PATH", "")}'.rstrip(':')
    cmd = [str(built.program), '--mode', mode, '--pub-topic', FROM_C, '--sub-topic', TO_C,
           '--node', NODE, '--count', str(COUNT), '--timeout', str(TIMEOUT),
           '--expect-node', 'talker', '--expect-node', 'listener']
    if mode == 'dispatcher':
        cmd += ['--dispatcher', str(built.dispatcher)]
    log = launcher.workdir / f'c_program_{mode}.log'
    with open(log, 'wb') as f:
        f.write(f'$ ROS_DOMAIN_ID={launcher.domain} {" ".join(cmd)}\n'.encode())
        f.flush()
        c = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=launcher.workdir,
                             start_new_session=True)
    try:
        rc = c.wait(timeout=TIMEOUT + 5)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        if c.poll() is None:
            os.killpg(c.pid, signal.SIGKILL)
            c.wait()
    rc_listener = launcher.wait(listener, 15)
    rc_talker = launcher.wait(talker, 15)
    out = log.read_text(errors='replace')

    def report():
        return f'--- C program ({mode}, exit {rc}), {log}:\n{out}\n{launcher.reports()}'

    assert rc == 0, report()
    launcher.check_rmw(listener, 'fastrtps')
    launcher.check_rmw(talker, 'fastrtps')

    # (1) nothing of ROS at start; rmw_fastrtps_cpp arrives with our first endpoint, not before
    assert 'start: no ROS library loaded' in out, report()
    stages = dict(s.split(': ', 1) for s in _lines(out, 'stage '))
    assert stages.get('before_rmw_load') == 'rmw_fastrtps_cpp no', report()
    assert stages.get('after_rmw_load') == 'rmw_fastrtps_cpp no', report()
    assert stages.get('after_create_publisher', '').startswith('rmw_fastrtps_cpp loaded from '), \
        report()
    assert f'loaded librmw_shm_rs.so from {built.lib} ' in out, report()
    assert 'implementation identifier: rmw_shm_rs' in out, report()

    # where the delegate's call-backs through the global scope land
    scope = dict(s.split(' -> ', 1) for s in _lines(out, 'global scope: '))
    expected_scope = {'local': 'none', 'global': str(built.lib),
                      'dispatcher': str(built.dispatcher)}[mode]
    assert scope.get('rmw_init_options_copy', '').startswith(expected_scope), report()
    if mode == 'dispatcher':
        calls = dict(s.split(' x', 1) for s in
                     _lines(out, 'delegate call-back through the dispatcher: '))
        assert int(calls.get('rmw_init_options_copy', 0)) >= 1, \
            'rmw_fastrtps_cpp\'s rmw_init no longer calls rmw_init_options_copy through the ' \
            'global scope (see docs/remote.md):\n' + report()

    # (2) 10 messages each way, in order
    assert _heard(out, "heard: '") == [f'Hello World: {i}' for i in range(1, COUNT + 1)], report()
    assert rc_listener == 0, report()
    assert _heard(listener.output(), "I heard: '") == \
        [f'Hello from C: {i}' for i in range(1, COUNT + 1)], report()
    assert rc_talker == 0, report()

    # (3) the stock nodes in our graph
    nodes = _lines(out, 'nodes: ')
    assert nodes, report()
    names = nodes[-1].split()
    for n in (f'/{NODE}', '/talker', '/listener'):
        assert n in names, report()
    assert f'RESULT ok sent={COUNT} received={COUNT}' in out, report()
