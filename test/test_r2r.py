"""r2r (0.9.7) Rust nodes on rmw_shm_rs, exchanging std_msgs/String with rclpy in both directions.

The nodes are examples/r2r_demo (r2r_talker, r2r_listener), built once per session by
scripts/build_r2r.sh (the first build takes a few minutes, later runs only check that they are up to
date). The test skips when cargo, libclang or libpython are missing. The Rust processes get the
same environment as the rclpy nodes of the same side (the "ours" side: LD_PRELOAD of
librmw_shm_rs.so with the PyPI wheels, RMW_IMPLEMENTATION=rmw_shm_rs) and print the identifier of
the RMW they really run on, which the tests check.
"""

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Proc, _set_pdeathsig

COUNT = 30
PERIOD = 0.1


def start_bin(launcher, name, exe, *args, side='ours'):
    """Like launcher.start, for a native program: same env, log, process group and cleanup."""
    env = launcher.ros.env(side)
    env['ROS_DOMAIN_ID'] = str(launcher.domain)
    log = launcher.workdir / f'{len(launcher.procs):02d}_{name}.log'
    cmd = [str(exe), *map(str, args)]
    with open(log, 'wb') as f:
        f.write(f'$ ROS_DOMAIN_ID={launcher.domain} side={side} {" ".join(cmd)}\n'.encode())
        f.flush()
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=launcher.workdir,
                             start_new_session=True, preexec_fn=_set_pdeathsig)
    proc = Proc(name, p, log)
    launcher.procs.append(proc)
    return proc


def check_rmw(launcher, proc, name, side='ours'):
    want = launcher.ros.ids[side]
    assert f'{name}: RMW {want}' in proc.output(), f'{proc.name} did not run on {want}:\n{proc.report()}'


def heard_lines(proc):
    prefix = "I heard: '"
    return [line[len(prefix):-1] for line in proc.output().splitlines()
            if line.startswith(prefix) and line.endswith("'")]


def assert_heard(launcher, listener, expected):
    heard = heard_lines(listener)
    assert heard == expected, (
        f'listener heard {len(heard)} of {len(expected)}; first difference at '
        f'{next((i for i, (a, b) in enumerate(zip(heard, expected)) if a != b), min(len(heard), len(expected)))}'
        f'\n{launcher.reports()}')


def test_r2r_talker_to_rclpy_listener(launcher, r2r_bin):
    listener = launcher.start('rclpy_listener', 'listener.py', '--topic', '/chatter',
                              '--count', COUNT, '--watchdog', 90)
    assert launcher.wait_for_line(listener, 'listener: ready', 60), \
        f'listener did not start:\n{listener.report()}'
    launcher.check_rmw(listener)
    talker = start_bin(launcher, 'r2r_talker', r2r_bin / 'r2r_talker', '--topic', '/chatter',
                       '--count', COUNT, '--period', PERIOD, '--wait-match', 30, '--linger', 20,
                       '--watchdog', 90)
    rc_listener = launcher.wait(listener, 80)
    rc_talker = launcher.wait(talker, 30)
    check_rmw(launcher, talker, 'r2r_talker')
    assert 'r2r_talker: subscription matched' in talker.output(), talker.report()
    assert_heard(launcher, listener, [f'Hello from r2r: {i}' for i in range(1, COUNT + 1)])
    assert rc_listener == 0, listener.report()
    assert rc_talker == 0, talker.report()


def test_rclpy_talker_to_r2r_listener(launcher, r2r_bin):
    listener = start_bin(launcher, 'r2r_listener', r2r_bin / 'r2r_listener', '--topic', '/chatter',
                         '--count', COUNT, '--watchdog', 90)
    assert launcher.wait_for_line(listener, 'r2r_listener: ready', 60), \
        f'r2r listener did not start:\n{listener.report()}'
    check_rmw(launcher, listener, 'r2r_listener')
    talker = launcher.start('rclpy_talker', 'talker.py', '--topic', '/chatter', '--count', COUNT,
                            '--period', PERIOD, '--wait-match', 30, '--linger', 20, '--watchdog', 90)
    rc_listener = launcher.wait(listener, 80)
    rc_talker = launcher.wait(talker, 30)
    launcher.check_rmw(talker)
    assert 'talker: subscription matched' in talker.output(), talker.report()
    assert_heard(launcher, listener, [f'Hello World: {i}' for i in range(1, COUNT + 1)])
    assert rc_listener == 0, listener.report()
    assert rc_talker == 0, talker.report()


def test_r2r_talker_to_r2r_listener(launcher, r2r_bin):
    """Both ends in Rust (the r2r half of the launch demo)."""
    listener = start_bin(launcher, 'r2r_listener', r2r_bin / 'r2r_listener', '--count', COUNT,
                         '--watchdog', 90)
    assert launcher.wait_for_line(listener, 'r2r_listener: ready', 60), listener.report()
    check_rmw(launcher, listener, 'r2r_listener')
    talker = start_bin(launcher, 'r2r_talker', r2r_bin / 'r2r_talker', '--count', COUNT,
                       '--period', PERIOD, '--wait-match', 30, '--linger', 20, '--watchdog', 90)
    rc_listener = launcher.wait(listener, 80)
    rc_talker = launcher.wait(talker, 30)
    check_rmw(launcher, talker, 'r2r_talker')
    assert_heard(launcher, listener, [f'Hello from r2r: {i}' for i in range(1, COUNT + 1)])
    assert rc_listener == 0, listener.report()
    assert rc_talker == 0, talker.report()


def test_r2r_talker_to_stock_rclpy_listener(launcher, r2r_bin):
    """The r2r talker on rmw_shm_rs, an rclpy listener on the stock rmw_fastrtps_cpp (same host, so
    through rmw_shm_rs's DDS delegate)."""
    listener = launcher.start('rclpy_listener_fastrtps', 'listener.py', '--topic', '/chatter',
                              '--count', COUNT, '--watchdog', 90, side='fastrtps')
    assert launcher.wait_for_line(listener, 'listener: ready', 60), \
        f'listener did not start:\n{listener.report()}'
    launcher.check_rmw(listener, side='fastrtps')
    talker = start_bin(launcher, 'r2r_talker', r2r_bin / 'r2r_talker', '--topic', '/chatter',
                       '--count', COUNT, '--period', PERIOD, '--wait-match', 30, '--linger', 20,
                       '--watchdog', 90)
    rc_listener = launcher.wait(listener, 80)
    rc_talker = launcher.wait(talker, 30)
    check_rmw(launcher, talker, 'r2r_talker')
    assert 'r2r_talker: subscription matched' in talker.output(), talker.report()
    assert_heard(launcher, listener, [f'Hello from r2r: {i}' for i in range(1, COUNT + 1)])
    assert rc_listener == 0, listener.report()
    assert rc_talker == 0, talker.report()
