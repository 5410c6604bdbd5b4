"""Exhaustion (issue 7 item 5): a full /dev/shm and an exhausted loan pool give errors with a clear
message, never a crash, and other topics keep working.

/dev/shm full: the node runs in a private mount namespace (`unshare -m`, root only) whose /dev/shm
is an 8 MiB tmpfs. iceoryx2 zeroes a new segment under a SIGBUS guard, so a segment that does not
fit fails to be created instead of killing the process on first touch. The loan pool:
rmw_shm_rs/tests/loans.rs (RMW_SHM_RS_MAX_LOANS reached -> RMW_RET_ERROR naming the limit).
"""

import os
import shutil

import pytest

SHM_MIB = 8


def _needs_root():
    if os.geteuid() != 0 or not shutil.which('unshare'):
        pytest.skip('needs root and unshare(1) for a private mount namespace with a small /dev/shm')


def test_full_dev_shm_fails_publishes_cleanly_and_other_topics_keep_working(launcher):
    _needs_root()
    # A private /tmp/iceoryx2 too: iceoryx2 keeps its service descriptions there, and they must
    # describe segments of this namespace's /dev/shm only (the rest of /tmp stays: the checkout
    # may live there).
    prefix = ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
              f'mount -t tmpfs -o size={SHM_MIB}m tmpfs /dev/shm && mkdir -p /tmp/iceoryx2 && '
              'mount -t tmpfs tmpfs /tmp/iceoryx2 && exec "$@"', 'sh']
    p = launcher.start('exhaust', 'exhaust_worker.py', '--big-mib', 2 * SHM_MIB, prefix=prefix,
                       extra_env={'RMW_SHM_RS_PATHS': 'shm', 'RMW_SHM_RS_REMOTE': '0'})
    rc = launcher.wait(p, 90)
    out = p.output()
    assert rc == 0, p.report()
    assert 'exhaust: done' in out, p.report()
    for i in range(3):
        assert f'small ok {i}' in out, f'/small stopped working (step {i}):\n{p.report()}'
    big = [ln for ln in out.splitlines() if ln.startswith('big publish')]
    assert big and big[0].startswith('big publish failed: '), p.report()
    # The error says what ran out, in words a user can act on.
    assert 'shared-memory' in big[0], big[0]
    new = [ln for ln in out.splitlines() if ln.startswith('new topic')]
    assert new and new[0].startswith('new topic failed: '), p.report()
    assert 'shared-memory' in new[0], new[0]
