"""The `rmw_shm_rs` command-line tool (target/release/rmw_shm_rs, docs/cli.md) against a running rclpy
talker/listener pair: `graph` lists both nodes, the /chatter pair and its path, `hz` measures the
talker's rate, and `clean` removes what a SIGKILLed node left in shared memory."""

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, TEST_IMPL

CLI = Path(os.environ.get('RMW_SHM_RS_TARGET_DIR') or REPO / 'target') / 'release' / 'rmw_shm_rs'
PERIOD = 0.1  # talker: 10 Hz

pytestmark = pytest.mark.skipif(TEST_IMPL == 'fastrtps',
                                reason='the CLI only sees rmw_shm_rs processes')


def run_cli(launcher, *args, timeout=30):
    if not CLI.is_file():
        pytest.fail(f'{CLI} is missing: build it (scripts/bootstrap.sh runs cargo build --release)')
    env = launcher.ros.env('ours')
    env.pop('LD_PRELOAD', None)  # the tool links the library itself
    env['ROS_DOMAIN_ID'] = str(launcher.domain)
    out = subprocess.run([str(CLI), *map(str, args)], env=env, capture_output=True, text=True,
                         timeout=timeout, stdin=subprocess.DEVNULL)
    return out


def node_pid(graph_out, node):
    """The pid of the process holding `node`, from `rmw_shm_rs graph` output."""
    pid = None
    for line in graph_out.splitlines():
        m = re.match(r'process (\d+) ', line)
        if m:
            pid = int(m.group(1))
        elif line.strip().startswith(f'node {node} '):
            return pid
    return None


def iox2_files_of(pid):
    """The iceoryx2 shared-memory files a live process has mapped (without the global management
    file that iceoryx2 keeps by design)."""
    files = set()
    with open(f'/proc/{pid}/maps') as f:
        for line in f:
            m = re.search(r'(/dev/shm/iox2_\S+)', line)
            if m and not m.group(1).endswith('global_mgmt'):
                files.add(m.group(1))
    return files


def test_cli_graph_hz_clean(launcher):
    listener = launcher.start('listener', 'listener.py', '--watchdog', 120)
    assert launcher.wait_for_line(listener, 'listener: ready', 60), listener.report()
    launcher.check_rmw(listener)
    talker = launcher.start('talker', 'talker.py', '--period', PERIOD, '--wait-match', 60,
                            '--watchdog', 120)
    assert launcher.wait_for_line(talker, 'talker: subscription matched', 60), talker.report()
    assert launcher.wait_for_line(listener, "I heard: 'Hello World: 2'", 30), listener.report()

    # graph: both nodes, the /chatter publisher and subscription, the pair's path.
    g = run_cli(launcher, 'graph')
    print(g.stdout)
    assert g.returncode == 0, g.stderr
    out = g.stdout
    assert re.search(r'^  node /talker ', out, re.M), out
    assert re.search(r'^  node /listener ', out, re.M), out
    assert re.search(r'^      /chatter  \[std_msgs/msg/String\]', out, re.M), out
    assert 'publishers:' in out and 'subscriptions:' in out, out
    pair = [line for line in out.splitlines() if line.strip().startswith('/chatter: /talker')]
    assert len(pair) == 1 and '/listener' in pair[0] and pair[0].endswith('shared memory'), out
    # The tool itself is no ROS node: the listener's own graph must not change (checked here as
    # the tool's own view: two nodes only).
    assert out.startswith(f'domain {launcher.domain}: 2 nodes in 2 processes'), out

    t = run_cli(launcher, 'topics')
    assert t.returncode == 0, t.stderr
    assert re.search(r'/chatter  \[std_msgs/msg/String\]  1 pub / 1 sub', t.stdout), t.stdout

    # hz: about 1 / PERIOD.
    h = run_cli(launcher, 'hz', '/chatter', '--seconds', 2)
    print(h.stdout, h.stderr)
    assert h.returncode == 0, h.stderr
    m = re.search(r'average rate: ([\d.]+) Hz', h.stdout)
    assert m, h.stdout
    rate = float(m.group(1))
    assert 0.7 / PERIOD <= rate <= 1.3 / PERIOD, h.stdout
    assert re.search(r'\[1/2 s\] \d+ messages', h.stderr), f'no progress line:\n{h.stderr}'

    # clean: SIGKILL both nodes (a live rmw_shm_rs process would clean up after the dead one by
    # itself within 0.5 s), then the tool removes the listener's leftovers.
    listener_pid = node_pid(out, '/listener')
    talker_pid = node_pid(out, '/talker')
    assert listener_pid and talker_pid, out
    mapped = iox2_files_of(listener_pid)
    assert mapped, f'the listener (pid {listener_pid}) maps no iceoryx2 file?'
    for p in (talker, listener):
        os.killpg(p.popen.pid, signal.SIGKILL)
    for p in (talker, listener):
        p.popen.wait(timeout=10)
    deadline = time.monotonic() + 5
    while Path(f'/proc/{listener_pid}').exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    left_before = {f for f in mapped if Path(f).exists()}
    c = run_cli(launcher, 'clean')
    print(c.stdout, c.stderr)
    removed = [line for line in c.stdout.splitlines()
               if line.startswith('removed: ') and f'of pid {listener_pid} ' in line]
    assert removed, f'clean did not report the listener (pid {listener_pid}):\n{c.stdout}\n{c.stderr}'
    assert re.search(r'^removed \d+ of \d+ dead nodes: \d+ files from /dev/shm', c.stdout, re.M), \
        c.stdout
    leftovers = {f for f in mapped if Path(f).exists()}
    assert not leftovers, (f'after clean, /dev/shm still holds {sorted(leftovers)} of the listener '
                           f'(it had {len(left_before)} of {len(mapped)} files right before)')
    # A second run finds nothing of it any more.
    c2 = run_cli(launcher, 'clean', '--dry-run')
    assert f'of pid {listener_pid} ' not in c2.stdout, c2.stdout
