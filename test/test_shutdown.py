"""Shutdown (issue 7) through rclpy, each test with a shared-memory file prefix of its own
(shm_isolation.py), so "nothing left behind" is checked on exactly the files its processes made:

- SIGINT while an rclpy talker and an rclpy listener block in rclpy.spin (rmw_wait): both leave the
  spin, shut down and exit 0, in either order, and leave no file in /dev/shm or /tmp/iceoryx2 but
  iceoryx2's by-design 16-byte global counter.
- rclpy.shutdown() while a node still has a publisher, subscription, service, client, timer and
  guard condition; then every entity destroyed twice, destroy_node twice, rclpy.shutdown twice
  more (rclpy's RuntimeError), and a second rclpy.init that works in the same process: no crash,
  exit 0, nothing left behind.
"""

import os
import signal
import time

import pytest

import shm_isolation as iso
from conftest import TEST_IMPL

OURS = TEST_IMPL != 'fastrtps'


def assert_nothing_left(prefix, launcher):
    if OURS:
        left = iso.leftovers(prefix)
        assert left == [], f'left behind: {left}\n{launcher.reports()}'


def assert_clean_output(proc):
    out = proc.output()
    for bad in ('Traceback', 'panicked', 'Segmentation fault', 'core dumped', 'WATCHDOG'):
        assert bad not in out, proc.report()


@pytest.mark.parametrize('first', ['listener', 'talker'])
def test_sigint_during_spin(launcher, tmp_path, first):
    prefix = iso.isolate(tmp_path, 'sig')
    try:
        listener = launcher.start('listener', 'shutdown_worker.py', 'spin', '--role', 'listener',
                                  '--watchdog', 90)
        assert launcher.wait_for_line(listener, 'listener: ready', 60), listener.report()
        talker = launcher.start('talker', 'shutdown_worker.py', 'spin', '--role', 'talker',
                                '--watchdog', 90)
        # Five messages heard (whichever: a late match misses the first ticks).
        deadline = time.monotonic() + 60
        while listener.output().count("heard: 'tick ") < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.output().count("heard: 'tick ") >= 5, launcher.reports()
        procs = {'listener': listener, 'talker': talker}
        order = [first, 'talker' if first == 'listener' else 'listener']
        for name in order:
            p = procs[name]
            os.killpg(p.popen.pid, signal.SIGINT)
            rc = launcher.wait(p, 20)
            assert rc == 0, p.report()
            assert f'{name}: interrupted (' in p.output(), p.report()
            assert f'{name}: exiting' in p.output(), p.report()
            launcher.check_rmw(p)
            assert_clean_output(p)
        assert_nothing_left(prefix, launcher)
    finally:
        launcher.stop_all()
        iso.remove(prefix)


def test_shutdown_with_live_entities_then_double_destroy(launcher, tmp_path):
    prefix = iso.isolate(tmp_path, 'tdn')
    try:
        p = launcher.start('teardown', 'shutdown_worker.py', 'teardown', '--watchdog', 90)
        rc = launcher.wait(p, 100)
        out = p.output()
        assert rc == 0, p.report()
        launcher.check_rmw(p)
        assert_clean_output(p)
        assert 'teardown: first roundtrip True' in out, p.report()
        assert 'teardown: shutdown with live entities -> None' in out, p.report()
        steps = [line for line in out.splitlines() if line.startswith('teardown: ')]
        raised = [s for s in steps if ' raised ' in s]
        # Only rclpy's own refusal to shut a finished context down again.
        assert raised == [
            'teardown: shutdown #2 raised RuntimeError: Context must be initialized before it can '
            'be shutdown',
            'teardown: shutdown #3 raised RuntimeError: Context must be initialized before it can '
            'be shutdown'], p.report()
        for ent in ('pub', 'sub', 'srv', 'cli', 'timer', 'gc'):
            # The second destroy finds nothing to destroy.
            assert f'teardown: destroy {ent} #2 -> False' in out, p.report()
        assert 'teardown: destroy_node #2 -> None' in out, p.report()
        assert 'teardown: second roundtrip True' in out, p.report()
        assert 'teardown: OK' in out, p.report()
        assert_nothing_left(prefix, launcher)
    finally:
        launcher.stop_all()
        iso.remove(prefix)
